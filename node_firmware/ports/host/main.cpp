// tinyedge-node: one or many simulated TinyEdge nodes in one process, talking MQTT to a broker.
//
//   tinyedge-node --model kws.tem --broker tcp://127.0.0.1:1883 --count 200 --id-prefix n
//   tinyedge-node --model speech.tem --audio held_out/ --id speaker1      (WAV files as microphone)
//   tinyedge-node --model image.tem --images photos/ --id cam1            (PNG/JPEG files as camera)
//   tinyedge-node --model motion.tem --motion log.csv --id wrist1         (CSV log as accelerometer)
//   tinyedge-node --model text.tem --text lines.txt --id desk1           (lines of text as the sensor)
//   tinyedge-node --model words.tem --audio mic/ --enroll-from rec/ --id s1 (enrolls rec/<label>.wav on command)
//   tinyedge-node --model emb.tem --images cam/ --enroll-from shots/ --id c1 (enrolls shots/<label>/*.png)
//
// Every node runs the same portable app as the firmware: sample -> infer -> report, results
// kept until the gateway acks them. SIGINT/SIGTERM (or --duration) stops sampling, waits up to
// --drain-ms for the remaining acks, publishes "offline" and exits.
#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <set>
#include <thread>
#include <vector>

#include "node_firmware/audio/audio_status.h"
#include "node_firmware/audio/front_end_record.h"
#include "node_firmware/ports/host/file_sensor.h"
#include "node_firmware/ports/host/image_camera.h"
#include "node_firmware/ports/host/motion_replay.h"
#include "node_firmware/ports/host/node_config.h"
#include "node_firmware/ports/host/sent_log.h"
#include "node_firmware/ports/host/text_lines.h"
#include "node_firmware/ports/host/virtual_node.h"
#include "node_firmware/ports/host/wav_microphone.h"
#include "node_firmware/runtime/model.h"
#include "ota/signing_key.h"
#include "protocol/topics.h"

namespace {

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop = true; }

using Clock = std::chrono::steady_clock;

std::shared_ptr<const std::vector<uint8_t>> read_model(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read model file " + path);
  auto blob =
      std::make_shared<std::vector<uint8_t>>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  tinyedge::runtime::Model model;
  const auto status = tinyedge::runtime::Model::load(*blob, model);
  if (status != tinyedge::runtime::Status::kOk) {
    throw std::runtime_error("model file " + path +
                             " is not a valid .tem model: " + tinyedge::runtime::to_string(status));
  }
  return blob;
}

// The recordings for --audio, at the sample rate of the model's audio front-end.
std::shared_ptr<const tinyedge::host::AudioClips> read_audio(const std::string& path, const std::string& model_path,
                                                             const std::vector<uint8_t>& blob) {
  tinyedge::runtime::Model model;
  (void)tinyedge::runtime::Model::load(blob, model);
  if (model.front_end().empty()) {
    throw std::runtime_error("--audio: model " + model_path + " has no audio front-end record (it takes no audio)");
  }
  tinyedge::audio::AudioFrontEndConfig front_end;
  // An embedding speech model's region is the audio record followed by its EHD1 head.
  std::span<const uint8_t> record = model.front_end();
  if (record.size() > tinyedge::audio::kFrontEndRecordBytes)
    record = record.first(tinyedge::audio::kFrontEndRecordBytes);
  const auto decoded = tinyedge::audio::decode_front_end(record, front_end);
  if (decoded != tinyedge::audio::AudioStatus::kOk) {
    throw std::runtime_error("model " + model_path + ": its front-end record is not one this node runs: " +
                             tinyedge::audio::to_string(decoded));
  }
  return tinyedge::host::load_audio_clips(path, front_end.sample_rate_hz);
}

size_t input_bytes(const std::vector<uint8_t>& blob) {
  tinyedge::runtime::Model model;
  tinyedge::runtime::Model::load(blob, model);
  return model.input_info().element_count;
}

int run(int argc, char** argv) {
  CLI::App app{"TinyEdge simulated node(s) over MQTT"};
  tinyedge::host::FleetOptions opts;
  std::string model_path, samples_path, sent_log_path, id, id_prefix = "node";
  std::string audio_path, images_path, motion_path, text_path, enroll_from;
  uint32_t motion_stride = 0;
  bool audio_once = false;
  uint32_t detect_threshold = opts.detector.threshold;  // uint8_t would parse as a character
  std::string data_dir, provisioned_dir;
  size_t count = 1;
  double duration_s = 0;
  uint32_t drain_ms = 10000;
  double stats_s = 0;
  std::vector<std::string> key_files, rollback_key_files;
  std::string decryption_key_file;
  uint32_t arena_kb = 64;
  size_t flash_kb = 0;
  app.add_option("--model", model_path, "Model file (.tem)")->required();
  app.add_option("--broker", opts.broker_url, "MQTT broker URL")->capture_default_str();
  app.add_option("--id", id, "Node id (single node)");
  app.add_option("--count", count, "Number of virtual nodes")->check(CLI::Range(1, 100000));
  app.add_option("--id-prefix", id_prefix, "Node ids are <prefix><1..count>")->capture_default_str();
  app.add_option("--username", opts.username, "MQTT username ({id} = node id)");
  app.add_option("--password", opts.password, "MQTT password ({id} = node id)");
  app.add_option("--provisioned", provisioned_dir,
                 "Directory of config blobs from `tinyedge fleet provision` (<dir>/<id>.json): each node's "
                 "login, and the broker unless --broker is given");
  app.add_option("--hardware", opts.hardware, "Hardware id the nodes report (OTA packages name the hardware they fit)")
      ->capture_default_str()
      ->check([](const std::string& h) {
        return h.empty() || h.size() > 23 ? std::string("1..23 characters") : std::string();
      });
  app.add_option("--data-dir", data_dir, "Per-node state (boot counter, flash)");
  app.add_option("--samples", samples_path, "Raw int8 input tensors back to back (default: synthetic signal)");
  app.add_option("--audio", audio_path,
                 "Microphone: a 16-bit mono WAV file, or a folder whose .wav files (in path order) play one after "
                 "another, at the model's front-end sample rate (speech models only)");
  app.add_option("--enroll-from", enroll_from,
                 "Enrollment examples of a node running an embedding model (EHD1 head): `tinyedge enroll start "
                 "--label L --examples N` makes a speech node (--audio) read DIR/L.wav (16-bit mono at the model's "
                 "rate, the word said N times with pauses) and enroll its N loudest windows, a camera node "
                 "(--images) enroll the first N frames of DIR/L/*.png (the model's input width and height)")
      ->check(CLI::ExistingDirectory);
  app.add_option("--input-noise", opts.input_noise,
                 "Add Gaussian noise of this standard deviation (int8 steps) to every sensor sample (not to --audio): "
                 "a dirty lens, a noisy sensor")
      ->check(CLI::Range(0.0, 255.0));
  app.add_option("--images", images_path,
                 "Camera: a PNG/JPEG file, or a folder whose images (in path order, sub-folders included) are "
                 "resized to the model's input image and replayed like --samples")
      ->excludes("--samples");
  app.add_option("--motion", motion_path,
                 "Accelerometer: a CSV sensor log (timestamp, axis columns, optional label) cut into the model's "
                 "windows by the node's window step, replayed like --samples")
      ->excludes("--samples")
      ->excludes("--images");
  app.add_option("--text", text_path,
                 "Text: a UTF-8 file whose non-empty lines (after a tab, if any: labels are ignored) go through the "
                 "model's text front-end, replayed like --samples")
      ->excludes("--samples")
      ->excludes("--images")
      ->excludes("--motion");
  app.add_option("--motion-stride", motion_stride, "Samples between windows (default: a quarter window)")
      ->check(CLI::Range(1u, 4096u));
  app.add_flag("--audio-once", audio_once, "Play the recordings once, then hear nothing (default: start over)");
  app.add_option("--detect-threshold", detect_threshold, "Smoothed score (0..255) a keyword must reach")
      ->check(CLI::Range(1, 255))
      ->capture_default_str();
  app.add_option("--detect-smoothing-ms", opts.detector.smoothing_ms, "Scores are averaged over this long")
      ->check(CLI::Range(0u, 10000u))
      ->capture_default_str();
  app.add_option("--detect-refractory-ms", opts.detector.refractory_ms, "No detection within this long after one")
      ->check(CLI::Range(0u, 60000u))
      ->capture_default_str();
  app.add_option("--detect-every", opts.detector.infer_every_strides, "One inference per this many feature rows")
      ->check(CLI::Range(1u, 100u))
      ->capture_default_str();
  app.add_option("--interval-ms", opts.sample_interval_ms, "Milliseconds between inferences")
      ->check(CLI::Range(1u, 3600000u))
      ->capture_default_str();
  app.add_option("--report-interval-ms", opts.report_interval_ms, "Longest a result waits for batching")
      ->check(CLI::Range(1u, 3600000u))
      ->capture_default_str();
  app.add_option("--batch", opts.batch_max, "Results per uplink (1..16)")->check(CLI::Range(1u, 16u));
  app.add_option("--ack-timeout-ms", opts.ack_timeout_ms, "Resend unacked results after this")
      ->check(CLI::Range(100u, 3600000u));
  app.add_option("--telemetry-interval-ms", opts.telemetry_interval_ms, "Telemetry period")
      ->check(CLI::Range(100u, 86400000u));
  app.add_option("--top-k", opts.top_k, "Classes per result (1..5)")->check(CLI::Range(1u, 5u));
  app.add_option("--ring", opts.ring_capacity, "Results kept until acked, per node")->check(CLI::Range(1, 1000000));
  app.add_option("--keepalive", opts.keepalive_s, "MQTT keepalive seconds")->check(CLI::Range(1, 3600));
  app.add_option("--trust-key", key_files,
                 "Fleet public key (PEM, from `tinyedge keys generate`) updates must be signed with");
  app.add_option(
      "--trust-rollback-key", rollback_key_files,
      "Public key (PEM) trusted only for rollback grants, never for packages (the gateway's --rollback-key)");
  app.add_option("--decryption-key", decryption_key_file,
                 "Fleet payload decryption key (PEM private key, from `tinyedge keys generate --encryption`): "
                 "without it encrypted packages are refused (not_for_this_key)")
      ->check(CLI::ExistingFile);
  app.add_option("--arena-kb", arena_kb, "RAM a model may use, KB (at least the factory model's arena)")
      ->check(CLI::Range(1u, 65536u))
      ->capture_default_str();
  app.add_option("--flash-kb", flash_kb, "Emulated flash per node, KB (0: two slots of 1.25x the model)")
      ->check(CLI::Range(0, 1048576));
  app.add_option("--duration", duration_s, "Run this many seconds (0: until SIGINT/SIGTERM)");
  app.add_option("--drain-ms", drain_ms, "On stop, wait this long for outstanding acks")->capture_default_str();
  app.add_option("--sent-log", sent_log_path, "Write per-node seq ranges sent, per boot");
  app.add_option("--stats-interval", stats_s, "Print fleet statistics every N seconds to stderr");
  CLI11_PARSE(app, argc, argv);

  if (!enroll_from.empty() && audio_path.empty() && images_path.empty())
    throw std::runtime_error("--enroll-from needs --audio (DIR/<label>.wav) or --images (DIR/<label>/*.png)");
  if (!id.empty() && count != 1) throw std::runtime_error("--id names one node; use --id-prefix with --count");
  opts.model = read_model(model_path);
  if (!audio_path.empty()) opts.audio = read_audio(audio_path, model_path, *opts.model);
  opts.audio_loop = !audio_once;
  opts.enroll_from = enroll_from;
  opts.detector.threshold = static_cast<uint8_t>(detect_threshold);
  if (!samples_path.empty()) opts.samples = tinyedge::host::load_samples(samples_path, input_bytes(*opts.model));
  if (!images_path.empty()) opts.samples = tinyedge::host::load_camera_images(images_path, *opts.model);
  opts.camera = !images_path.empty();
  if (!motion_path.empty()) opts.samples = tinyedge::host::load_motion_windows(motion_path, *opts.model, motion_stride);
  if (!text_path.empty()) opts.samples = tinyedge::host::load_text_lines(text_path, *opts.model);
  opts.data_dir = data_dir;
  opts.arena_bytes = arena_kb * 1024;
  opts.flash_bytes = flash_kb * 1024;
  const auto read_key = [](const std::string& file) {
    std::ifstream in(file);
    if (!in) throw std::runtime_error("cannot read key file " + file);
    const std::string pem((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    try {
      return tinyedge::ota::public_key_from_pem(pem);
    } catch (const std::exception& e) {
      throw std::runtime_error("key file " + file + ": " + e.what());
    }
  };
  for (const auto& file : key_files) opts.keys.push_back(read_key(file));
  for (const auto& file : rollback_key_files) {
    opts.rollback_keys.push_back(read_key(file));
    for (const auto& fleet : opts.keys) {
      if (fleet.id == opts.rollback_keys.back().id)
        throw std::runtime_error("--trust-rollback-key " + file +
                                 " is a fleet key (--trust-key): a key trusted for "
                                 "packages must not also sign rollback grants");
    }
  }

  if (!decryption_key_file.empty()) {
    std::ifstream in(decryption_key_file);
    const std::string pem((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    try {
      opts.decryption_key = tinyedge::ota::decryption_key_from_pem(pem);
    } catch (const std::exception& e) {
      throw std::runtime_error("--decryption-key " + decryption_key_file + ": " + e.what());
    }
  }

  std::unique_ptr<tinyedge::host::SentLog> sent_log;
  if (!sent_log_path.empty()) sent_log = std::make_unique<tinyedge::host::SentLog>(sent_log_path);

  // Provisioned nodes each have their own login: one options copy per node (VirtualNode keeps a reference).
  std::vector<std::unique_ptr<const tinyedge::host::FleetOptions>> node_options;
  if (!provisioned_dir.empty() && opts.keys.empty()) {
    throw std::runtime_error("--provisioned needs --trust-key: the blobs name the fleet key the nodes trust");
  }
  std::vector<std::unique_ptr<tinyedge::host::VirtualNode>> nodes;
  nodes.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    const std::string node_id = !id.empty() ? id : id_prefix + std::to_string(i + 1);
    if (!tinyedge::protocol::is_valid_node_id(node_id)) {
      throw std::runtime_error("invalid node id '" + node_id + "' (1..32 of [A-Za-z0-9_-])");
    }
    const tinyedge::host::FleetOptions* options = &opts;
    if (!provisioned_dir.empty()) {
      node_options.push_back(std::make_unique<const tinyedge::host::FleetOptions>(
          tinyedge::host::apply_node_config(provisioned_dir, node_id, opts, app.count("--broker") > 0)));
      options = node_options.back().get();
    }
    nodes.push_back(std::make_unique<tinyedge::host::VirtualNode>(node_id, i, *options, sent_log.get()));
  }
  // Which payload key the blobs gave (one line per key, not per node: a fleet shares one).
  std::set<std::string> blob_decryption_keys;
  for (const auto& options : node_options) {
    if (options->decryption_key) blob_decryption_keys.insert(tinyedge::ota::key_id_hex(options->decryption_key->id));
  }
  for (const auto& key_id : blob_decryption_keys) {
    std::fprintf(stderr, "tinyedge-node: payload decryption key %s from the config blobs\n", key_id.c_str());
  }

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);

  // Nodes start staggered over one interval so a fleet does not infer in lockstep.
  const auto start = Clock::now();
  std::vector<Clock::time_point> start_at(count);
  for (size_t i = 0; i < count; ++i) {
    start_at[i] = start + std::chrono::microseconds(uint64_t{opts.sample_interval_ms} * 1000 * i / count);
  }
  const auto deadline =
      duration_s > 0 ? start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(duration_s))
                     : Clock::time_point::max();
  auto next_stats = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(stats_s));
  uint64_t last_inferences = 0;
  auto last_stats = start;
  bool draining = false;
  Clock::time_point drain_until{};
  double busy_s = 0;

  for (;;) {
    const auto pass_start = Clock::now();
    if (!draining && (g_stop || pass_start >= deadline)) {
      draining = true;
      drain_until = pass_start + std::chrono::milliseconds(drain_ms);
      for (auto& n : nodes) n->set_sampling(false);
    }
    size_t unacked = 0;
    for (size_t i = 0; i < count; ++i) {
      if (pass_start < start_at[i] && !draining) continue;
      nodes[i]->step();
      unacked += nodes[i]->unacked();
    }
    const auto pass_end = Clock::now();
    busy_s += std::chrono::duration<double>(pass_end - pass_start).count();
    if (draining && (unacked == 0 || pass_end >= drain_until)) break;

    if (stats_s > 0 && pass_end >= next_stats) {
      uint64_t inferences = 0, dropped = 0, resends = 0;
      size_t connected = 0;
      for (auto& n : nodes) {
        inferences += n->counters().inferences;
        resends += n->counters().resends;
        connected += n->connected() ? 1 : 0;
      }
      const double dt = std::chrono::duration<double>(pass_end - last_stats).count();
      std::fprintf(stderr,
                   "stats t=%.1fs nodes=%zu connected=%zu inferences=%llu rate=%.1f/s unacked=%zu resends=%llu "
                   "busy=%.0f%%\n",
                   std::chrono::duration<double>(pass_end - start).count(), count, connected,
                   static_cast<unsigned long long>(inferences), (inferences - last_inferences) / dt, unacked,
                   static_cast<unsigned long long>(resends), 100.0 * busy_s / dt);
      (void)dropped;
      last_inferences = inferences;
      last_stats = pass_end;
      busy_s = 0;
      next_stats = pass_end + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(stats_s));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }

  for (auto& n : nodes) n->finish();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tinyedge-node: %s\n", e.what());
    return 1;
  }
}
