// Node ids as an operator writes them on a command line: ids and ranges, comma separated.
//   cam-1..cam-50   cam-1..50   n001..n120 (zero-padded to the first id's width)   gw-7,lab-x
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace tinyedge::deploy {

// Most ids one list may name, so a typo like cam-1..cam-10000000 is refused, not written out.
inline constexpr size_t kMaxProvisionedNodes = 100000;

// Expands every item in order. Throws CommandError naming the item for an invalid id, an empty
// or malformed range, a duplicate, an empty list or more than kMaxProvisionedNodes ids.
std::vector<std::string> expand_node_list(const std::vector<std::string>& items);

}  // namespace tinyedge::deploy
