// Unit tests: node-list expansion, and password entries that mosquitto_passwd itself agrees with.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "deploy/command_registry.h"
#include "deploy/provision/mosquitto_password.h"
#include "deploy/provision/node_list.h"

namespace {

using tinyedge::deploy::CommandError;
using tinyedge::deploy::expand_node_list;

TEST(NodeList, ExpandsIdsAndRangesInOrder) {
  EXPECT_EQ(expand_node_list({"cam-1..cam-3", "lab-x"}),
            (std::vector<std::string>{"cam-1", "cam-2", "cam-3", "lab-x"}));
  EXPECT_EQ(expand_node_list({"n8..10"}), (std::vector<std::string>{"n8", "n9", "n10"}));
  EXPECT_EQ(expand_node_list({"n098..n101"}), (std::vector<std::string>{"n098", "n099", "n100", "n101"}));
  EXPECT_EQ(expand_node_list({"a7..a7"}), (std::vector<std::string>{"a7"}));
}

std::string error_of(const std::vector<std::string>& items) {
  try {
    expand_node_list(items);
  } catch (const CommandError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(NodeList, RefusesWhatItCannotExpandByName) {
  EXPECT_EQ(error_of({"cam-3..cam-1"}), "range 'cam-3..cam-1' is empty (it counts down)");
  EXPECT_EQ(error_of({}), "no node ids given");
  EXPECT_EQ(error_of({""}), "empty node id in the list (two commas, or a trailing comma?)");
  EXPECT_NE(error_of({"a/b"}).find("invalid node id 'a/b'"), std::string::npos);
  EXPECT_NE(error_of({"x1..x2", "x2"}).find("'x2' is listed twice"), std::string::npos);
  EXPECT_NE(error_of({"cam-1..dog-3"}).find("must be 'cam-<number>'"), std::string::npos);
  EXPECT_NE(error_of({"cam-1..cam-99999999999999999999999"}).find("is not a number"), std::string::npos);
  EXPECT_NE(error_of({"c0..c100000"}).find("more than 100000"), std::string::npos);
  // A range whose ids outgrow the 32-character limit is refused, naming the id and the range.
  EXPECT_NE(error_of({std::string(31, 'a') + "9..11"}).find("(from '"), std::string::npos);
}

TEST(MosquittoPassword, EntryMatchesItsPasswordOnly) {
  const std::string entry = tinyedge::deploy::mosquitto_password_entry("cam-1", "s3cret");
  ASSERT_EQ(entry.rfind("cam-1:$7$101$", 0), 0u) << entry;
  const std::string hash = entry.substr(6);
  EXPECT_TRUE(tinyedge::deploy::mosquitto_password_matches(hash, "s3cret"));
  EXPECT_FALSE(tinyedge::deploy::mosquitto_password_matches(hash, "s3cret "));
  EXPECT_FALSE(tinyedge::deploy::mosquitto_password_matches("$6$xx$yy", "s3cret"));
  // Two entries for one password differ: each has its own salt.
  EXPECT_NE(tinyedge::deploy::mosquitto_password_entry("cam-1", "s3cret"), entry);
}

// mosquitto_passwd's own output, checked with our PBKDF2-SHA512: the same format bit for bit.
TEST(MosquittoPassword, AgreesWithMosquittoPasswd) {
  const auto file = std::filesystem::temp_directory_path() / ("tinyedge_passwd_" + std::to_string(::getpid()));
  std::filesystem::remove(file);
  const std::string command = "mosquitto_passwd -c -b " + file.string() + " alice 'correct horse' 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0) << "mosquitto_passwd (Debian package mosquitto) is needed";
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  std::filesystem::remove(file);
  ASSERT_EQ(line.rfind("alice:$7$", 0), 0u) << line;
  EXPECT_TRUE(tinyedge::deploy::mosquitto_password_matches(line.substr(6), "correct horse")) << line;
  EXPECT_FALSE(tinyedge::deploy::mosquitto_password_matches(line.substr(6), "correct horsE"));
  EXPECT_EQ(tinyedge::deploy::random_mqtt_password().size(), 32u);
}

}  // namespace
