// Where the words are in an enrollment recording: the loudest windows of it. A user says a new
// word N times with pauses between; the N loudest non-overlapping windows (as long as the model's
// input window, ~1 s for a keyword model) are the N utterances. No buffer: each pick is one
// sliding pass over the samples, so N picks cost N passes and no RAM beyond `starts`.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

namespace tinyedge::audio {

// Fills `starts` with the first samples of the loudest non-overlapping windows of `window`
// samples, on a grid of `hop` samples, loudest first (equal energy: earliest first). A window
// with less than 1/floor_ratio of the loudest one's energy is the pause between words, not a word,
// and is not picked (floor_ratio 0: any window). Returns how many were found: fewer than
// starts.size() when the recording holds no more (0 when it is shorter than one window, or window
// or hop is 0).
size_t loudest_windows(std::span<const int16_t> samples, size_t window, size_t hop, uint32_t floor_ratio,
                       std::span<size_t> starts);

}  // namespace tinyedge::audio
