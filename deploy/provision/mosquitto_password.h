// Mosquitto password-file entries as `mosquitto_passwd` (mosquitto 2.x) writes them:
//   <user>:$7$<iterations>$<base64 salt>$<base64 PBKDF2-HMAC-SHA512(password, salt)>
// with a 12-byte salt, 101 iterations and a 64-byte hash. Made here with Mbed TLS, so
// provisioning needs neither the mosquitto_passwd binary nor a password on a command line.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace tinyedge::deploy {

inline constexpr int kMosquittoIterations = 101;
using MosquittoSalt = std::array<uint8_t, 12>;

// The part after "<user>:" for this password and salt.
std::string mosquitto_password_hash(std::string_view password, const MosquittoSalt& salt,
                                    int iterations = kMosquittoIterations);

// A whole line without its newline, with a fresh random salt.
std::string mosquitto_password_entry(std::string_view user, std::string_view password);

// True if `hash` (the part after "<user>:", $7$ form) is `password`'s. Any other form: false.
bool mosquitto_password_matches(std::string_view hash, std::string_view password);

// A fresh random password: 32 characters of [A-Za-z0-9_-] (192 bits).
std::string random_mqtt_password();

}  // namespace tinyedge::deploy
