// A freshly quantised network -> the model compiler's graph -> a deployable .tem blob.
#pragma once
#include "deploy/model/compile.h"
#include "deploy/model/graph.h"
#include "deploy/train/quantize.h"

namespace tinyedge::train {

model::Graph to_graph(const QuantNet& net);
model::CompiledModel export_tem(const QuantNet& net, const model::ModelMetadata& meta);

}  // namespace tinyedge::train
