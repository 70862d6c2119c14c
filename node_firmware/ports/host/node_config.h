// A provisioned node's config blob (<dir>/<id>.json from `tinyedge fleet provision`) applied to
// the simulator's options: the node's own broker login, and the broker when none was given.
// The blob names the fleet key the node must trust; a simulator started with other keys is
// refused rather than left to reject every update later. A blob carrying the fleet's payload
// decryption key (decryption_key: the P-256 scalar in hex, decryption_key_id: its key id) gives the
// node that key; a malformed one is refused, naming the field.
#pragma once
#include <array>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "node_firmware/ports/host/virtual_node.h"
#include "ota/signing_key.h"

namespace tinyedge::host {

// The blob's decryption key fields; throws runtime_error naming the field that is wrong.
inline ota::DecryptionKey blob_decryption_key(const nlohmann::json& blob) {
  if (!blob.at("decryption_key").is_string()) throw std::runtime_error("decryption_key is not a string of hex digits");
  if (!blob.contains("decryption_key_id") || !blob.at("decryption_key_id").is_string()) {
    throw std::runtime_error("decryption_key_id is missing or not a string (the id of its decryption_key)");
  }
  const std::string hex = blob.at("decryption_key").get<std::string>();
  if (hex.size() != 2 * ota::kPrivateScalarBytes ||
      hex.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
    throw std::runtime_error("decryption_key is not a P-256 private key (64 hex digits)");
  }
  std::array<uint8_t, ota::kPrivateScalarBytes> scalar{};
  for (size_t i = 0; i < scalar.size(); ++i)
    scalar[i] = static_cast<uint8_t>(std::stoul(hex.substr(2 * i, 2), nullptr, 16));
  ota::DecryptionKey key;
  try {
    key = ota::decryption_key_from_scalar(scalar);
  } catch (const ota::KeyError& e) {
    throw std::runtime_error(std::string("decryption_key: ") + e.what());
  }
  const std::string id = blob.at("decryption_key_id").get<std::string>();
  if (ota::key_id_hex(key.id) != id) {
    throw std::runtime_error("decryption_key_id " + id + " is not the id of its decryption_key (" +
                             ota::key_id_hex(key.id) + ")");
  }
  return key;
}

// `options` starts as the fleet-wide options; returns them with this node's login filled in.
inline FleetOptions apply_node_config(const std::filesystem::path& dir, const std::string& node_id,
                                      FleetOptions options, bool broker_given) {
  const auto path = dir / (node_id + ".json");
  std::ifstream in(path);
  if (!in) throw std::runtime_error("node " + node_id + ": no config blob " + path.string());
  nlohmann::json blob;
  try {
    blob = nlohmann::json::parse(in);
    if (blob.at("node_id").get<std::string>() != node_id) {
      throw std::runtime_error("it is node " + blob.at("node_id").get<std::string>() + "'s");
    }
    options.username = blob.at("username").get<std::string>();
    options.password = blob.at("password").get<std::string>();
    if (!broker_given) options.broker_url = blob.at("broker").get<std::string>();
    if (blob.contains("decryption_key")) options.decryption_key = blob_decryption_key(blob);
    const std::string key_id = blob.at("fleet_key_id").get<std::string>();
    bool trusted = false;
    for (const auto& key : options.keys) trusted = trusted || ota::key_id_hex(key.id) == key_id;
    if (!trusted) {
      throw std::runtime_error("it trusts fleet key " + key_id + ", which no --trust-key file holds");
    }
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error("node " + node_id + ": config blob " + path.string() + " is malformed: " + e.what());
  } catch (const std::runtime_error& e) {
    throw std::runtime_error("node " + node_id + ": config blob " + path.string() + ": " + e.what());
  }
  return options;
}

}  // namespace tinyedge::host
