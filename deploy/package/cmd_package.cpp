// `tinyedge package create|verify|inspect`: signed OTA packages (.tep).
#include <cstdio>
#include <iostream>
#include <memory>

#include "deploy/command_registry.h"
#include "deploy/package/package_model_info.h"
#include "ota/package.h"
#include "ota/package_verify.h"
#include "ota/payload_identity.h"
#include "ota/signing_key.h"

namespace tinyedge::deploy {
namespace {

struct CreateOptions {
  std::string model, key, self_test, out, name;
  uint32_t version = 0;
  std::vector<std::string> hardware;
  uint32_t min_firmware = 0;
  std::optional<uint32_t> model_id, arena_bytes;
  bool compress = false;
  uint32_t block_bytes = 512;
  std::string from;            // a package of the base model: write a delta against its installed bytes
  std::string encrypt_for;     // the fleet encryption public key (PEM)
  std::string decryption_key;  // to read an encrypted base package (--from)
};

std::optional<ota::DecryptionKey> read_decryption_key(const std::string& path);

std::string read_text(const std::string& path) {
  const auto bytes = ota::read_file(path);
  return std::string(bytes.begin(), bytes.end());
}

// The installed bytes of the model a base package carries (what nodes on it run), checked against
// its own manifest's digest so a delta is never made against bytes no node has.
// An encrypted base is opened with `decryption_key` (the fleet's; the packer needs the base's plaintext).
std::vector<uint8_t> base_model(const std::string& path, const std::string& decryption_key = "") {
  const ota::Package base = ota::read_package_file(path);
  const ota::Manifest m = ota::manifest_of(base);
  if (m.encoding == tinyedge_v1_PayloadEncoding_PAYLOAD_LZ_DELTA)
    throw CommandError(path + " is itself a delta package: give the base's full or compressed package");
  const auto decryption = read_decryption_key(decryption_key);
  std::vector<uint8_t> installed;
  try {
    installed = ota::installed_payload(base, {}, decryption ? &*decryption : nullptr);
  } catch (const ota::PackageError& e) {
    throw CommandError(path + ": " + e.what());
  }
  if (!ota::digest_equal(ota::sha256(installed), std::span(m.payload_sha256.bytes, m.payload_sha256.size)))
    throw CommandError(path + ": its payload is not the model its manifest names (SHA-256 mismatch)");
  return installed;
}

void create(const CreateOptions& options) {
  ota::PackageSpec spec;
  spec.payload = ota::read_file(options.model);
  const ModelInfo info = read_model_info(spec.payload);
  if (!info.known && !options.arena_bytes) throw CommandError("this build cannot load .tem models: give --arena-bytes");
  // The node runs, reports and counts anti-rollback for the model id in the payload's header:
  // the manifest must say the same (ota::create_package refuses it too, less specifically).
  ota::PayloadIdentity payload;
  if (ota::read_payload_identity(spec.payload, payload) != ota::Reason::kOk)
    throw CommandError(options.model + " is not a .tem model (no TEM1 header)");
  if (options.model_id && *options.model_id != payload.model_id)
    throw CommandError("model mismatch: " + options.model + " is model " + std::to_string(payload.model_id) +
                       ", not --model-id " + std::to_string(*options.model_id) +
                       " (a package must carry the model id of its payload)");
  spec.model_id = payload.model_id;
  spec.arena_bytes = options.arena_bytes.value_or(info.arena_bytes);
  spec.model_name = !options.name.empty() ? options.name : info.name;
  // The node reports the version its model carries: a package must not claim another one.
  if (payload.version != options.version)
    throw CommandError(options.model + " is version " + std::to_string(payload.version) + ", not " +
                       std::to_string(options.version) + " (import or train it with --version " +
                       std::to_string(options.version) + ")");
  spec.version = options.version;
  spec.hardware = options.hardware;
  spec.min_firmware = options.min_firmware;
  if (!options.self_test.empty()) {
    spec.self_test_input = ota::read_file(options.self_test);
    spec.self_test_output_sha256 = run_self_test(spec.payload, spec.self_test_input);
  }
  if (!options.from.empty()) {
    if (options.compress) throw CommandError("--from writes a delta (itself compressed): drop --compress");
    spec.base = base_model(options.from, options.decryption_key);
    spec.encoding = tinyedge_v1_PayloadEncoding_PAYLOAD_LZ_DELTA;
    spec.wire_block_bytes = options.block_bytes;
  }
  if (options.compress) {
    spec.encoding = tinyedge_v1_PayloadEncoding_PAYLOAD_LZ_BLOCKS;
    spec.wire_block_bytes = options.block_bytes;
  }
  if (!options.encrypt_for.empty()) {
    try {
      spec.encrypt_for = ota::public_key_from_pem(read_text(options.encrypt_for)).point;
    } catch (const ota::KeyError& e) {
      throw CommandError("--encrypt-for " + options.encrypt_for + ": " + e.what());
    }
  }
  const auto key = ota::SigningKey::from_pem(read_text(options.key));
  ota::Package package = ota::create_package(spec, key);
  const size_t compressed = package.payload.size();
  const bool plain_is_smaller = options.compress && compressed >= spec.payload.size();
  if (plain_is_smaller) {
    // Dense weights the LZ blocks cannot shrink: the plain package costs fewer bytes on the wire.
    spec.encoding = tinyedge_v1_PayloadEncoding_PAYLOAD_PLAIN;
    package = ota::create_package(spec, key);
  }
  ota::write_package_file(options.out, package);
  std::cout << "wrote " << options.out << ": model " << spec.model_id << " v" << spec.version << ", payload "
            << spec.payload.size() << " bytes";
  char ratio[16];
  std::snprintf(ratio, sizeof(ratio), "%.1f",
                100.0 * static_cast<double>(compressed) / static_cast<double>(spec.payload.size()));
  if (plain_is_smaller) {
    std::cout << " (plain: compressed it would be " << compressed << " bytes, " << ratio << " %)";
  } else if (options.compress) {
    std::cout << " (" << compressed << " on the wire, compressed to " << ratio << " % in " << options.block_bytes
              << "-byte blocks)";
  } else if (!options.from.empty()) {
    std::cout << " (delta against " << options.from << ": " << compressed << " on the wire, " << ratio
              << " % of the model, in " << options.block_bytes << "-byte blocks)";
  }
  if (spec.encrypt_for)
    std::cout << ", encrypted for key " << ota::key_id_hex(ota::key_id_of(*spec.encrypt_for)) << " (AES-128-CTR)";
  std::cout << ", manifest " << package.manifest.size() << " bytes, signed by " << ota::key_id_hex(key.key_id())
            << "\n";
}

std::optional<ota::DecryptionKey> read_decryption_key(const std::string& path) {
  if (path.empty()) return std::nullopt;
  try {
    return ota::decryption_key_from_pem(read_text(path));
  } catch (const ota::KeyError& e) {
    throw CommandError("--decryption-key " + path + ": " + e.what());
  }
}

void verify(const std::string& path, const std::string& pub, const std::string& base_path,
            const std::string& decryption_path) {
  const ota::Package package = ota::read_package_file(path);
  const ota::TrustedKey key = ota::public_key_from_pem(read_text(pub));
  const auto decryption = read_decryption_key(decryption_path);
  const std::vector<uint8_t> base = base_path.empty() ? std::vector<uint8_t>{} : base_model(base_path, decryption_path);
  // The same verification the gateway's model registry runs on an upload.
  const ota::PackageVerdict verdict =
      ota::verify_package(package, std::span(&key, 1), base, decryption ? &*decryption : nullptr);
  if (!verdict.ok()) throw CommandError(path + ": " + verdict.detail);
  std::cout << path << ": OK (model " << verdict.manifest.model_id << " v" << verdict.manifest.version << ", signed by "
            << ota::key_id_hex(key.id);
  if (!verdict.payload_checked)
    std::cout << "; payload encrypted for key "
              << ota::hex(std::span(verdict.manifest.encryption_key_id.bytes, verdict.manifest.encryption_key_id.size))
              << ", its SHA-256 not checked without --decryption-key";
  std::cout << ")\n";
}

void inspect(const std::string& path) {
  const ota::Package package = ota::read_package_file(path);
  const ota::Manifest m = ota::manifest_of(package);
  std::cout << "package       " << path << "\n"
            << "format        " << m.format << "\n"
            << "model id      " << m.model_id << "\n"
            << "model name    " << m.model_name << "\n"
            << "version       " << m.version << "\n"
            << "payload       " << m.payload_size << " bytes, sha256 "
            << ota::hex(std::span(m.payload_sha256.bytes, m.payload_sha256.size)) << "\n"
            << "encoding      ";
  if (m.encoding == tinyedge_v1_PayloadEncoding_PAYLOAD_PLAIN) {
    std::cout << "plain\n";
  } else if (m.encoding == tinyedge_v1_PayloadEncoding_PAYLOAD_LZ_BLOCKS) {
    std::cout << "lz-blocks, " << m.wire_size << " bytes on the wire in " << m.wire_block_bytes << "-byte blocks\n";
  } else if (m.encoding == tinyedge_v1_PayloadEncoding_PAYLOAD_LZ_DELTA) {
    std::cout << "lz-delta, " << m.wire_size << " bytes on the wire in " << m.wire_block_bytes << "-byte blocks\n"
              << "delta base    sha256 " << ota::hex(std::span(m.base_sha256.bytes, m.base_sha256.size))
              << " (nodes running another model refuse it: base_mismatch)\n";
  } else {
    std::cout << "unknown (" << m.encoding << ")\n";
  }
  std::cout << "encryption    ";
  if (ota::is_encrypted(m)) {
    std::cout << "AES-128-CTR, content key wrapped (ECIES P-256) for key "
              << ota::hex(std::span(m.encryption_key_id.bytes, m.encryption_key_id.size))
              << " (nodes without it refuse: not_for_this_key)\n";
  } else {
    std::cout << "none\n";
  }
  std::cout << "hardware      ";
  if (m.hardware_count == 0) std::cout << "any";
  for (pb_size_t i = 0; i < m.hardware_count; ++i) std::cout << (i ? ", " : "") << m.hardware[i];
  std::cout << "\n"
            << "min firmware  " << m.min_firmware << "\n"
            << "arena         " << m.arena_bytes << " bytes\n"
            << "self-test     ";
  if (m.self_test_input.size == 0) {
    std::cout << "none\n";
  } else {
    std::cout << m.self_test_input.size << " input bytes, output sha256 "
              << ota::hex(std::span(m.self_test_output_sha256.bytes, m.self_test_output_sha256.size)) << "\n";
  }
  std::cout << "key id        " << ota::hex(std::span(m.key_id.bytes, m.key_id.size)) << "\n"
            << "created at    " << m.created_at << "\n"
            << "manifest      " << package.manifest.size() << " bytes, signature " << package.signature.size()
            << " bytes (not verified: use `package verify --pub`)\n";
}

// Library errors become user-facing errors.
template <typename F>
auto user_errors(F f) {
  return [f] {
    try {
      f();
    } catch (const ota::PackageError& e) {
      throw CommandError(e.what());
    } catch (const ota::KeyError& e) {
      throw CommandError(e.what());
    }
  };
}

void install(CLI::App& app) {
  auto* package = app.add_subcommand("package", "Signed OTA model packages (.tep)");
  package->require_subcommand(1);

  auto c = std::make_shared<CreateOptions>();
  auto* create_cmd = package->add_subcommand("create", "Sign a .tem model into a package");
  create_cmd->add_option("--model", c->model, ".tem model file")->required()->check(CLI::ExistingFile);
  create_cmd->add_option("--version", c->version, "Model version (anti-rollback: must increase)")
      ->required()
      ->check(CLI::Range(1u, UINT32_MAX));
  create_cmd->add_option("--key", c->key, "Private signing key (PEM)")->required()->check(CLI::ExistingFile);
  create_cmd->add_option("--self-test", c->self_test, "Golden input for the on-device self-test")
      ->check(CLI::ExistingFile);
  create_cmd->add_option("--hardware", c->hardware, "Hardware ids the model may run on (default: any)");
  create_cmd->add_option("--min-firmware", c->min_firmware, "Lowest node firmware version");
  create_cmd->add_option("--model-id", c->model_id, "Expected model id (refused unless the .tem's header says it)");
  create_cmd->add_option("--arena-bytes", c->arena_bytes, "Override the arena size from the .tem");
  create_cmd->add_option("--name", c->name, "Override the model name");
  create_cmd->add_flag("--compress", c->compress,
                       "Compress the payload on the wire (LZ blocks a node inflates while writing its slot); "
                       "left plain when that is not smaller");
  create_cmd
      ->add_option("--from,--base", c->from,
                   "Package of the model nodes run now: write a delta against it (only nodes on that model "
                   "can install it)")
      ->check(CLI::ExistingFile);
  create_cmd->add_option("--block-bytes", c->block_bytes, "Wire block size of a compressed or delta payload")
      ->check(CLI::IsMember({128u, 256u, 512u}));
  create_cmd
      ->add_option("--encrypt-for", c->encrypt_for,
                   "Fleet encryption PUBLIC key (keys generate --encryption's .pub): encrypt the payload for it")
      ->check(CLI::ExistingFile);
  create_cmd
      ->add_option("--decryption-key", c->decryption_key, "Fleet decryption key, to read an encrypted --from package")
      ->check(CLI::ExistingFile);
  create_cmd->add_option("-o,--out", c->out, "Package file to write")->required();
  create_cmd->callback(user_errors([c] { create(*c); }));

  auto pub = std::make_shared<std::string>();
  auto file = std::make_shared<std::string>();
  auto* verify_cmd = package->add_subcommand("verify", "Check a package's signature and payload");
  verify_cmd->add_option("package", *file, "Package file")->required()->check(CLI::ExistingFile);
  verify_cmd->add_option("--pub", *pub, "Public key (PEM)")->required()->check(CLI::ExistingFile);
  auto base = std::make_shared<std::string>();
  verify_cmd->add_option("--base", *base, "Package of a delta's base model (needed to check a delta)")
      ->check(CLI::ExistingFile);
  auto decryption = std::make_shared<std::string>();
  verify_cmd
      ->add_option("--decryption-key", *decryption,
                   "Fleet decryption key (PEM private): check an encrypted package's payload too")
      ->check(CLI::ExistingFile);
  verify_cmd->callback(user_errors([file, pub, base, decryption] { verify(*file, *pub, *base, *decryption); }));

  auto inspect_file = std::make_shared<std::string>();
  auto* inspect_cmd = package->add_subcommand("inspect", "Print a package's manifest");
  inspect_cmd->add_option("package", *inspect_file, "Package file")->required()->check(CLI::ExistingFile);
  inspect_cmd->callback(user_errors([inspect_file] { inspect(*inspect_file); }));
}

const CommandRegistration kReg{"21-package", &install};

}  // namespace
}  // namespace tinyedge::deploy
