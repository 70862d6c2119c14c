#include "dashboard_api/params.h"

#include <gtest/gtest.h>

#include "dashboard_api/request_target.h"

namespace tinyedge::dashboard {
namespace {

const std::vector<ParamSpec> kSpecs = {
    {.name = "node", .type = ParamType::kNodeId},
    {.name = "limit", .type = ParamType::kInteger, .min = 1, .max = 1000},
    {.name = "min_score", .type = ParamType::kNumber, .min = 0, .max = 255},
    {.name = "since", .type = ParamType::kTimestamp},
    {.name = "window", .type = ParamType::kDuration},
    {.name = "format", .type = ParamType::kEnum, .choices = {"json", "csv"}},
    {.name = "must", .type = ParamType::kString, .required = false},
};

std::string error_of(const std::vector<std::pair<std::string, std::string>>& q, const std::vector<ParamSpec>& specs) {
  try {
    Params::validate(q, specs);
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status(), 400);
    return e.what();
  }
  return "";
}

TEST(Params, TypedValuesParse) {
  auto p = Params::validate({{"node", "cam-01"}, {"limit", "50"}, {"min_score", "12.5"}, {"since", "2026-11-25T10:00:00Z"},
                             {"window", "24h"}, {"format", "csv"}},
                            kSpecs);
  EXPECT_EQ(*p.str("node"), "cam-01");
  EXPECT_EQ(*p.integer("limit"), 50);
  EXPECT_DOUBLE_EQ(*p.number("min_score"), 12.5);
  EXPECT_EQ(*p.integer("since"), 1795600800000);
  EXPECT_EQ(*p.integer("window"), 24 * 3600 * 1000);
  EXPECT_FALSE(p.has("must"));
}

TEST(Params, EveryBadValueNamesItsParameter) {
  EXPECT_NE(error_of({{"limit", "0"}}, kSpecs).find("'limit'"), std::string::npos);
  EXPECT_NE(error_of({{"limit", "10x"}}, kSpecs).find("'limit'"), std::string::npos);
  EXPECT_NE(error_of({{"limit", "99999999999999999999999"}}, kSpecs).find("'limit'"), std::string::npos);
  EXPECT_NE(error_of({{"min_score", "nan"}}, kSpecs).find("'min_score'"), std::string::npos);
  EXPECT_NE(error_of({{"min_score", "300"}}, kSpecs).find("'min_score'"), std::string::npos);
  EXPECT_NE(error_of({{"since", "yesterday"}}, kSpecs).find("'since'"), std::string::npos);
  EXPECT_NE(error_of({{"since", "2026-13-01T00:00:00Z"}}, kSpecs).find("'since'"), std::string::npos);
  EXPECT_NE(error_of({{"window", "5y"}}, kSpecs).find("'window'"), std::string::npos);
  EXPECT_NE(error_of({{"window", "9999d"}}, kSpecs).find("'window'"), std::string::npos);
  EXPECT_NE(error_of({{"format", "xml"}}, kSpecs).find("'format'"), std::string::npos);
  EXPECT_NE(error_of({{"node", "../etc"}}, kSpecs).find("'node'"), std::string::npos);
  EXPECT_NE(error_of({{"bogus", "1"}}, kSpecs).find("'bogus'"), std::string::npos);
  EXPECT_NE(error_of({{"limit", "1"}, {"limit", "2"}}, kSpecs).find("more than once"), std::string::npos);
  EXPECT_NE(error_of({}, {{.name = "id", .required = true}}).find("'id': required"), std::string::npos);
}

TEST(Params, TimestampsAcceptOffsetsAndFractions) {
  EXPECT_EQ(parse_timestamp_ms("1700000000123"), 1700000000123);
  EXPECT_EQ(parse_timestamp_ms("1970-01-01T00:00:01.5Z"), 1500);
  EXPECT_EQ(parse_timestamp_ms("1970-01-01T01:00:00+01:00"), 0);
  EXPECT_FALSE(parse_timestamp_ms("-5"));
  EXPECT_FALSE(parse_timestamp_ms("1970-01-01T00:00:00"));
}

TEST(RequestTarget, DecodesAndRefusesTraversal) {
  std::string why;
  auto t = parse_request_target("/api/v1/events?node=a%2Db&label=t+shirt&&x=", why);
  ASSERT_TRUE(t) << why;
  EXPECT_EQ(t->path, "/api/v1/events");
  ASSERT_EQ(t->query.size(), 3u);
  EXPECT_EQ(t->query[0].second, "a-b");
  EXPECT_EQ(t->query[1].second, "t shirt");
  for (const char* bad : {"/../etc/passwd", "/a/%2e%2e/b", "/static/..%2f..%2fetc", "/a%00b", "/a%0d%0aX: y", "/a%zz",
                          "relative", "/a\\b", "//etc/passwd", "/x?a=%"}) {
    EXPECT_FALSE(parse_request_target(bad, why)) << bad;
  }
}

}  // namespace
}  // namespace tinyedge::dashboard
