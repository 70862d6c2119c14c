// MQTT topic names: tinyedge/v1/<node>/up | down | state.
// `state` is retained: the node publishes "online" on connect and its last will says "offline".
#pragma once
#include <cstddef>
#include <optional>
#include <span>
#include <string_view>

namespace tinyedge::protocol {

enum class Channel : uint8_t { kUp, kDown, kState };

inline constexpr std::string_view kTopicPrefix = "tinyedge/v1/";
inline constexpr std::string_view kStateOnline = "online";
inline constexpr std::string_view kStateOffline = "offline";
inline constexpr size_t kMaxNodeIdLength = 32;
// Longest topic: prefix + node id + "/state" + NUL.
inline constexpr size_t kMaxTopicLength = kTopicPrefix.size() + kMaxNodeIdLength + 7;

std::string_view channel_name(Channel channel);

// Node ids are 1..32 characters of [A-Za-z0-9_-]: safe as a topic level and as a client id.
bool is_valid_node_id(std::string_view node_id);

// Writes the NUL-terminated topic into `out`; returns its length, or 0 if the id is invalid or
// `out` too small.
size_t format_topic(std::span<char> out, std::string_view node_id, Channel channel);

// Subscription filter for one channel of every node: "tinyedge/v1/+/up".
size_t format_wildcard_topic(std::span<char> out, Channel channel);

struct TopicParts {
  std::string_view node_id;
  Channel channel;
};
std::optional<TopicParts> parse_topic(std::string_view topic);

}  // namespace tinyedge::protocol
