// Host side: the one check of a whole package (.tep) that `tinyedge package verify` and the
// gateway's model registry both run, so the two can never disagree on what a valid package is.
// The node runs the same rules in its own order (ota_client): signature before download, hash
// and payload identity after.
#pragma once
#include <span>
#include <string>

#include "ota/keys.h"
#include "ota/manifest.h"
#include "ota/package.h"
#include "ota/reason.h"

namespace tinyedge::ota {

struct PackageVerdict {
  Reason reason = Reason::kOk;
  std::string detail;               // names the problem for a person ("" when ok)
  Manifest manifest{};              // decoded; trustworthy only when reason == kOk
  const TrustedKey* key = nullptr;  // the key that signed it, when reason == kOk

  bool ok() const { return reason == Reason::kOk; }
};

// Signature (against `keys`), manifest rules, payload size and SHA-256, and the payload's .tem
// header naming the manifest's model id and version. A delta (PAYLOAD_LZ_DELTA) is decoded against
// `base`, the installed bytes of its base model; without them, or with another model's, it is
// refused with kBaseMismatch.
PackageVerdict verify_package(const Package& package, std::span<const TrustedKey> keys,
                              std::span<const uint8_t> base = {});

}  // namespace tinyedge::ota
