// A provisioned node's config blob (<dir>/<id>.json from `tinyedge fleet provision`) applied to
// the simulator's options: the node's own broker login, and the broker when none was given.
// The blob names the fleet key the node must trust; a simulator started with other keys is
// refused rather than left to reject every update later.
#pragma once
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "node_firmware/ports/host/virtual_node.h"
#include "ota/signing_key.h"

namespace tinyedge::host {

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
