// Core ML import (`tinyedge model import X.mlmodel --calibration ...`): the test writes real
// .mlmodel files with the protobuf library and holds the imported int8 .tem, run in the node's
// runtime, to a float evaluator of the Core ML graph written here from the format's semantics
// (C,H,W tensors, [out][in][kh][kw] filters), independent of the importer's layout conversions.
#include "deploy/train/coreml_import.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>

#include "coreml_subset.pb.h"
#include "deploy/model/compile.h"
#include "deploy/train/fashion_mnist.h"
#include "deploy/train/runtime_eval.h"
#include "tests/train/cli_run.h"

namespace tinyedge::train {
namespace {

namespace cm = tinyedge::coreml;

bool have_fashion_mnist() { return std::filesystem::exists(kFashionMnistDir); }
#define REQUIRE_FASHION_MNIST()                                                                       \
  if (!have_fashion_mnist()) {                                                                        \
    if (std::getenv("CI")) FAIL() << kFashionMnistDir << " missing under CI (dataset-fashion-mnist)"; \
    GTEST_SKIP() << kFashionMnistDir << " missing (install dataset-fashion-mnist)";                   \
  }

// ---- writing .mlmodel files ----

void fill(cm::WeightParams* w, const std::vector<float>& v) {
  for (float x : v) w->add_floatvalue(x);
}

std::vector<float> random_values(std::mt19937& rng, std::size_t n, float scale) {
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

cm::NeuralNetworkLayer* layer(cm::NeuralNetworkClassifier* nn, const std::string& name, const std::string& in,
                              const std::string& out) {
  auto* l = nn->add_layers();
  l->set_name(name);
  l->add_input(in);
  l->add_output(out);
  return l;
}

// A 28x28 grayscale image classifier shell: input "image", its scaler, ten string labels.
cm::Model image_classifier(float scale, float gray_bias) {
  cm::Model m;
  m.set_specificationversion(4);
  auto* in = m.mutable_description()->add_input();
  in->set_name("image");
  auto* im = in->mutable_type()->mutable_imagetype();
  im->set_width(28);
  im->set_height(28);
  im->set_colorspace(cm::ImageFeatureType::GRAYSCALE);
  auto* out = m.mutable_description()->add_output();
  out->set_name("probs");
  auto* nn = m.mutable_neuralnetworkclassifier();
  auto* pre = nn->add_preprocessing();
  pre->set_featurename("image");
  pre->mutable_scaler()->set_channelscale(scale);
  pre->mutable_scaler()->set_graybias(gray_bias);
  for (const auto& label : fashion_mnist_labels()) nn->mutable_stringclasslabels()->add_vector(label);
  return m;
}

// conv (valid, stride 2) + batchnorm + ReLU, depthwise 3x3 same + ReLU6 (clip 0..6), conv 3x3 same stride 2
// (odd padding) + ReLU, max pool 2x2, channel-first flatten of 8 channels, innerProduct, softmax.
cm::Model small_cnn(std::mt19937& rng) {
  cm::Model m = image_classifier(1.0f / 255.0f, -0.5f);
  auto* nn = m.mutable_neuralnetworkclassifier();
  auto conv = [&](const std::string& name, const std::string& in, const std::string& out, int in_c, int out_c,
                  int groups, int stride, bool same) {
    auto* c = layer(nn, name, in, out)->mutable_convolution();
    c->set_outputchannels(out_c);
    c->set_kernelchannels(in_c / groups);
    c->set_ngroups(groups);
    c->add_kernelsize(3);
    c->add_kernelsize(3);
    c->add_stride(stride);
    c->add_stride(stride);
    if (same)
      c->mutable_same();
    else
      c->mutable_valid();
    c->set_hasbias(true);
    fill(c->mutable_weights(), random_values(rng, out_c * (in_c / groups) * 9, 0.5f));
    fill(c->mutable_bias(), random_values(rng, out_c, 0.1f));
  };
  auto relu = [&](const std::string& name, const std::string& io) {
    layer(nn, name, io, io + "_relu")->mutable_activation()->mutable_relu();
    return io + "_relu";
  };
  conv("conv1", "image", "c1", 1, 6, 1, 2, false);  // 28 -> 13
  auto* bn = layer(nn, "bn1", "c1", "b1")->mutable_batchnorm();
  bn->set_channels(6);
  bn->set_epsilon(1e-3f);
  std::uniform_real_distribution<float> u(0.5f, 1.5f);
  std::vector<float> gamma(6), var(6);
  for (int i = 0; i < 6; ++i) gamma[i] = u(rng), var[i] = u(rng);
  fill(bn->mutable_gamma(), gamma);
  fill(bn->mutable_beta(), random_values(rng, 6, 0.1f));
  fill(bn->mutable_mean(), random_values(rng, 6, 0.1f));
  fill(bn->mutable_variance(), var);
  std::string t = relu("relu1", "b1");
  conv("dw2", t, "c2", 6, 6, 6, 1, true);                              // 13 -> 13
  auto* relu6 = layer(nn, "relu6", "c2", "c2_relu6")->mutable_clip();  // ReLU6 as converters write it
  relu6->set_minval(0.0f);
  relu6->set_maxval(6.0f);
  t = "c2_relu6";
  conv("conv3", t, "c3", 6, 8, 1, 2, true);  // 13 -> 7 (one row/column of padding, bottom-right)
  t = relu("relu3", "c3");
  auto* pool = layer(nn, "pool", t, "p")->mutable_pooling();
  pool->set_type(cm::PoolingLayerParams::MAX);
  pool->add_kernelsize(2);
  pool->add_kernelsize(2);
  pool->add_stride(2);
  pool->add_stride(2);
  pool->mutable_valid();  // 7 -> 3
  layer(nn, "flatten", "p", "f")->mutable_flatten()->set_mode(cm::FlattenLayerParams::CHANNEL_FIRST);
  auto* fc = layer(nn, "fc", "f", "logits")->mutable_innerproduct();
  fc->set_inputchannels(72);
  fc->set_outputchannels(10);
  fc->set_hasbias(true);
  fill(fc->mutable_weights(), random_values(rng, 720, 0.15f));
  fill(fc->mutable_bias(), random_values(rng, 10, 0.1f));
  layer(nn, "softmax", "logits", "probs")->set_softmax("");
  return m;
}

std::vector<std::uint8_t> bytes_of(const cm::Model& m) {
  std::string s;
  EXPECT_TRUE(m.SerializeToString(&s));
  return {s.begin(), s.end()};
}

// ---- the float Core ML evaluator (C,H,W) ----

struct Chw {
  int c = 0, h = 0, w = 0;
  std::vector<float> v;
  float& at(int ci, int y, int x) { return v[(ci * h + y) * w + x]; }
};

std::vector<float> floats(const cm::WeightParams& w) { return {w.floatvalue().begin(), w.floatvalue().end()}; }

int same_out(int in, int stride) { return (in + stride - 1) / stride; }

Chw evaluate(const cm::Model& m, std::span<const std::uint8_t> pixels) {
  const auto& nn = m.neuralnetworkclassifier();
  const auto& sc = nn.preprocessing(0).scaler();
  Chw t{1, 28, 28, {}};
  for (std::uint8_t p : pixels) t.v.push_back(sc.channelscale() * p + sc.graybias());
  std::map<std::string, Chw> named{{"image", t}};  // an add reads two of them by name
  for (const auto& l : nn.layers()) {
    if (l.has_add()) {
      const Chw& a = named.at(l.input(0));
      const Chw& b = named.at(l.input(1));
      t = a;
      for (std::size_t i = 0; i < t.v.size(); ++i) t.v[i] += b.v[i];
    } else if (l.has_convolution()) {
      const auto& c = l.convolution();
      const int k = 3, s = static_cast<int>(c.stride(0)), g = static_cast<int>(c.ngroups());
      const int oc_n = static_cast<int>(c.outputchannels()), kc = static_cast<int>(c.kernelchannels());
      const bool same = c.has_same();
      const int oh = same ? same_out(t.h, s) : (t.h - k) / s + 1, ow = same ? same_out(t.w, s) : (t.w - k) / s + 1;
      const int pad_t = same ? std::max((oh - 1) * s + k - t.h, 0) / 2 : 0;
      const int pad_l = same ? std::max((ow - 1) * s + k - t.w, 0) / 2 : 0;
      const auto w = floats(c.weights()), b = floats(c.bias());
      Chw o{oc_n, oh, ow, std::vector<float>(static_cast<std::size_t>(oc_n * oh * ow))};
      for (int oc = 0; oc < oc_n; ++oc) {
        const int group = oc / (oc_n / g);
        for (int y = 0; y < oh; ++y)
          for (int x = 0; x < ow; ++x) {
            float acc = b[oc];
            for (int i = 0; i < kc; ++i)
              for (int ky = 0; ky < k; ++ky)
                for (int kx = 0; kx < k; ++kx) {
                  const int iy = y * s + ky - pad_t, ix = x * s + kx - pad_l;
                  if (iy < 0 || ix < 0 || iy >= t.h || ix >= t.w) continue;
                  acc += w[((oc * kc + i) * k + ky) * k + kx] * t.at(group * kc + i, iy, ix);
                }
            o.at(oc, y, x) = acc;
          }
      }
      t = o;
    } else if (l.has_batchnorm()) {
      const auto& bn = l.batchnorm();
      const auto g = floats(bn.gamma()), be = floats(bn.beta()), mu = floats(bn.mean()), var = floats(bn.variance());
      for (int ci = 0; ci < t.c; ++ci)
        for (int i = 0; i < t.h * t.w; ++i) {
          float& v = t.v[ci * t.h * t.w + i];
          v = g[ci] * (v - mu[ci]) / std::sqrt(var[ci] + bn.epsilon()) + be[ci];
        }
    } else if (l.has_activation()) {
      for (float& v : t.v) v = std::max(v, 0.0f);
    } else if (l.has_clip()) {
      for (float& v : t.v) v = std::clamp(v, l.clip().minval(), l.clip().maxval());
    } else if (l.has_pooling()) {
      const int k = 2, s = 2, oh = (t.h - k) / s + 1, ow = (t.w - k) / s + 1;
      Chw o{t.c, oh, ow, std::vector<float>(static_cast<std::size_t>(t.c * oh * ow))};
      for (int ci = 0; ci < t.c; ++ci)
        for (int y = 0; y < oh; ++y)
          for (int x = 0; x < ow; ++x) {
            float mx = -INFINITY;
            for (int ky = 0; ky < k; ++ky)
              for (int kx = 0; kx < k; ++kx) mx = std::max(mx, t.at(ci, y * s + ky, x * s + kx));
            o.at(ci, y, x) = mx;
          }
      t = o;
    } else if (l.has_flatten()) {
      t = {static_cast<int>(t.v.size()), 1, 1, t.v};  // C,H,W order is already the flat order
    } else if (l.has_innerproduct()) {
      const auto& ip = l.innerproduct();
      const auto w = floats(ip.weights()), b = floats(ip.bias());
      const int n_out = static_cast<int>(ip.outputchannels()), n_in = static_cast<int>(ip.inputchannels());
      Chw o{n_out, 1, 1, std::vector<float>(static_cast<std::size_t>(n_out))};
      for (int j = 0; j < n_out; ++j) {
        float acc = b[j];
        for (int i = 0; i < n_in; ++i) acc += w[j * n_in + i] * t.v[i];
        o.v[j] = acc;
      }
      t = o;
    } else if (l.layer_case() == cm::NeuralNetworkLayer::kSoftmax) {
      const float mx = *std::max_element(t.v.begin(), t.v.end());
      float sum = 0;
      for (float& v : t.v) sum += v = std::exp(v - mx);
      for (float& v : t.v) v /= sum;
    } else {
      ADD_FAILURE() << "the test evaluator does not know layer " << l.name();
    }
    named[l.output(0)] = t;
  }
  return t;
}

int arg_max(std::span<const float> v) { return static_cast<int>(std::max_element(v.begin(), v.end()) - v.begin()); }

// The imported .tem (through the importer's calibration path) and its runner.
struct Imported {
  CoremlModel model;
  model::CompiledModel compiled;
};
// Calibrated with `calibration_images` (pixel/255, as read_calibration gives them; the command's
// own path through read_calibration is CoremlImportCli's).
Imported import(const cm::Model& m, const ImageSet& calibration_images) {
  Imported r;
  r.model = read_coreml(bytes_of(m));
  std::vector<std::vector<float>> calibration;
  for (std::size_t i = 0; i < calibration_images.count(); ++i) {
    const auto img = calibration_images.image(i);
    calibration.emplace_back(img.size());
    for (std::size_t k = 0; k < img.size(); ++k) calibration.back()[k] = img[k] / 255.0f;
  }
  model::ModelMetadata meta;
  meta.name = "coreml-test";
  meta.labels = r.model.labels;
  r.compiled = model::compile(coreml_to_int8_graph(r.model, calibration), meta);
  return r;
}

// How the imported int8 model's 10 probabilities compare with the float Core ML graph's on `test`:
// the largest difference, and how many images both put in the same class.
struct Agreement {
  double worst = 0;
  int agree = 0;
};
Agreement int8_against_float(const cm::Model& m, const Imported& imp, const ImageSet& test) {
  TemRunner runner(imp.compiled.tem);
  const auto info = runner.model().input_info(), out = runner.model().output_info();
  EXPECT_EQ(out.element_count, 10u);
  Agreement a;
  for (std::size_t i = 0; i < test.count(); ++i) {
    const Chw want = evaluate(m, test.image(i));
    const auto got = runner.run(quantize_image(info, test.image(i)));
    std::vector<float> p(10);
    for (int c = 0; c < 10; ++c) {
      p[c] = out.scale * (got[c] - out.zero_point);
      a.worst = std::max(a.worst, static_cast<double>(std::fabs(p[c] - want.v[c])));
    }
    a.agree += arg_max(p) == arg_max(want.v);
  }
  return a;
}

// Top-1 accuracy in % of the float graph and of the int8 model on Fashion-MNIST's images
// 5,000..5,999 (the tests train on the first 4,000).
struct Accuracy {
  double float_pct = 0, int8_pct = 0;
};
Accuracy held_out_accuracy(const cm::Model& m, const Imported& imp, const ImageSet& all) {
  TemRunner runner(imp.compiled.tem);
  const auto info = runner.model().input_info();
  ImageSet test = all;
  test.labels.assign(all.labels.begin() + 5000, all.labels.begin() + 6000);
  test.pixels.assign(all.pixels.begin() + 5000 * 784, all.pixels.begin() + 6000 * 784);
  int float_right = 0, int8_right = 0;
  for (std::size_t i = 0; i < test.count(); ++i) {
    float_right += arg_max(evaluate(m, test.image(i)).v) == test.labels[i];
    const auto q = runner.run(quantize_image(info, test.image(i)));
    int8_right += std::max_element(q.begin(), q.end()) - q.begin() == test.labels[i];
  }
  return {100.0 * float_right / test.count(), 100.0 * int8_right / test.count()};
}

TEST(CoremlImport, CnnAgreesWithTheFloatCoreMlGraph) {
  REQUIRE_FASHION_MNIST();
  std::mt19937 rng(21);
  const cm::Model m = small_cnn(rng);
  const ImageSet all = load_fashion_mnist(resolve_fashion_mnist("fashion-mnist"), false);
  ImageSet calibration = all;  // images 5000..5299 calibrate; 0..299 are compared
  calibration.labels.assign(all.labels.begin() + 5000, all.labels.begin() + 5300);
  calibration.pixels.assign(all.pixels.begin() + 5000 * 784, all.pixels.begin() + 5300 * 784);
  const Imported imp = import(m, calibration);
  EXPECT_EQ(imp.model.labels, fashion_mnist_labels());
  EXPECT_EQ(imp.model.net.layers.size(), 6u) << "batchnorm and the ReLUs fold into the convolutions";
  EXPECT_TRUE(imp.model.net.layers[1].relu6) << "clip(0, 6) after the depthwise convolution is its ReLU6";
  const ImageSet test = all.head(300);
  const auto [worst, agree] = int8_against_float(m, imp, test);
  // Softmax outputs step by 1/256; four int8 layers add a few steps more.
  EXPECT_LT(worst, 0.06) << "largest |int8 - float| probability over " << test.count() << " held-out images";
  EXPECT_GE(agree, static_cast<int>(test.count() * 9 / 10)) << agree << " of " << test.count() << " top-1 agree";
}

// A 784-32-10 MLP trained here by plain SGD, written as Core ML, imported, and scored on held-out
// images in float (the evaluator above) and int8 (the runtime). Only Fashion-MNIST's 10,000-image
// file is read (the 60,000-image one takes seconds): its first 4,000 train, 5,000..5,999 score.
cm::Model trained_mlp(const ImageSet& train) {
  constexpr int kIn = 784, kHidden = 32, kOut = 10;
  std::mt19937 rng(7);
  std::vector<float> w1 = random_values(rng, kHidden * kIn, std::sqrt(2.0f / kIn)), b1(kHidden, 0.0f);
  std::vector<float> w2 = random_values(rng, kOut * kHidden, std::sqrt(2.0f / kHidden)), b2(kOut, 0.0f);
  std::vector<float> x(kIn), h(kHidden), p(kOut), dh(kHidden);
  for (int epoch = 0; epoch < 2; ++epoch) {
    const float lr = epoch == 0 ? 0.01f : 0.005f;
    for (std::size_t n = 0; n < train.count(); ++n) {
      const auto img = train.image(n);
      for (int i = 0; i < kIn; ++i) x[i] = img[i] / 255.0f;
      for (int j = 0; j < kHidden; ++j) {
        float a = b1[j];
        for (int i = 0; i < kIn; ++i) a += w1[j * kIn + i] * x[i];
        h[j] = std::max(a, 0.0f);
      }
      float mx = -INFINITY, sum = 0;
      for (int k = 0; k < kOut; ++k) {
        p[k] = b2[k];
        for (int j = 0; j < kHidden; ++j) p[k] += w2[k * kHidden + j] * h[j];
        mx = std::max(mx, p[k]);
      }
      for (float& v : p) sum += v = std::exp(v - mx);
      std::fill(dh.begin(), dh.end(), 0.0f);
      for (int k = 0; k < kOut; ++k) {
        const float g = p[k] / sum - (k == train.labels[n] ? 1.0f : 0.0f);
        for (int j = 0; j < kHidden; ++j) {
          dh[j] += g * w2[k * kHidden + j];
          w2[k * kHidden + j] -= lr * g * h[j];
        }
        b2[k] -= lr * g;
      }
      for (int j = 0; j < kHidden; ++j) {
        if (h[j] <= 0) continue;
        for (int i = 0; i < kIn; ++i) w1[j * kIn + i] -= lr * dh[j] * x[i];
        b1[j] -= lr * dh[j];
      }
    }
  }
  cm::Model m = image_classifier(1.0f / 255.0f, 0.0f);
  auto* nn = m.mutable_neuralnetworkclassifier();
  layer(nn, "flatten", "image", "flat")->mutable_flatten();
  auto* fc1 = layer(nn, "dense1", "flat", "h")->mutable_innerproduct();
  fc1->set_inputchannels(kIn);
  fc1->set_outputchannels(kHidden);
  fc1->set_hasbias(true);
  fill(fc1->mutable_weights(), w1);
  fill(fc1->mutable_bias(), b1);
  layer(nn, "relu", "h", "hr")->mutable_activation()->mutable_relu();
  auto* fc2 = layer(nn, "dense2", "hr", "logits")->mutable_innerproduct();
  fc2->set_inputchannels(kHidden);
  fc2->set_outputchannels(kOut);
  fc2->set_hasbias(true);
  fill(fc2->mutable_weights(), w2);
  fill(fc2->mutable_bias(), b2);
  layer(nn, "softmax", "logits", "probs")->set_softmax("");
  return m;
}

TEST(CoremlImport, TrainedMlpKeepsItsAccuracyInInt8) {
  REQUIRE_FASHION_MNIST();
  const auto dir = resolve_fashion_mnist("fashion-mnist");
  const ImageSet all = load_fashion_mnist(dir, false);
  const ImageSet train = all.head(4000);
  const cm::Model m = trained_mlp(train);
  const Imported imp = import(m, train.head(300));
  const auto [float_acc, int8_acc] = held_out_accuracy(m, imp, all);
  std::cout << "Core ML MLP on 1,000 held-out images: float " << float_acc << " %, int8 " << int8_acc << " %\n";
  EXPECT_GE(float_acc, 70.0) << "the test's own training went wrong (chance is 10 %)";
  EXPECT_GE(int8_acc, 70.0);
  EXPECT_LE(std::fabs(float_acc - int8_acc), 3.0) << "int8 " << int8_acc << " % vs float " << float_acc << " %";
}

// A residual block as converters write one: conv + ReLU, then conv + ReLU, conv, add of the block's
// input (a tensor two layers back, at its own scale) and ReLU; pool, channel-first flatten, dense.
cm::Model residual_cnn(std::mt19937& rng) {
  cm::Model m = image_classifier(1.0f / 255.0f, -0.5f);
  auto* nn = m.mutable_neuralnetworkclassifier();
  auto conv = [&](const std::string& name, const std::string& in, const std::string& out, int in_c, int stride,
                  bool same, float scale) {
    auto* c = layer(nn, name, in, out)->mutable_convolution();
    c->set_outputchannels(6);
    c->set_kernelchannels(in_c);
    c->set_ngroups(1);
    c->add_kernelsize(3);
    c->add_kernelsize(3);
    c->add_stride(stride);
    c->add_stride(stride);
    if (same)
      c->mutable_same();
    else
      c->mutable_valid();
    c->set_hasbias(true);
    fill(c->mutable_weights(), random_values(rng, 6 * in_c * 9, scale));
    fill(c->mutable_bias(), random_values(rng, 6, 0.1f));
  };
  conv("stem", "image", "s", 1, 2, false, 0.5f);  // 28 -> 13
  layer(nn, "stem_relu", "s", "x")->mutable_activation()->mutable_relu();
  conv("block_a", "x", "a", 6, 1, true, 0.3f);
  layer(nn, "block_a_relu", "a", "ar")->mutable_activation()->mutable_relu();
  conv("block_b", "ar", "b", 6, 1, true, 0.6f);  // a wider range than x: the operands' scales differ
  auto* add = layer(nn, "residual", "b", "sum");
  add->add_input("x");
  add->mutable_add();
  layer(nn, "residual_relu", "sum", "y")->mutable_activation()->mutable_relu();
  auto* pool = layer(nn, "pool", "y", "p")->mutable_pooling();
  pool->set_type(cm::PoolingLayerParams::MAX);
  pool->add_kernelsize(2);
  pool->add_kernelsize(2);
  pool->add_stride(2);
  pool->add_stride(2);
  pool->mutable_valid();  // 13 -> 6
  layer(nn, "flatten", "p", "f")->mutable_flatten()->set_mode(cm::FlattenLayerParams::CHANNEL_FIRST);
  auto* fc = layer(nn, "fc", "f", "logits")->mutable_innerproduct();
  fc->set_inputchannels(216);
  fc->set_outputchannels(10);
  fc->set_hasbias(true);
  fill(fc->mutable_weights(), random_values(rng, 2160, 0.1f));
  fill(fc->mutable_bias(), random_values(rng, 10, 0.1f));
  layer(nn, "softmax", "logits", "probs")->set_softmax("");
  return m;
}

TEST(CoremlImport, ResidualAddAgreesWithTheFloatCoreMlGraph) {
  REQUIRE_FASHION_MNIST();
  std::mt19937 rng(5);
  const cm::Model m = residual_cnn(rng);
  const ImageSet all = load_fashion_mnist(resolve_fashion_mnist("fashion-mnist"), false);
  ImageSet calibration = all;
  calibration.labels.assign(all.labels.begin() + 5000, all.labels.begin() + 5300);
  calibration.pixels.assign(all.pixels.begin() + 5000 * 784, all.pixels.begin() + 5300 * 784);
  const Imported imp = import(m, calibration);
  ASSERT_EQ(imp.model.net.layers.size(), 7u) << "stem, block a, block b, add, pool, dense, softmax";
  const Layer& add = imp.model.net.layers[3];
  EXPECT_EQ(add.kind, LayerKind::kAdd);
  EXPECT_EQ(add.skip_from, 0) << "the add's second operand is the stem's output";
  EXPECT_TRUE(add.relu) << "the ReLU after the add is fused into it";
  const ImageSet test = all.head(300);
  const auto [worst, agree] = int8_against_float(m, imp, test);
  EXPECT_LT(worst, 0.08) << "largest |int8 - float| probability over " << test.count() << " held-out images";
  EXPECT_GE(agree, static_cast<int>(test.count() * 9 / 10)) << agree << " of " << test.count() << " top-1 agree";
}

// A residual MLP trained here by plain SGD: 784-32 ReLU (h), dense 32-32 (r), ReLU(r + h), dense
// 32-10. Written as Core ML with an add layer, imported, scored in float and int8 on held-out images.
cm::Model trained_residual_mlp(const ImageSet& train) {
  constexpr int kIn = 784, kHidden = 32, kOut = 10;
  std::mt19937 rng(11);
  std::vector<float> w1 = random_values(rng, kHidden * kIn, std::sqrt(2.0f / kIn)), b1(kHidden, 0.0f);
  std::vector<float> w2 = random_values(rng, kHidden * kHidden, 0.5f / std::sqrt(float(kHidden))), b2(kHidden, 0.0f);
  std::vector<float> w3 = random_values(rng, kOut * kHidden, std::sqrt(2.0f / kHidden)), b3(kOut, 0.0f);
  std::vector<float> x(kIn), h(kHidden), s(kHidden), p(kOut), ds(kHidden), dh(kHidden);
  for (int epoch = 0; epoch < 2; ++epoch) {
    const float lr = epoch == 0 ? 0.01f : 0.005f;
    for (std::size_t n = 0; n < train.count(); ++n) {
      const auto img = train.image(n);
      for (int i = 0; i < kIn; ++i) x[i] = img[i] / 255.0f;
      for (int j = 0; j < kHidden; ++j) {
        float a = b1[j];
        for (int i = 0; i < kIn; ++i) a += w1[j * kIn + i] * x[i];
        h[j] = std::max(a, 0.0f);
      }
      for (int j = 0; j < kHidden; ++j) {
        float a = b2[j] + h[j];
        for (int i = 0; i < kHidden; ++i) a += w2[j * kHidden + i] * h[i];
        s[j] = std::max(a, 0.0f);
      }
      float mx = -INFINITY, sum = 0;
      for (int k = 0; k < kOut; ++k) {
        p[k] = b3[k];
        for (int j = 0; j < kHidden; ++j) p[k] += w3[k * kHidden + j] * s[j];
        mx = std::max(mx, p[k]);
      }
      for (float& v : p) sum += v = std::exp(v - mx);
      std::fill(ds.begin(), ds.end(), 0.0f);
      for (int k = 0; k < kOut; ++k) {
        const float g = p[k] / sum - (k == train.labels[n] ? 1.0f : 0.0f);
        for (int j = 0; j < kHidden; ++j) {
          ds[j] += g * w3[k * kHidden + j];
          w3[k * kHidden + j] -= lr * g * s[j];
        }
        b3[k] -= lr * g;
      }
      for (int j = 0; j < kHidden; ++j) ds[j] = s[j] > 0 ? ds[j] : 0.0f;
      dh = ds;  // the skip path
      for (int j = 0; j < kHidden; ++j) {
        for (int i = 0; i < kHidden; ++i) {
          dh[i] += ds[j] * w2[j * kHidden + i];
          w2[j * kHidden + i] -= lr * ds[j] * h[i];
        }
        b2[j] -= lr * ds[j];
      }
      for (int j = 0; j < kHidden; ++j) {
        if (h[j] <= 0) continue;
        for (int i = 0; i < kIn; ++i) w1[j * kIn + i] -= lr * dh[j] * x[i];
        b1[j] -= lr * dh[j];
      }
    }
  }
  cm::Model m = image_classifier(1.0f / 255.0f, 0.0f);
  auto* nn = m.mutable_neuralnetworkclassifier();
  auto dense = [&](const std::string& name, const std::string& in, const std::string& out, int n_in, int n_out,
                   const std::vector<float>& w, const std::vector<float>& b) {
    auto* fc = layer(nn, name, in, out)->mutable_innerproduct();
    fc->set_inputchannels(n_in);
    fc->set_outputchannels(n_out);
    fc->set_hasbias(true);
    fill(fc->mutable_weights(), w);
    fill(fc->mutable_bias(), b);
  };
  layer(nn, "flatten", "image", "flat")->mutable_flatten();
  dense("dense1", "flat", "h", kIn, kHidden, w1, b1);
  layer(nn, "relu1", "h", "hr")->mutable_activation()->mutable_relu();
  dense("dense2", "hr", "r", kHidden, kHidden, w2, b2);
  auto* add = layer(nn, "residual", "r", "sum");
  add->add_input("hr");
  add->mutable_add();
  layer(nn, "relu2", "sum", "sr")->mutable_activation()->mutable_relu();
  dense("dense3", "sr", "logits", kHidden, kOut, w3, b3);
  layer(nn, "softmax", "logits", "probs")->set_softmax("");
  return m;
}

TEST(CoremlImport, TrainedResidualMlpKeepsItsAccuracyInInt8) {
  REQUIRE_FASHION_MNIST();
  const ImageSet all = load_fashion_mnist(resolve_fashion_mnist("fashion-mnist"), false);
  const ImageSet train = all.head(4000);
  const cm::Model m = trained_residual_mlp(train);
  const Imported imp = import(m, train.head(300));
  ASSERT_EQ(imp.model.net.layers.size(), 5u) << "dense1, dense2, add, dense3, softmax";
  EXPECT_EQ(imp.model.net.layers[2].kind, LayerKind::kAdd);
  const auto [float_acc, int8_acc] = held_out_accuracy(m, imp, all);
  std::cout << "Core ML residual MLP on 1,000 held-out images: float " << float_acc << " %, int8 " << int8_acc
            << " %\n";
  EXPECT_GE(float_acc, 70.0) << "the test's own training went wrong (chance is 10 %)";
  EXPECT_GE(int8_acc, 70.0);
  EXPECT_LE(std::fabs(float_acc - int8_acc), 3.0) << "int8 " << int8_acc << " % vs float " << float_acc << " %";
}

// ---- refusals: each names the layer or field, before anything is written ----

std::string refusal(const std::vector<std::uint8_t>& bytes) {
  try {
    read_coreml(bytes);
  } catch (const CoremlError& e) {
    return e.what();
  }
  return "(imported without an error)";
}

cm::Model tiny_mlp() {
  cm::Model m = image_classifier(1.0f / 255.0f, 0.0f);
  auto* nn = m.mutable_neuralnetworkclassifier();
  layer(nn, "flatten", "image", "flat")->mutable_flatten();
  auto* fc = layer(nn, "dense", "flat", "logits")->mutable_innerproduct();
  fc->set_inputchannels(784);
  fc->set_outputchannels(10);
  fill(fc->mutable_weights(), std::vector<float>(7840, 0.01f));
  layer(nn, "softmax", "logits", "probs")->set_softmax("");
  return m;
}

TEST(CoremlImportBadInput, UnsupportedLayerIsNamedWithItsKind) {
  cm::Model m = tiny_mlp();
  auto* l = m.mutable_neuralnetworkclassifier()->mutable_layers(1);
  l->set_multiply("");  // the dense layer becomes a multiply
  const std::string e = refusal(bytes_of(m));
  EXPECT_NE(e.find("'dense'"), std::string::npos) << e;
  EXPECT_NE(e.find("(multiply)"), std::string::npos) << e;
  m = tiny_mlp();
  m.mutable_neuralnetworkclassifier()->mutable_layers(1)->mutable_activation()->set_sigmoid("");
  const std::string e2 = refusal(bytes_of(m));
  EXPECT_NE(e2.find("activation sigmoid is not supported"), std::string::npos) << e2;
}

// The add variants the runtime's same-shape ADD cannot take, each refused naming the layer.
TEST(CoremlImportBadInput, AddVariantsWeDoNotSupportAreNamed) {
  std::mt19937 rng(5);
  const cm::Model good = residual_cnn(rng);
  ASSERT_EQ(refusal(bytes_of(good)), "(imported without an error)");
  const auto residual = [](cm::Model& m) -> cm::NeuralNetworkLayer& {
    for (auto& l : *m.mutable_neuralnetworkclassifier()->mutable_layers())
      if (l.name() == "residual") return l;
    throw std::runtime_error("no residual layer");
  };
  const auto expect = [&](const cm::Model& m, const std::string& what) {
    const std::string e = refusal(bytes_of(m));
    EXPECT_NE(e.find("'residual' (add)"), std::string::npos) << e;
    EXPECT_NE(e.find(what), std::string::npos) << e;
  };
  cm::Model m = good;
  residual(m).add_input("s");  // a third operand
  expect(m, "add of 3 inputs is not supported");
  m = good;
  residual(m).mutable_input()->RemoveLast();  // one input: x + alpha
  expect(m, "add of 1 inputs is not supported");
  m = good;
  residual(m).mutable_add()->set_alpha(0.5f);
  expect(m, "alpha 0.5");
  m = good;
  residual(m).set_input(1, "image");  // 28x28x1 against 13x13x6: broadcasting
  expect(m, "adds a 28x28x1 tensor 'image' to a 13x13x6 one; broadcasting is not supported");
  m = good;
  residual(m).set_input(1, "s");  // the stem before its ReLU, which was fused into it
  expect(m, "reads 's', whose value before 'stem_relu'");
  m = good;
  residual(m).set_input(1, "nowhere");
  expect(m, "reads 'nowhere', which no earlier layer wrote");
  m = good;
  residual(m).set_input(0, "x");  // neither operand is the previous output
  expect(m, "neither the previous output 'b'");
}

TEST(CoremlImportBadInput, MlProgramAndPipelineAreRefusedByKind) {
  cm::Model m = tiny_mlp();
  m.set_mlprogram("\x08\x01");
  EXPECT_NE(refusal(bytes_of(m)).find("model kind 'mlProgram' is not supported"), std::string::npos)
      << refusal(bytes_of(m));
  m.set_pipeline("");
  EXPECT_NE(refusal(bytes_of(m)).find("'pipeline'"), std::string::npos) << refusal(bytes_of(m));
}

TEST(CoremlImportBadInput, TruncatedOrCorruptFileIsRefused) {
  const auto good = bytes_of(tiny_mlp());
  ASSERT_EQ(refusal(good), "(imported without an error)");
  const std::vector<std::uint8_t> cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(good.size() / 2));
  EXPECT_NE(refusal(cut).find("does not parse"), std::string::npos) << refusal(cut);
  std::vector<std::uint8_t> corrupt = good;
  corrupt[0] = 0xff;  // a tag with field number 0x1f... and wire type 7: no such thing
  corrupt[1] = 0xff;
  EXPECT_NE(refusal(corrupt).find("does not parse"), std::string::npos) << refusal(corrupt);
  EXPECT_NE(refusal({}).find("empty file"), std::string::npos);
}

TEST(CoremlImportBadInput, WrongShapesAndWeightCountsNameTheField) {
  cm::Model m = tiny_mlp();
  m.mutable_neuralnetworkclassifier()->mutable_layers(1)->mutable_innerproduct()->set_inputchannels(100);
  EXPECT_NE(refusal(bytes_of(m)).find("'dense' (innerProduct): inputChannels 100 but the input has 784 values"),
            std::string::npos)
      << refusal(bytes_of(m));
  m = tiny_mlp();
  m.mutable_neuralnetworkclassifier()
      ->mutable_layers(1)
      ->mutable_innerproduct()
      ->mutable_weights()
      ->mutable_floatvalue()
      ->RemoveLast();
  EXPECT_NE(refusal(bytes_of(m)).find("weights hold 7839 values, the layer needs 7840"), std::string::npos)
      << refusal(bytes_of(m));
  m = tiny_mlp();
  m.mutable_neuralnetworkclassifier()->mutable_stringclasslabels()->add_vector("extra");
  EXPECT_NE(refusal(bytes_of(m)).find("11 labels for 10 outputs"), std::string::npos) << refusal(bytes_of(m));
  m = tiny_mlp();
  m.mutable_description()->mutable_input(0)->mutable_type()->mutable_imagetype()->set_colorspace(
      cm::ImageFeatureType::BGR);
  EXPECT_NE(refusal(bytes_of(m)).find("colorSpace BGR is not supported"), std::string::npos) << refusal(bytes_of(m));
  m = tiny_mlp();
  m.mutable_neuralnetworkclassifier()->mutable_layers(1)->set_input(0, "image");
  EXPECT_NE(refusal(bytes_of(m)).find("reads 'image', not the previous output 'flat'"), std::string::npos)
      << refusal(bytes_of(m));
}

TEST(CoremlImportBadInput, CalibrationImagesOfAnotherShapeAreRefused) {
  REQUIRE_FASHION_MNIST();
  cm::Model m = tiny_mlp();
  auto* im = m.mutable_description()->mutable_input(0)->mutable_type()->mutable_imagetype();
  im->set_width(32);
  im->set_height(32);
  m.mutable_neuralnetworkclassifier()->mutable_layers(1)->mutable_innerproduct()->set_inputchannels(1024);
  m.mutable_neuralnetworkclassifier()->mutable_layers(1)->mutable_innerproduct()->mutable_weights()->clear_floatvalue();
  fill(m.mutable_neuralnetworkclassifier()->mutable_layers(1)->mutable_innerproduct()->mutable_weights(),
       std::vector<float>(10240, 0.01f));
  const CoremlModel model = read_coreml(bytes_of(m));
  try {
    read_calibration("fashion-mnist", model);
    FAIL() << "28x28 calibration images accepted for a 32x32 model";
  } catch (const CoremlError& e) {
    EXPECT_NE(std::string(e.what()).find("the model's input is 32x32x1"), std::string::npos) << e.what();
  }
}

// Through the command: a good file becomes a .tem the runtime loads, with the classifier's labels;
// a refused one prints why and leaves no output behind.
TEST(CoremlImportCli, ImportsAndRefusesWithoutWriting) {
  REQUIRE_FASHION_MNIST();
  const auto dir = testing::scratch("coreml", "cli");
  const auto write = [&](const std::string& name, const cm::Model& m) {
    std::ofstream(dir / name, std::ios::binary) << m.SerializeAsString();
    return (dir / name).string();
  };
  // An IDX folder whose train files are the 10,000-image test files: the command reads it as any
  // IDX folder, in a fraction of the 60,000-image set's time.
  const auto idx = dir / "idx";
  std::filesystem::create_directories(idx);
  for (const char* kind : {"images-idx3", "labels-idx1"}) {
    const auto test_file = std::filesystem::path(kFashionMnistDir) / (std::string("t10k-") + kind + "-ubyte.gz");
    std::filesystem::create_symlink(test_file, idx / (std::string("train-") + kind + "-ubyte.gz"));
    std::filesystem::create_symlink(test_file, idx / (std::string("t10k-") + kind + "-ubyte.gz"));
  }
  // The MLP trained on test images 5000..8999; the command scores images 0..999 (it calibrates on
  // 0..499 here, since this folder's "train" file is the test file: with Debian's folder it
  // calibrates on the train split).
  const ImageSet all = load_fashion_mnist(resolve_fashion_mnist("fashion-mnist"), false);
  ImageSet train = all;
  train.labels.assign(all.labels.begin() + 5000, all.labels.begin() + 9000);
  train.pixels.assign(all.pixels.begin() + 5000 * 784, all.pixels.begin() + 9000 * 784);
  const std::string good = write("mlp.mlmodel", trained_residual_mlp(train));  // with a residual add
  const auto ok =
      testing::cli("model import " + good + " -o " + (dir / "mlp.tem").string() + " --calibration " + idx.string());
  ASSERT_EQ(ok.status, 0) << ok.output;
  std::cout << ok.output;
  EXPECT_NE(ok.output.find("Ankle boot"), std::string::npos) << "labels from the classifier:\n" << ok.output;
  EXPECT_TRUE(std::filesystem::exists(dir / "mlp.tem"));
  const std::string key = "accuracy on 1000 held-out images of " + idx.string() + ": float ";
  const double float_acc = testing::percent_after(ok.output, key);
  const auto at = ok.output.find(key);
  const double int8_acc = at == std::string::npos ? -1 : testing::percent_after(ok.output.substr(at), ", int8 ");
  EXPECT_GE(float_acc, 70.0) << "the float/int8 comparison:\n" << ok.output;
  EXPECT_GE(int8_acc, 70.0) << ok.output;

  cm::Model program = tiny_mlp();
  program.set_mlprogram("");
  const std::string bad = write("program.mlmodel", program);
  const auto refused =
      testing::cli("model import " + bad + " -o " + (dir / "program.tem").string() + " --calibration " + idx.string());
  EXPECT_NE(refused.status, 0);
  EXPECT_NE(refused.output.find("program.mlmodel: model kind 'mlProgram' is not supported"), std::string::npos)
      << refused.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "program.tem"));
  const auto no_calibration = testing::cli("model import " + good + " -o " + (dir / "x.tem").string());
  EXPECT_NE(no_calibration.output.find("give --calibration"), std::string::npos) << no_calibration.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "x.tem"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tinyedge::train
