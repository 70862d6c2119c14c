// `tinyedge train image --data DIR` for folders of labelled images: the options it adds to
// `train image` and the run itself (cmd_train.cpp dispatches here when --data is such a folder).
#pragma once
#include <CLI/CLI.hpp>
#include <functional>
#include <string>

#include "deploy/model/compile.h"
#include "deploy/train/pipeline.h"
#include "deploy/train/train_report.h"

namespace tinyedge::deploy {

void add_image_folder_options(CLI::App* image);

bool is_image_folder_data(const std::string& data);

using WriteOutputs =
    std::function<void(const model::CompiledModel&, const train::GoldenPair&, const train::TrainReport&)>;

// `arch` is train image's --arch: "small-cnn" (its default) means ds-cnn here.
void run_train_image_folder(const std::string& data, const std::string& arch, const train::TrainOptions& options,
                            int calibration, const model::ModelMetadata& meta, const WriteOutputs& write);

}  // namespace tinyedge::deploy
