// The latency rollup's bucket of a latency in SQL, for both backends' migrations: the same
// value as latency_bucket() in query.h (below 32 us itself; above, the top 5 significant bits
// kept). A ladder of integer divisions, since neither SQLite 3.40 nor PostgreSQL has a bit
// length function for integers. `v` is a column name, e.g. TINYEDGE_LATENCY_BUCKET_SQL("NEW.latency_us").
#pragma once

// One rung of the ladder a line:
// clang-format off
#define TINYEDGE_LATENCY_BUCKET_SQL(v) \
  "CASE WHEN " v " < 32 THEN " v \
  " WHEN " v " < 64 THEN " v " / 2 * 2" \
  " WHEN " v " < 128 THEN " v " / 4 * 4" \
  " WHEN " v " < 256 THEN " v " / 8 * 8" \
  " WHEN " v " < 512 THEN " v " / 16 * 16" \
  " WHEN " v " < 1024 THEN " v " / 32 * 32" \
  " WHEN " v " < 2048 THEN " v " / 64 * 64" \
  " WHEN " v " < 4096 THEN " v " / 128 * 128" \
  " WHEN " v " < 8192 THEN " v " / 256 * 256" \
  " WHEN " v " < 16384 THEN " v " / 512 * 512" \
  " WHEN " v " < 32768 THEN " v " / 1024 * 1024" \
  " WHEN " v " < 65536 THEN " v " / 2048 * 2048" \
  " WHEN " v " < 131072 THEN " v " / 4096 * 4096" \
  " WHEN " v " < 262144 THEN " v " / 8192 * 8192" \
  " WHEN " v " < 524288 THEN " v " / 16384 * 16384" \
  " WHEN " v " < 1048576 THEN " v " / 32768 * 32768" \
  " WHEN " v " < 2097152 THEN " v " / 65536 * 65536" \
  " WHEN " v " < 4194304 THEN " v " / 131072 * 131072" \
  " WHEN " v " < 8388608 THEN " v " / 262144 * 262144" \
  " WHEN " v " < 16777216 THEN " v " / 524288 * 524288" \
  " WHEN " v " < 33554432 THEN " v " / 1048576 * 1048576" \
  " WHEN " v " < 67108864 THEN " v " / 2097152 * 2097152" \
  " WHEN " v " < 134217728 THEN " v " / 4194304 * 4194304" \
  " WHEN " v " < 268435456 THEN " v " / 8388608 * 8388608" \
  " WHEN " v " < 536870912 THEN " v " / 16777216 * 16777216" \
  " WHEN " v " < 1073741824 THEN " v " / 33554432 * 33554432" \
  " WHEN " v " < 2147483648 THEN " v " / 67108864 * 67108864" \
  " WHEN " v " < 4294967296 THEN " v " / 134217728 * 134217728" \
  " ELSE " v " END"
// clang-format on
