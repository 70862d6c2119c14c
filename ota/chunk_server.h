// Host side: serves one package to nodes — the UpdateOffer, then a Chunk for every ChunkRequest —
// so tests and tools can drive a node's OTA client without the gateway.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "ota/package.h"
#include "tinyedge.pb.h"

namespace tinyedge::ota {

class ChunkServer {
 public:
  static constexpr uint32_t kMaxChunkBytes = sizeof(tinyedge_v1_Chunk{}.data.bytes);

  // Throws PackageError if chunk_size is 0 or larger than a Chunk can carry.
  ChunkServer(Package package, uint32_t chunk_size, std::optional<SignedRollbackGrant> grant = std::nullopt);

  tinyedge_v1_Downlink offer() const;

  // The Chunk answering `request`; nullopt (and last_error() says why) when the request is for
  // another model/version or outside the payload. Lengths beyond chunk_size are clamped.
  std::optional<tinyedge_v1_Downlink> answer(const tinyedge_v1_ChunkRequest& request);

  const std::string& last_error() const { return last_error_; }
  const Package& package() const { return package_; }
  uint32_t chunk_size() const { return chunk_size_; }
  // The smallest chunk a node takes for this package: an encoded payload travels in whole wire
  // blocks (a node refuses an offer cut finer); a plain one in anything from 1 byte.
  uint32_t min_chunk_size() const;
  uint64_t payload_bytes_served() const { return payload_bytes_served_; }

 private:
  Package package_;
  Manifest manifest_;
  uint32_t chunk_size_;
  std::optional<SignedRollbackGrant> grant_;
  std::string last_error_;
  uint64_t payload_bytes_served_ = 0;
};

}  // namespace tinyedge::ota
