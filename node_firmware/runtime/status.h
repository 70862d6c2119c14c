// Every runtime call returns a Status: the node never throws and never reads out of bounds.
#pragma once
#include <cstdint>

namespace tinyedge::runtime {

enum class Status : uint8_t {
  kOk,
  kTruncated,           // blob shorter than its header/tables claim
  kBadMagic,            // not a .tem file
  kUnsupportedVersion,  // format version this runtime does not know
  kMisaligned,          // blob, table or data not aligned as the format requires
  kBadTable,            // a table/string/data offset or size points outside the blob
  kTooLarge,            // more tensors/ops/dimensions than the runtime supports
  kBadTensor,           // tensor record inconsistent (type, rank, dims, byte size)
  kBadIndex,            // a tensor index out of range or of the wrong kind
  kBadOp,               // unknown kernel id or wrong operand count
  kBadShape,            // operand shapes do not fit the kernel
  kBadQuantization,     // requantisation table missing, misplaced or out of range
  kBadParams,           // stride/padding/activation/etc. out of range
  kBadDataflow,         // tensor read before written, written twice, output never produced
  kArenaOverlap,        // two live activations share arena bytes
  kArenaOutOfRange,     // an activation lies outside arena_bytes
  kArenaTooSmall,       // caller's arena smaller than the model needs (or misaligned)
  kBadMetadata,         // name/labels/description/front-end record out of range
  kNotInitialised,      // invoke() before a successful init()
};

const char* to_string(Status status);

}  // namespace tinyedge::runtime
