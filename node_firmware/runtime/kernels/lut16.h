// TFLite's int16 LOGISTIC and TANH (the lookup-table variant its LSTM gates use): the input in
// Q3.12 scaled by 3/4 into the table's 1/24 steps, linear interpolation between two entries of
// sigmoid(i/24) in Q0.16, tanh through tanh(x) = 2 sigmoid(2x) - 1. Results are Q0.15.
#pragma once
#include <cstdint>

namespace tinyedge::runtime::kernels::lut16 {

// sigmoid(i / 24) in Q0.16 for i = 0..255, the values TFLite tabulates (not all of them are the
// nearest rounding of the formula, so bit-exactness needs these exact numbers).
inline constexpr uint16_t kSigmoid[256] = {
    32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498, 40149, 40794, 41432, 42064, 42688,
    43304, 43912, 44511, 45102, 45683, 46255, 46817, 47369, 47911, 48443, 48964, 49475, 49975, 50464, 50942, 51409,
    51865, 52311, 52745, 53169, 53581, 53983, 54374, 54755, 55125, 55485, 55834, 56174, 56503, 56823, 57133, 57433,
    57724, 58007, 58280, 58544, 58800, 59048, 59288, 59519, 59743, 59959, 60168, 60370, 60565, 60753, 60935, 61110,
    61279, 61441, 61599, 61750, 61896, 62036, 62172, 62302, 62428, 62549, 62666, 62778, 62886, 62990, 63090, 63186,
    63279, 63368, 63454, 63536, 63615, 63691, 63765, 63835, 63903, 63968, 64030, 64090, 64148, 64204, 64257, 64308,
    64357, 64405, 64450, 64494, 64536, 64576, 64614, 64652, 64687, 64721, 64754, 64786, 64816, 64845, 64873, 64900,
    64926, 64950, 64974, 64997, 65019, 65039, 65060, 65079, 65097, 65115, 65132, 65149, 65164, 65179, 65194, 65208,
    65221, 65234, 65246, 65258, 65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360, 65367,
    65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425, 65429, 65433, 65438, 65442, 65445, 65449,
    65453, 65456, 65459, 65462, 65465, 65468, 65471, 65474, 65476, 65479, 65481, 65483, 65485, 65488, 65489, 65491,
    65493, 65495, 65497, 65498, 65500, 65501, 65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513,
    65514, 65515, 65516, 65517, 65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522, 65523, 65523, 65524, 65524,
    65525, 65525, 65526, 65526, 65526, 65527, 65527, 65528, 65528, 65528, 65529, 65529, 65529, 65529, 65530, 65530,
    65530, 65530, 65531, 65531, 65531, 65531, 65531, 65532, 65532, 65532, 65532, 65532, 65532, 65533, 65533, 65533,
    65533, 65533, 65533, 65533, 65533, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65535,
};

// Logistic of a Q3.12 value already multiplied by 3 (|x3| < 2^17): Q0.15 in [0, 32767].
inline int16_t logistic_scaled(int32_t x3) {
  const uint32_t magnitude = static_cast<uint32_t>(x3 < 0 ? -x3 : x3);
  const uint32_t step = magnitude >> 9;  // 1/24 per step: 512 = 2^7 (Q3.12 -> 1/32) * 4 (the 3/4 scale)
  uint32_t value;                        // sigmoid(|x|) in Q0.25
  if (step >= 255) {
    value = uint32_t{0x7FFF} << 10;
  } else {
    const uint32_t lo = kSigmoid[step], hi = kSigmoid[step + 1];
    value = (lo << 9) + (magnitude & 0x1FF) * (hi - lo);
  }
  // sigmoid(-x) = 1 - sigmoid(x), rounded half up back to 15 bits.
  value = x3 >= 0 ? value + (1u << 9) : (1u << 25) - value + (1u << 9) - 1;
  return static_cast<int16_t>(value >> 10);
}

// Tanh of an input already rescaled into Q3.12 * 3 (|x3| < 2^17): Q0.15 in [-32768, 32767].
inline int16_t tanh_scaled(int32_t x3) {
  const uint32_t magnitude = static_cast<uint32_t>(x3 < 0 ? -x3 : x3);
  const uint32_t step = magnitude >> 8;  // twice the logistic's resolution: tanh(x) uses sigmoid(2x)
  int32_t value;                         // sigmoid(2|x|) in Q0.24
  if (step >= 255) {
    value = int32_t{0xFFFF} << 8;
  } else {
    const uint32_t lo = kSigmoid[step], hi = kSigmoid[step + 1];
    value = static_cast<int32_t>((lo << 8) + (magnitude & 0xFF) * (hi - lo));
  }
  // 2 sigmoid - 1, odd in x, rounded at the 8 bits dropped below.
  value = x3 >= 0 ? value - (1 << 23) + (1 << 7) : -value + (1 << 23) + (1 << 7) - 1;
  return static_cast<int16_t>(value >> 8);
}

// The rescale in front of the table: (x * multiplier + half) >> shift, as TFLite's int16 kernels
// apply input_multiplier / input_left_shift (a power-of-two scale has multiplier 3 << k, shift 0).
inline int32_t rescale(int16_t x, int32_t multiplier, int32_t shift) {
  const int32_t half = shift > 0 ? int32_t{1} << (shift - 1) : 0;
  return (x * multiplier + half) >> shift;
}

}  // namespace tinyedge::runtime::kernels::lut16
