#include "deploy/train/cmd_train_text.h"

#include <cstdio>

#include "deploy/command_registry.h"
#include "deploy/train/image_arch.h"
#include "deploy/train/progress.h"
#include "deploy/train/text_pipeline.h"

namespace tinyedge::deploy {
namespace {

namespace tr = tinyedge::train;

struct TextArgs {
  tr::TextTrainRequest req;
  std::vector<int> word_orders{1, 2}, char_orders{3, 5};
  bool keep_case = false;
  std::string ram, flash;  // a budget: picks the buckets and hidden units not given
  CLI::Option* buckets = nullptr;
  CLI::Option* hidden = nullptr;
};
TextArgs args;

// "--word-ngrams 1 2" or "--word-ngrams 0" (none): min and max.
bool orders(const std::vector<int>& v, std::uint8_t& lo, std::uint8_t& hi) {
  if (v.size() == 1 && v[0] == 0) {
    lo = hi = 0;
    return true;
  }
  if (v.size() != 2 || v[0] < 1 || v[1] < v[0] || v[1] > 255) return false;
  lo = static_cast<std::uint8_t>(v[0]);
  hi = static_cast<std::uint8_t>(v[1]);
  return true;
}

}  // namespace

CLI::App* add_text_command(CLI::App* train) {
  auto& r = args.req;
  auto* cmd = train->add_subcommand(
      "text",
      "Text classifier from labelled texts: counts of hashed word and character n-grams (the node's own "
      "front-end, carried in the model) into a small MLP. Every fifth text of each class is held out");
  cmd->add_option("--data", r.data,
                  "a TSV file (one text per line: label<TAB>text) or a folder of folders (DIR/<label>/*.txt, one text "
                  "per file); UTF-8")
      ->required();
  args.buckets = cmd->add_option("--buckets", r.front_end.buckets, "hash buckets (the model's input size)")
                     ->capture_default_str()
                     ->check(CLI::Range(2u, text::kMaxBuckets));
  cmd->add_option("--word-ngrams", args.word_orders, "word n-gram orders MIN MAX (1..4), or 0 for none")
      ->expected(1, 2)
      ->capture_default_str();
  cmd->add_option("--char-ngrams", args.char_orders, "character n-gram orders MIN MAX (1..8), or 0 for none")
      ->expected(1, 2)
      ->capture_default_str();
  cmd->add_flag("--keep-case", args.keep_case, "do not lower-case A-Z");
  cmd->add_option("--hash-seed", r.front_end.seed, "seed of the n-gram hash")->capture_default_str();
  args.hidden = cmd->add_option("--hidden", r.hidden, "hidden units (0: a linear classifier over the counts)")
                    ->capture_default_str()
                    ->check(CLI::Range(0, 1024));
  cmd->add_option("--ram", args.ram,
                  "RAM budget: arena + the front-end's counts (2 B a bucket); picks --buckets and --hidden unless "
                  "given (default 64K with --flash)");
  cmd->add_option("--flash", args.flash, "flash budget for the .tem (default 256K with --ram)");
  cmd->add_option("--eval-threads", r.threads, "evaluation threads")->capture_default_str()->check(CLI::Range(1, 64));
  return cmd;
}

void run_train_text(const tr::TrainOptions& options, int calibration, const model::ModelMetadata& meta,
                    const WriteOutputs& write) {
  auto req = args.req;
  if (!orders(args.word_orders, req.front_end.word_min, req.front_end.word_max))
    throw CommandError("--word-ngrams: MIN MAX with 1 <= MIN <= MAX <= 4, or 0");
  if (!orders(args.char_orders, req.front_end.char_min, req.front_end.char_max))
    throw CommandError("--char-ngrams: MIN MAX with 1 <= MIN <= MAX <= 8, or 0");
  req.front_end.lowercase = !args.keep_case;
  if (!args.ram.empty() || !args.flash.empty()) {
    tr::TextBudget budget;
    try {
      if (!args.ram.empty()) budget.ram_bytes = tr::parse_byte_size(args.ram);
      if (!args.flash.empty()) budget.flash_bytes = tr::parse_byte_size(args.flash);
    } catch (const std::runtime_error& e) {
      throw CommandError(std::string("--ram/--flash: ") + e.what());
    }
    req.budget = budget;
    req.fixed_buckets = args.buckets->count() > 0;
    req.fixed_hidden = args.hidden->count() > 0;
  }
  if (const auto s = req.front_end.validate(); s != text::TextStatus::kOk)
    throw CommandError(std::string("text front-end: ") + text::to_string(s));
  req.train = options;
  req.calibration = calibration;
  req.meta = meta;
  tr::TextTrainResult r;
  try {
    tr::ProgressBar bar(options.epochs);
    r = tr::train_text(
        req, [&](int e, int b, int n, double loss, double acc) { bar.update(e, b, n, loss, acc); },
        [](const std::string& line) { std::printf("%s\n", line.c_str()); });
  } catch (const model::CompileError& e) {
    throw CommandError(std::string("model compiler: ") + e.what());
  } catch (const std::runtime_error& e) {
    throw CommandError(e.what());
  }
  std::printf("trained %s (%d hidden) on %zu texts, %d epochs, seed %llu in %.1f s\n", r.float_net.arch.c_str(),
              r.picked ? r.picked->hidden : req.hidden, r.corpus.count(false), options.epochs,
              static_cast<unsigned long long>(options.seed), r.train_seconds);
  std::printf("model: %zu ops, %zu parameters, int8 weights+int32 biases %zu bytes, .tem %zu bytes, arena %u bytes\n",
              r.compiled.op_count, r.compiled.parameter_count, r.quant.weight_bytes(), r.compiled.tem.size(),
              r.compiled.arena_bytes);
  std::printf("test accuracy on %zu texts: float %.2f%%, int8 (runtime) %.2f%%, drop %.2f points\n",
              r.corpus.count(true), 100 * r.float_accuracy, 100 * r.int8_accuracy(),
              100 * (r.float_accuracy - r.int8_accuracy()));
  write(r.compiled, r.self_test,
        {"text", r.float_net.arch, options.epochs, options.seed, r.train_seconds, r.float_accuracy, r.int8_accuracy(),
         0});
}

}  // namespace tinyedge::deploy
