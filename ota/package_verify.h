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
  // False for an encrypted package checked without its decryption key: signature, manifest rules
  // and wire size hold, and the payload's digest and identity are left to the nodes (which decrypt
  // it). The gateway stores and serves encrypted packages this way without ever seeing the model.
  bool payload_checked = true;

  bool ok() const { return reason == Reason::kOk; }
};

// Signature (against `keys`), manifest rules, payload size and SHA-256, and the payload's .tem
// header naming the manifest's model id and version. A delta (PAYLOAD_LZ_DELTA) is decoded against
// `base`, the installed bytes of its base model; without them, or with another model's, it is
// refused with kBaseMismatch. An encrypted package is decrypted with `decryption`; for another key
// it is refused with kNotForThisKey, without one its payload is not checked (payload_checked).
PackageVerdict verify_package(const Package& package, std::span<const TrustedKey> keys,
                              std::span<const uint8_t> base = {}, const DecryptionKey* decryption = nullptr);

}  // namespace tinyedge::ota
