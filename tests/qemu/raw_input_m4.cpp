// Runs on the emulated Cortex-M4 (qemu mps2-an386): a trained .tem on its RAW input, through the
// node's own front-ends, so the text tokenizer, the motion window step and the camera conversion
// run freestanding on the M4 beside the runtime. Files come over semihosting:
//   -append "<text|motion|image> <model.tem> <input> <outputs>"
//   text:   lines of UTF-8 ("label<TAB>" and trailing CR/spaces dropped, as the host node's --text)
//   motion: float32 samples, axes interleaved (the CSV's values), windows every window/4 samples
//   image:  frames, each a uint32 width, height, channels header and its 8-bit pixels
// Every inference's int8 outputs are appended to <outputs>; the last line is "RESULT <n>" or
// "RESULT FAIL <why>". tests/qemu/raw_input_m4_test.cpp holds the outputs to the host node's.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <span>

#include "node_firmware/camera/image_convert.h"
#include "node_firmware/motion/motion_window.h"
#include "node_firmware/ports/mps2_an386/semihost.h"
#include "node_firmware/runtime/interpreter.h"
#include "node_firmware/runtime/model.h"
#include "node_firmware/text/text_front_end.h"
#include "node_firmware/text/text_record.h"

namespace {

using namespace tinyedge;
namespace sh = tinyedge::mps2;

alignas(16) uint8_t g_model[64 * 1024];
alignas(16) uint8_t g_arena[64 * 1024];
alignas(4) uint8_t g_input[96 * 1024];
// The front-ends' working storage: text counts, one motion sample and ring, one converted frame.
uint16_t g_counts[text::kMaxBuckets];
int8_t g_ring[8 * 1024];
uint8_t g_frame[16 * 1024];

[[noreturn]] void fail(const char* why) {
  sh::semihost_write("RESULT FAIL ");
  sh::semihost_write(why);
  sh::semihost_write("\n");
  sh::semihost_exit(1);
}

// Reads a whole host file into `out`; its length.
uint32_t read_file(const char* path, std::span<uint8_t> out) {
  const int32_t h = sh::semihost_open(path, static_cast<uint32_t>(std::strlen(path)), sh::SemihostMode::kReadWrite);
  if (h < 0) fail("cannot open an input file");
  const int32_t n = sh::semihost_file_length(h);
  if (n < 0 || static_cast<uint32_t>(n) > out.size()) fail("an input file is larger than its buffer");
  if (n > 0 && !sh::semihost_read(h, out.data(), static_cast<uint32_t>(n))) fail("cannot read an input file");
  return static_cast<uint32_t>(n);
}

struct Run {
  runtime::Model model;
  runtime::Interpreter interpreter;
  int32_t out_handle = -1;
  uint32_t inferences = 0;

  void infer() {
    if (interpreter.invoke() != runtime::Status::kOk) fail("invoke failed");
    const auto out = interpreter.output();
    if (!sh::semihost_write_file(out_handle, out.data(), static_cast<uint32_t>(out.size())))
      fail("cannot write the outputs");
    ++inferences;
  }
};

void run_text(Run& r, std::span<const uint8_t> lines) {
  text::TextFrontEndConfig config;
  if (text::decode_text_record(r.model.front_end(), config) != text::TextStatus::kOk)
    fail("the model has no text front-end record");
  const auto in = r.model.input_info();
  if (in.element_count != config.buckets) fail("the model's input is not its buckets");
  std::span<uint16_t> counts(g_counts, config.buckets);
  size_t start = 0;
  while (start < lines.size()) {
    size_t end = start;
    while (end < lines.size() && lines[end] != '\n') ++end;
    auto line = lines.subspan(start, end - start);
    start = end + 1;
    for (size_t i = 0; i < line.size(); ++i) {
      if (line[i] == '\t') {
        line = line.subspan(i + 1);
        break;
      }
    }
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line = line.first(line.size() - 1);
    if (line.empty()) continue;
    if (text::count_ngrams(config, line, counts) != text::TextStatus::kOk ||
        text::quantize_counts(counts, in.scale, in.zero_point, r.interpreter.input()) != text::TextStatus::kOk)
      fail("a line did not tokenize");
    r.infer();
  }
}

void run_motion(Run& r, std::span<const uint8_t> raw) {
  const auto in = r.model.input_info();
  if (in.rank != 4 || in.dims[2] != 1) fail("the model's input is not a sensor window");
  const auto window = static_cast<uint32_t>(in.dims[1]), axes = static_cast<uint32_t>(in.dims[3]);
  const uint32_t stride = window / 4 > 0 ? window / 4 : 1;  // the host node's default
  motion::MotionWindow steps;
  if (window * axes + axes > sizeof g_ring ||
      steps.init({g_ring, window * axes}, window, axes, stride) != motion::MotionStatus::kOk)
    fail("the window does not fit the ring");
  std::span<int8_t> sample(g_ring + window * axes, axes);
  float values[16];
  if (axes > 16) fail("more than 16 axes");
  const uint32_t row_bytes = axes * 4;
  for (size_t at = 0; at + row_bytes <= raw.size(); at += row_bytes) {
    std::memcpy(values, raw.data() + at, row_bytes);
    motion::quantize_sample({values, axes}, in.scale, in.zero_point, sample);
    if (steps.push(sample)) {
      steps.copy_window(r.interpreter.input());
      r.infer();
    }
  }
}

uint32_t u32(const uint8_t* p) { return p[0] | p[1] << 8 | p[2] << 16 | static_cast<uint32_t>(p[3]) << 24; }

void run_image(Run& r, std::span<const uint8_t> raw) {
  const auto in = r.model.input_info();
  if (in.rank != 4 || (in.dims[3] != 1 && in.dims[3] != 3)) fail("the model's input is not an image");
  const camera::ImageShape dst{static_cast<uint32_t>(in.dims[2]), static_cast<uint32_t>(in.dims[1]),
                               static_cast<uint32_t>(in.dims[3])};
  if (dst.bytes() > sizeof g_frame) fail("the model's image does not fit the frame buffer");
  size_t at = 0;
  while (at + 12 <= raw.size()) {
    const camera::ImageShape src{u32(&raw[at]), u32(&raw[at + 4]), u32(&raw[at + 8])};
    at += 12;
    if (camera::validate(src) != camera::ImageStatus::kOk || src.bytes() > raw.size() - at) fail("a bad frame header");
    if (camera::convert_image(raw.subspan(at, src.bytes()), src, {g_frame, dst.bytes()}, dst) !=
        camera::ImageStatus::kOk)
      fail("a frame did not convert");
    at += src.bytes();
    // pixel / 255 in the model's input quantisation, as the host node's camera does it.
    auto input = r.interpreter.input();
    for (uint32_t i = 0; i < dst.bytes(); ++i) {
      float q = std::round(static_cast<float>(g_frame[i]) / 255.0f / in.scale) + static_cast<float>(in.zero_point);
      q = q < -128.0f ? -128.0f : (q > 127.0f ? 127.0f : q);
      input[i] = static_cast<int8_t>(q);
    }
    r.infer();
  }
}

}  // namespace

int main() {
  static char line[512];
  if (sh::semihost_command_line(line, sizeof line) == 0) fail("no command line");
  // argv: the kernel's file, kind, model, input, outputs.
  char* argv[5] = {};
  int argc = 0;
  for (char* p = line; *p != '\0' && argc < 5;) {
    while (*p == ' ') *p++ = '\0';
    if (*p == '\0') break;
    argv[argc++] = p;
    while (*p != '\0' && *p != ' ') ++p;
  }
  if (argc != 5) fail("usage: -append \"<text|motion|image> <model.tem> <input> <outputs>\"");
  static Run r;
  const uint32_t model_bytes = read_file(argv[2], g_model);
  if (runtime::Model::load({g_model, model_bytes}, r.model) != runtime::Status::kOk) fail("the model does not load");
  if (r.interpreter.init(r.model, g_arena) != runtime::Status::kOk) fail("the arena is too small");
  const uint32_t input_bytes = read_file(argv[3], g_input);
  r.out_handle = sh::semihost_open(argv[4], static_cast<uint32_t>(std::strlen(argv[4])), sh::SemihostMode::kCreate);
  if (r.out_handle < 0) fail("cannot create the outputs file");
  const std::span<const uint8_t> raw(g_input, input_bytes);
  if (std::strcmp(argv[1], "text") == 0) {
    run_text(r, raw);
  } else if (std::strcmp(argv[1], "motion") == 0) {
    run_motion(r, raw);
  } else if (std::strcmp(argv[1], "image") == 0) {
    run_image(r, raw);
  } else {
    fail("the kind is not text, motion or image");
  }
  sh::semihost_print("model bytes ", model_bytes);
  sh::semihost_print("arena bytes ", r.model.arena_bytes());
  sh::semihost_print("RESULT ", r.inferences);
  sh::semihost_exit(0);
}
