// Writes the speech node's test fixtures into a folder: tones.tem (the tone model of
// speech_model.h), words.raw (16 kHz int16 little-endian: "low" at 1.0 s, an unknown word at
// 2.0 s, "high" at 3.0 s, 4.5 s in all) and, when ../shared/models has it, kws_speech.tem (the
// MLPerf Tiny kws_ref_model with the front-end record of its 49x10 MFCC input); for the enrolling
// image, words_embedding.tem (the tone embedding model of word_model.h: "low" and "high" trained,
// "mid" never seen) and enroll_mid.raw ("mid" said five times, its enrollment recording).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <vector>

#include "deploy/model/tflite_import.h"
#include "tests/runtime/shared_models.h"
#include "tests/speech_node/speech_model.h"
#include "tests/speech_node/word_model.h"

namespace {

void write(const std::filesystem::path& path, const void* data, size_t bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(bytes));
  if (!out) {
    std::fprintf(stderr, "gen_speech_fixture: cannot write %s\n", path.c_str());
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  using namespace tinyedge;
  if (argc != 2) {
    std::fprintf(stderr, "usage: gen_speech_fixture OUT_DIR\n");
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  std::filesystem::create_directories(dir);
  const auto tem = speech_test::speech_model_tem();
  write(dir / "tones.tem", tem.data(), tem.size());
  std::vector<int16_t> samples(4500 * 16);
  const std::vector<speech_test::Word> words = {
      {speech_test::kLowHz, 1000, 500}, {speech_test::kUnknownHz, 2000, 500}, {speech_test::kHighHz, 3000, 500}};
  speech_test::make_speech_stream(samples, words);
  write(dir / "words.raw", samples.data(), samples.size() * sizeof(int16_t));

  const auto embedding = speech_test::word_model_tem();
  if (embedding.empty()) {
    std::fprintf(stderr, "gen_speech_fixture: the tone embedding model could not be built\n");
    return 1;
  }
  write(dir / "words_embedding.tem", embedding.data(), embedding.size());
  const auto enrollment = speech_test::enrollment_recording(speech_test::kMidHz, 5);
  write(dir / "enroll_mid.raw", enrollment.data(), enrollment.size() * sizeof(int16_t));

  const auto kws = tinyedge::testing::shared_models_dir() / "kws_ref_model.tflite";
  if (std::filesystem::exists(kws)) {
    const model::Graph graph = model::import_tflite(tinyedge::testing::read_bytes(kws));
    const model::Tensor& input = graph.tensors[static_cast<size_t>(graph.inputs[0])];
    audio::AudioFrontEndConfig fe;
    fe.window_ms = 40;
    fe.stride_ms = 20;
    fe.mel_channels = 40;
    fe.mfcc_coefficients = 10;
    fe.output_scale = input.quant.scales[0];
    fe.output_zero_point = static_cast<int8_t>(input.quant.zero_points[0]);
    model::ModelMetadata meta;
    meta.name = "kws_speech";
    meta.model_id = 21;
    meta.labels = {"_silence_", "_unknown_", "yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"};
    meta.front_end.resize(audio::kFrontEndRecordBytes);
    audio::encode_front_end(fe, std::span<uint8_t, audio::kFrontEndRecordBytes>(meta.front_end.data(), 28));
    const auto kws_tem = model::compile(graph, meta).tem;
    write(dir / "kws_speech.tem", kws_tem.data(), kws_tem.size());
  }
  return 0;
}
