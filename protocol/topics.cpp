#include "protocol/topics.h"

namespace tinyedge::protocol {

std::string_view channel_name(Channel channel) {
  switch (channel) {
    case Channel::kUp: return "up";
    case Channel::kDown: return "down";
    case Channel::kState: return "state";
  }
  return "";
}

bool is_valid_node_id(std::string_view node_id) {
  if (node_id.empty() || node_id.size() > kMaxNodeIdLength) return false;
  for (char c : node_id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

namespace {

size_t join(std::span<char> out, std::string_view level, Channel channel) {
  const std::string_view parts[] = {kTopicPrefix, level, "/", channel_name(channel)};
  size_t length = 0;
  for (auto part : parts) length += part.size();
  if (length + 1 > out.size()) return 0;
  size_t pos = 0;
  for (auto part : parts) {
    for (char c : part) out[pos++] = c;
  }
  out[pos] = '\0';
  return length;
}

}  // namespace

size_t format_topic(std::span<char> out, std::string_view node_id, Channel channel) {
  if (!is_valid_node_id(node_id)) return 0;
  return join(out, node_id, channel);
}

size_t format_wildcard_topic(std::span<char> out, Channel channel) { return join(out, "+", channel); }

std::optional<TopicParts> parse_topic(std::string_view topic) {
  if (!topic.starts_with(kTopicPrefix)) return std::nullopt;
  topic.remove_prefix(kTopicPrefix.size());
  const size_t slash = topic.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const std::string_view node_id = topic.substr(0, slash);
  const std::string_view channel = topic.substr(slash + 1);
  if (!is_valid_node_id(node_id)) return std::nullopt;
  for (Channel c : {Channel::kUp, Channel::kDown, Channel::kState}) {
    if (channel == channel_name(c)) return TopicParts{node_id, c};
  }
  return std::nullopt;
}

}  // namespace tinyedge::protocol
