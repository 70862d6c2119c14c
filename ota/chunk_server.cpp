#include "ota/chunk_server.h"

#include <algorithm>

namespace tinyedge::ota {
namespace {

template <typename Field>
void fill(Field& field, const std::vector<uint8_t>& bytes) {
  if (bytes.size() > sizeof(field.bytes)) throw PackageError("field does not fit an UpdateOffer");
  std::copy(bytes.begin(), bytes.end(), field.bytes);
  field.size = static_cast<pb_size_t>(bytes.size());
}

}  // namespace

ChunkServer::ChunkServer(Package package, uint32_t chunk_size, std::optional<SignedRollbackGrant> grant)
    : package_(std::move(package)),
      manifest_(manifest_of(package_)),
      chunk_size_(chunk_size),
      grant_(std::move(grant)) {
  if (chunk_size_ == 0 || chunk_size_ > kMaxChunkBytes)
    throw PackageError("chunk size must be 1.." + std::to_string(kMaxChunkBytes));
}

uint32_t ChunkServer::min_chunk_size() const {
  return manifest_.encoding == tinyedge_v1_PayloadEncoding_PAYLOAD_PLAIN ? 1 : manifest_.wire_block_bytes;
}

tinyedge_v1_Downlink ChunkServer::offer() const {
  tinyedge_v1_Downlink down = tinyedge_v1_Downlink_init_zero;
  down.which_payload = tinyedge_v1_Downlink_offer_tag;
  tinyedge_v1_UpdateOffer& offer = down.payload.offer;
  fill(offer.manifest, package_.manifest);
  fill(offer.signature, package_.signature);
  offer.chunk_size = chunk_size_;
  if (grant_) {
    fill(offer.rollback_grant, grant_->grant);
    fill(offer.rollback_signature, grant_->signature);
  }
  return down;
}

std::optional<tinyedge_v1_Downlink> ChunkServer::answer(const tinyedge_v1_ChunkRequest& request) {
  if (request.model_id != manifest_.model_id || request.version != manifest_.version) {
    last_error_ = "request for model " + std::to_string(request.model_id) + " v" + std::to_string(request.version) +
                  ", serving " + std::to_string(manifest_.model_id) + " v" + std::to_string(manifest_.version);
    return std::nullopt;
  }
  if (request.offset >= package_.payload.size() || request.length == 0) {
    last_error_ = "request offset " + std::to_string(request.offset) + " length " + std::to_string(request.length) +
                  " is outside the payload of " + std::to_string(package_.payload.size()) + " bytes";
    return std::nullopt;
  }
  const size_t length = std::min<size_t>({request.length, chunk_size_, package_.payload.size() - request.offset});
  tinyedge_v1_Downlink down = tinyedge_v1_Downlink_init_zero;
  down.which_payload = tinyedge_v1_Downlink_chunk_tag;
  tinyedge_v1_Chunk& chunk = down.payload.chunk;
  chunk.model_id = manifest_.model_id;
  chunk.version = manifest_.version;
  chunk.offset = request.offset;
  std::copy_n(package_.payload.begin() + request.offset, length, chunk.data.bytes);
  chunk.data.size = static_cast<pb_size_t>(length);
  payload_bytes_served_ += length;
  return down;
}

}  // namespace tinyedge::ota
