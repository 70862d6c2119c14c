// `tinyedge train text --data FILE|DIR`: the subcommand's own options and its run (cmd_train.cpp
// adds the options every trainer shares and dispatches here).
#pragma once
#include <CLI/CLI.hpp>

#include "deploy/train/cmd_train_image_folder.h"

namespace tinyedge::deploy {

CLI::App* add_text_command(CLI::App* train);

void run_train_text(const train::TrainOptions& options, int calibration, const model::ModelMetadata& meta,
                    const WriteOutputs& write);

}  // namespace tinyedge::deploy
