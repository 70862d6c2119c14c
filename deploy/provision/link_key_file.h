// A node's link key as a file: 64 hex digits and a newline, mode 0600 from the first byte.
// `tinyedge keys link` and `tinyedge fleet provision` both write keys through here, so the
// gateway's link_keys directory has one format whoever made the file.
#pragma once
#include <string>

#include "ota/link_proof.h"

namespace tinyedge::deploy {

// 32 bytes from the kernel's CSPRNG; throws CommandError if none is available.
ota::LinkKey random_link_key();

// The file's text: lower-case hex of the key and a newline.
std::string link_key_text(const ota::LinkKey& key);

// Creates `path` (0600, fsynced). Without `replace` an existing file is an error that names it
// (a node already built with that key would be locked out); with it, the old file is replaced.
void write_link_key_file(const std::string& path, const ota::LinkKey& key, bool replace);

}  // namespace tinyedge::deploy
