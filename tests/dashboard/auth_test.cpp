#include "dashboard_api/auth.h"

#include <gtest/gtest.h>

namespace tinyedge::dashboard {
namespace {

TEST(Auth, Sha256MatchesKnownVector) {
  // FIPS 180-2 test vector.
  EXPECT_EQ(to_hex(sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Auth, TokensResolveToTheirRoles) {
  TokenTable t;
  t.add("dash", "viewer", to_hex(sha256("view-secret")));
  t.add("ops", "operator", to_hex(sha256("op-secret")));
  auto v = t.authenticate("Bearer view-secret");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->role, Role::kViewer);
  EXPECT_EQ(v->name, "dash");
  auto o = t.authenticate("bearer op-secret");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->role, Role::kOperator);
  EXPECT_FALSE(t.authenticate("Bearer op-secreT"));
  EXPECT_FALSE(t.authenticate("Basic b3A6c2VjcmV0"));
  EXPECT_FALSE(t.authenticate("Bearer "));
  EXPECT_FALSE(t.authenticate(""));
  EXPECT_FALSE(t.authenticate("Bearer " + to_hex(sha256("op-secret"))));  // the hash itself is no token
}

TEST(Auth, BadConfigurationIsRefused) {
  TokenTable t;
  EXPECT_THROW(t.add("x", "admin", std::string(64, 'a')), std::invalid_argument);
  EXPECT_THROW(t.add("x", "viewer", "abc"), std::invalid_argument);
  EXPECT_THROW(t.add("x", "viewer", std::string(64, 'g')), std::invalid_argument);
  EXPECT_TRUE(t.empty());
}

}  // namespace
}  // namespace tinyedge::dashboard
