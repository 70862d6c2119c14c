// Greedy placement (tried in several orders, best kept): each buffer goes to the candidate offset
// that keeps the arena's high-water mark lowest. Candidates are 0, the end of every placed
// conflicting buffer, and the positions an in-place rule allows.
#include "deploy/model/planner.h"

#include <algorithm>
#include <limits>
#include <numeric>
#include <random>

namespace tinyedge::model {
namespace {

bool live_together(const PlanBuffer& a, const PlanBuffer& b) { return !(a.first > b.last || b.first > a.last); }

// The smallest multiple of a at or above v (v may be negative while the base floats).
int64_t align_up(int64_t v, int64_t a) { return v >= 0 ? (v + a - 1) / a * a : -((-v) / a * a); }
int64_t align_down(int64_t v, int64_t a) { return -align_up(-v, a); }

const InPlaceRule* rule_for(const std::vector<InPlaceRule>& rules, int input, int output) {
  for (const InPlaceRule& r : rules) {
    if (r.input == input && r.output == output) return &r;
  }
  return nullptr;
}

// May buffer `a` at offset oa coexist with buffer `b` at offset ob?
bool compatible(const std::vector<PlanBuffer>& bufs, const std::vector<InPlaceRule>& rules, int a, int64_t oa, int b,
                int64_t ob) {
  if (!live_together(bufs[a], bufs[b])) return true;
  if (oa + bufs[a].bytes <= ob || ob + bufs[b].bytes <= oa) return true;
  auto allowed = [&](int in, int64_t oin, int out, int64_t oout) {
    const InPlaceRule* r = rule_for(rules, in, out);
    if (r == nullptr) return false;
    return r->exact ? oin == oout : oin - oout >= r->gap;
  };
  return allowed(a, oa, b, ob) || allowed(b, ob, a, oa);
}

// With `float_base`, offsets may go negative while placing (the whole plan is shifted to start
// at 0 afterwards): that lets a chain of in-place ops grow downwards from wherever it started.
Plan place(const std::vector<PlanBuffer>& bufs, const std::vector<InPlaceRule>& rules, const std::vector<int>& order,
           bool float_base) {
  Plan plan;
  plan.offsets.assign(bufs.size(), 0);
  std::vector<int64_t> offsets(bufs.size(), 0);
  std::vector<bool> placed(bufs.size(), false);
  int64_t high = 0;
  int64_t low = 0;
  for (int cur : order) {
    std::vector<int64_t> candidates{0};
    for (size_t o = 0; o < bufs.size(); ++o) {
      if (!placed[o] || !live_together(bufs[cur], bufs[o])) continue;
      const int64_t off = offsets[o];
      candidates.push_back(off + bufs[o].bytes);
      if (const InPlaceRule* r = rule_for(rules, static_cast<int>(o), cur)) {
        candidates.push_back(r->exact ? off : off - r->gap);  // cur is the output
      }
      if (const InPlaceRule* r = rule_for(rules, cur, static_cast<int>(o))) {
        candidates.push_back(r->exact ? off : off + r->gap);  // cur is the input
      }
    }
    int64_t best = 0;
    int64_t best_span = std::numeric_limits<int64_t>::max();
    for (int64_t c : candidates) {
      c = align_up(c, bufs[cur].align);
      if (c < 0 && !float_base) continue;
      bool ok = true;
      for (size_t o = 0; o < bufs.size() && ok; ++o) {
        if (placed[o]) ok = compatible(bufs, rules, cur, c, static_cast<int>(o), offsets[o]);
      }
      if (!ok) continue;
      const int64_t span = std::max<int64_t>(high, c + bufs[cur].bytes) - std::min<int64_t>(low, c);
      const auto magnitude = [](int64_t v) { return v < 0 ? -v : v; };
      if (span < best_span || (span == best_span && magnitude(c) < magnitude(best))) {
        best = c;
        best_span = span;
      }
    }
    offsets[cur] = best;  // an offset past every conflict always fits, so a candidate was found
    placed[cur] = true;
    high = std::max<int64_t>(high, best + bufs[cur].bytes);
    low = std::min<int64_t>(low, best);
  }
  // Shifting by a multiple of the widest alignment keeps every offset aligned (int8-only graphs: 1).
  uint32_t widest = 1;
  for (const PlanBuffer& b : bufs) widest = std::max(widest, b.align);
  low = align_down(low, widest);
  for (size_t i = 0; i < bufs.size(); ++i) plan.offsets[i] = static_cast<uint32_t>(offsets[i] - low);
  plan.arena_bytes = static_cast<uint32_t>(high - low);
  return plan;
}

}  // namespace

Plan plan_arena(const std::vector<PlanBuffer>& bufs, const std::vector<InPlaceRule>& rules) {
  std::vector<int> base(bufs.size());
  std::iota(base.begin(), base.end(), 0);
  std::vector<std::vector<int>> orders;
  auto by_size = base;
  std::stable_sort(by_size.begin(), by_size.end(), [&](int a, int b) { return bufs[a].bytes > bufs[b].bytes; });
  orders.push_back(by_size);
  orders.push_back(base);   // execution order
  auto by_pressure = base;  // big and long-lived first
  std::stable_sort(by_pressure.begin(), by_pressure.end(), [&](int a, int b) {
    return int64_t{bufs[a].bytes} * (bufs[a].last - bufs[a].first + 1) >
           int64_t{bufs[b].bytes} * (bufs[b].last - bufs[b].first + 1);
  });
  orders.push_back(by_pressure);
  auto reversed = base;
  std::reverse(reversed.begin(), reversed.end());
  orders.push_back(reversed);
  // A few hundred shuffles of the size order (fixed seed: the plan is reproducible).
  std::mt19937 rng(12345);
  for (int i = 0; i < 300; ++i) {
    auto o = i % 2 ? by_size : base;
    for (size_t k = 0; k + 1 < o.size(); ++k) {
      if (rng() % 3 == 0) std::swap(o[k], o[k + 1 + rng() % std::min<size_t>(3, o.size() - k - 1)]);
    }
    orders.push_back(std::move(o));
  }
  Plan best;
  best.arena_bytes = std::numeric_limits<uint32_t>::max();
  for (const auto& order : orders) {
    for (bool float_base : {false, true}) {
      Plan p = place(bufs, rules, order, float_base);
      if (p.arena_bytes < best.arena_bytes) best = std::move(p);
    }
  }
  if (bufs.empty()) best.arena_bytes = 0;
  return best;
}

}  // namespace tinyedge::model
