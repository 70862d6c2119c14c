#include "deploy/train/text_trainer.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <stdexcept>

namespace tinyedge::train {
namespace {

// AdamW over one flat parameter array (decoupled weight decay on weights, not biases).
struct Adam {
  std::vector<float> m, v;
  float decay = 0;
  explicit Adam(std::size_t n, float weight_decay) : m(n, 0.0f), v(n, 0.0f), decay(weight_decay) {}
  void step(std::vector<float>& w, const std::vector<float>& g, float lr, int t) {
    constexpr float b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
    const float c1 = 1.0f - std::pow(b1, static_cast<float>(t)), c2 = 1.0f - std::pow(b2, static_cast<float>(t));
    for (std::size_t i = 0; i < w.size(); ++i) {
      m[i] = b1 * m[i] + (1 - b1) * g[i];
      v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
      w[i] -= lr * ((m[i] / c1) / (std::sqrt(v[i] / c2) + eps) + decay * w[i]);
    }
  }
};

// Uniform in [-a, a] from the generator's bits (the same on every standard library).
float uniform(std::mt19937_64& rng, float a) {
  const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53;
  return static_cast<float>((2.0 * u - 1.0) * a);
}

Layer dense(Shape3 in, int out, bool relu) {
  Layer l;
  l.kind = LayerKind::kFullyConnected;
  l.in = in;
  l.out = {1, 1, out};
  l.relu = relu;
  l.weights.assign(static_cast<std::size_t>(out) * in.size(), 0.0f);
  l.bias.assign(static_cast<std::size_t>(out), 0.0f);
  return l;
}

}  // namespace

FloatNet text_net_skeleton(int buckets, int classes, int hidden) {
  if (hidden < 0 || classes < 2 || buckets < 2) throw std::runtime_error("bad text network shape");
  FloatNet net;
  net.arch = hidden > 0 ? "ngram-mlp" : "ngram-linear";
  net.input = {1, 1, buckets};
  // Layer 0: counts -> hidden (ReLU), or straight to the classes when hidden == 0.
  net.layers.push_back(dense(net.input, hidden > 0 ? hidden : classes, hidden > 0));
  if (hidden > 0) net.layers.push_back(dense({1, 1, hidden}, classes, false));
  return net;
}

FloatNet train_text_net(std::span<const SparseCounts> texts, std::span<const int> labels, int buckets, int classes,
                        int hidden, const TrainOptions& o, const ProgressFn& progress) {
  if (texts.empty() || texts.size() != labels.size()) throw std::runtime_error("no training texts");
  std::mt19937_64 rng(o.seed);
  FloatNet net = text_net_skeleton(buckets, classes, hidden);
  const int first_out = net.layers[0].out.c;
  // Each text has ~100 non-zero counts: scale the initial columns for that fan-in, not `buckets`.
  for (auto& w : net.layers[0].weights) w = uniform(rng, 0.1f);
  if (hidden > 0) {
    const float a = std::sqrt(6.0f / static_cast<float>(hidden + classes));
    for (auto& w : net.layers[1].weights) w = uniform(rng, a);
  }
  Layer soft;
  soft.kind = LayerKind::kSoftmax;
  soft.in = soft.out = {1, 1, classes};

  const std::size_t n_layers = net.layers.size();
  std::vector<Adam> adam_w, adam_b;
  std::vector<std::vector<float>> gw(n_layers), gb(n_layers);
  for (std::size_t l = 0; l < n_layers; ++l) {
    adam_w.emplace_back(net.layers[l].weights.size(), 1e-4f);
    adam_b.emplace_back(net.layers[l].bias.size(), 0.0f);
    gw[l].assign(net.layers[l].weights.size(), 0.0f);
    gb[l].assign(net.layers[l].bias.size(), 0.0f);
  }

  std::vector<std::size_t> order(texts.size());
  std::iota(order.begin(), order.end(), 0);
  const int batch = std::max(1, o.batch_size);
  const int batches = static_cast<int>((texts.size() + batch - 1) / batch);
  const std::int64_t total_steps = std::int64_t{batches} * o.epochs;
  std::int64_t step = 0;
  std::vector<float> h(static_cast<std::size_t>(first_out)), logits(static_cast<std::size_t>(classes)),
      d_logits(static_cast<std::size_t>(classes)), d_h(static_cast<std::size_t>(first_out));
  for (int epoch = 1; epoch <= o.epochs; ++epoch) {
    std::shuffle(order.begin(), order.end(), rng);
    double loss_sum = 0;
    std::int64_t correct = 0, seen = 0;
    for (int b = 0; b < batches; ++b) {
      for (auto& g : gw) std::fill(g.begin(), g.end(), 0.0f);
      for (auto& g : gb) std::fill(g.begin(), g.end(), 0.0f);
      const std::size_t lo = static_cast<std::size_t>(b) * batch, hi = std::min(texts.size(), lo + batch);
      for (std::size_t k = lo; k < hi; ++k) {
        const auto& x = texts[order[k]];
        const int y = labels[order[k]];
        const Layer& l0 = net.layers[0];
        // Forward: the sparse product (an embedding bag), then the dense head.
        for (int j = 0; j < first_out; ++j) {
          float s = l0.bias[j];
          const float* row = &l0.weights[static_cast<std::size_t>(j) * buckets];
          for (const auto& [i, v] : x) s += row[i] * v;
          h[j] = hidden > 0 ? std::max(0.0f, s) : s;
        }
        if (hidden > 0) {
          const Layer& l1 = net.layers[1];
          for (int c = 0; c < classes; ++c) {
            float s = l1.bias[c];
            for (int j = 0; j < hidden; ++j) s += l1.weights[static_cast<std::size_t>(c) * hidden + j] * h[j];
            logits[c] = s;
          }
        } else {
          logits.assign(h.begin(), h.end());
        }
        const float top = *std::max_element(logits.begin(), logits.end());
        float z = 0;
        for (int c = 0; c < classes; ++c) z += std::exp(logits[c] - top);
        for (int c = 0; c < classes; ++c) d_logits[c] = std::exp(logits[c] - top) / z - (c == y ? 1.0f : 0.0f);
        loss_sum += -(logits[y] - top - std::log(z));
        correct += std::max_element(logits.begin(), logits.end()) - logits.begin() == y;
        ++seen;
        // Backward (gradients summed over the batch, averaged below).
        if (hidden > 0) {
          const Layer& l1 = net.layers[1];
          std::fill(d_h.begin(), d_h.end(), 0.0f);
          for (int c = 0; c < classes; ++c) {
            gb[1][c] += d_logits[c];
            for (int j = 0; j < hidden; ++j) {
              gw[1][static_cast<std::size_t>(c) * hidden + j] += d_logits[c] * h[j];
              d_h[j] += l1.weights[static_cast<std::size_t>(c) * hidden + j] * d_logits[c];
            }
          }
          for (int j = 0; j < hidden; ++j)
            if (h[j] <= 0) d_h[j] = 0;
        } else {
          d_h.assign(d_logits.begin(), d_logits.end());
        }
        for (int j = 0; j < first_out; ++j) {
          if (d_h[j] == 0) continue;
          gb[0][j] += d_h[j];
          float* row = &gw[0][static_cast<std::size_t>(j) * buckets];
          for (const auto& [i, v] : x) row[i] += d_h[j] * v;
        }
      }
      const float inv = 1.0f / static_cast<float>(hi - lo);
      const double lr = o.learning_rate * 0.5 * (1.0 + std::cos(M_PI * static_cast<double>(step) / total_steps));
      ++step;
      for (std::size_t l = 0; l < n_layers; ++l) {
        for (auto& g : gw[l]) g *= inv;
        for (auto& g : gb[l]) g *= inv;
        adam_w[l].step(net.layers[l].weights, gw[l], static_cast<float>(lr), static_cast<int>(step));
        adam_b[l].step(net.layers[l].bias, gb[l], static_cast<float>(lr), static_cast<int>(step));
      }
      if (progress)
        progress(epoch, b + 1, batches, loss_sum / static_cast<double>(seen),
                 static_cast<double>(correct) / static_cast<double>(seen));
    }
  }
  net.layers.push_back(soft);
  validate(net);
  return net;
}

}  // namespace tinyedge::train
