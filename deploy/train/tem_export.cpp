#include "deploy/train/tem_export.h"

#include <stdexcept>

namespace tinyedge::train {
namespace {

std::vector<std::int32_t> nhwc(Shape3 s) { return {1, s.h, s.w, s.c}; }

}  // namespace

model::Graph to_graph(const QuantNet& net) {
  model::Graph g;
  // 1-D inputs (feature vectors) stay [1, n]; images are NHWC.
  auto shape_of = [](Shape3 s) { return s.h == 1 && s.w == 1 ? std::vector<std::int32_t>{1, s.c} : nhwc(s); };
  int current = g.add_activation("input", shape_of(net.input), net.input_params.scale, net.input_params.zero_point);
  g.inputs = {current};
  const int input = current;
  std::vector<int> outputs;  // each layer's output tensor, for an add's second operand
  for (std::size_t i = 0; i < net.layers.size(); ++i) {
    const QuantLayer& ql = net.layers[i];
    const Layer& l = ql.layer;
    const std::string name = "l" + std::to_string(i);
    model::OpOptions opt;
    opt.activation = !l.relu   ? model::Activation::kNone
                     : l.relu6 ? model::Activation::kRelu6
                               : model::Activation::kRelu;
    opt.padding = l.padding == Padding::kSame ? model::Padding::kSame : model::Padding::kValid;
    opt.stride_h = l.stride_h;
    opt.stride_w = l.stride_w;
    std::vector<float> bias_scales;
    for (float ws : ql.weight_scales) bias_scales.push_back(ql.input.scale * ws);
    int out = -1;
    switch (l.kind) {
      case LayerKind::kConv2D: {
        const int filter = g.add_int8_weights(name + "/filter", {l.out.c, l.kernel_h, l.kernel_w, l.in.c}, ql.weights,
                                              ql.weight_scales, 0);
        const int bias = g.add_int32_bias(name + "/bias", ql.bias, bias_scales);
        out = g.add_activation(name + "/conv", nhwc(l.out), ql.output.scale, ql.output.zero_point);
        g.add_op(model::OpKind::kConv2D, {current, filter, bias}, out, opt);
        break;
      }
      case LayerKind::kDepthwiseConv2D: {
        opt.depth_multiplier = 1;
        const int filter =
            g.add_int8_weights(name + "/filter", {1, l.kernel_h, l.kernel_w, l.out.c}, ql.weights, ql.weight_scales, 3);
        const int bias = g.add_int32_bias(name + "/bias", ql.bias, bias_scales);
        out = g.add_activation(name + "/depthwise", nhwc(l.out), ql.output.scale, ql.output.zero_point);
        g.add_op(model::OpKind::kDepthwiseConv2D, {current, filter, bias}, out, opt);
        break;
      }
      case LayerKind::kFullyConnected: {
        const int filter =
            g.add_int8_weights(name + "/weights", {l.out.c, l.in.size()}, ql.weights, ql.weight_scales, 0);
        const int bias = g.add_int32_bias(name + "/bias", ql.bias, bias_scales);
        out = g.add_activation(name + "/dense", {1, l.out.c}, ql.output.scale, ql.output.zero_point);
        g.add_op(model::OpKind::kFullyConnected, {current, filter, bias}, out, opt);
        break;
      }
      case LayerKind::kMaxPool2D:
        opt.filter_h = l.kernel_h;
        opt.filter_w = l.kernel_w;
        out = g.add_activation(name + "/maxpool", nhwc(l.out), ql.output.scale, ql.output.zero_point);
        g.add_op(model::OpKind::kMaxPool2D, {current}, out, opt);
        break;
      case LayerKind::kAveragePool2D:
        opt.filter_h = l.kernel_h;
        opt.filter_w = l.kernel_w;
        out = g.add_activation(name + "/avgpool", nhwc(l.out), ql.output.scale, ql.output.zero_point);
        g.add_op(model::OpKind::kAveragePool2D, {current}, out, opt);
        break;
      case LayerKind::kSoftmax:
        opt.beta = 1.0f;
        out = g.add_activation(name + "/softmax", {1, l.out.c}, ql.output.scale, ql.output.zero_point);
        g.add_op(model::OpKind::kSoftmax, {current}, out, opt);
        break;
      case LayerKind::kAdd: {
        const int other = l.skip_from < 0 ? input : outputs.at(static_cast<std::size_t>(l.skip_from));
        out = g.add_activation(name + "/add", shape_of(l.out), ql.output.scale, ql.output.zero_point);
        g.add_op(model::OpKind::kAdd, {current, other}, out, opt);
        break;
      }
    }
    outputs.push_back(out);
    current = out;
  }
  g.outputs = {current};
  return g;
}

model::CompiledModel export_tem(const QuantNet& net, const model::ModelMetadata& meta) {
  return model::compile(to_graph(net), meta);
}

}  // namespace tinyedge::train
