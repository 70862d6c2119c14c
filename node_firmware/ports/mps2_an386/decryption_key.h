// The fleet's payload decryption key this image opens encrypted packages with, built in at
// configure time from the node's config blob (-DTINYEDGE_FW_NODE_BLOB=nodes/<id>.json from
// `tinyedge fleet provision --decryption-key`); nullptr without one, and then every encrypted offer
// is refused (OTA_NOT_FOR_THIS_KEY). Kept in flash with the image's other credentials.
#pragma once

#include "ota/payload_cipher.h"

namespace tinyedge::mps2 {

const ota::DecryptionKey* built_in_decryption_key();

}  // namespace tinyedge::mps2
