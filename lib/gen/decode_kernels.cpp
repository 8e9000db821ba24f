// The register-tiled matrix-vector kernel of the decode step and its naive reference. The order of
// every sum is described in decode_kernels.hpp; the AVX2 path and the portable path follow it
// alike.
#include "ouro/gen/decode_kernels.hpp"

#include <algorithm>
#include <cmath>
#include <type_traits>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define OURO_GEN_AVX2 1
#else
#define OURO_GEN_AVX2 0
#endif

namespace ouro::gen {
namespace {

// Output features per tile when one row is decoded (batch 1: eight independent sums hide the
// latency of the fused multiply-adds) and when several are (4 features x 3 rows = 12 sums, plus
// the 3 input vectors and one weight vector: the 16 vector registers of AVX2).
constexpr int single_row_features = 8;
constexpr int multi_row_features = 4;
constexpr int tile_rows = 3;

// Adds the bias (rounding once) and stores or accumulates.
inline void finish(float dot, const float* bias, std::int64_t o, float* y, LinearInto into) {
    const float v = bias ? dot + bias[o] : dot;
    if (into == LinearInto::add)
        *y += v;
    else
        *y = v;
}

#if OURO_GEN_AVX2

// Lane sum in the fixed tree of the header: (l, l + 4), then (l, l + 2), then (0, 1).
inline float lane_sum(__m256 v) {
    const __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    const __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
    return _mm_cvtss_f32(_mm_add_ss(s2, _mm_shuffle_ps(s2, s2, 1)));
}

inline __m256i tail_mask(std::int64_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(int(n)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// Shapes: x (NR, IN) rows of stride IN, w (F, IN) rows of stride IN; y[r * out_stride + f].
template <int F, int NR>
void tile(const float* x, std::int64_t in, const float* w, const float* bias, std::int64_t o,
          float* y, std::int64_t out_stride, LinearInto into) {
    __m256 acc[NR][F];
    for (int r = 0; r < NR; ++r)
        for (int f = 0; f < F; ++f)
            acc[r][f] = _mm256_setzero_ps();
    std::int64_t k = 0;
    for (; k + 8 <= in; k += 8) {
        __m256 xv[NR];
        for (int r = 0; r < NR; ++r)
            xv[r] = _mm256_loadu_ps(x + r * in + k);
        for (int f = 0; f < F; ++f) {
            const __m256 wv = _mm256_loadu_ps(w + f * in + k);
            for (int r = 0; r < NR; ++r)
                acc[r][f] = _mm256_fmadd_ps(wv, xv[r], acc[r][f]);
        }
    }
    if (k < in) {
        const __m256i mask = tail_mask(in - k);
        __m256 xv[NR];
        for (int r = 0; r < NR; ++r)
            xv[r] = _mm256_maskload_ps(x + r * in + k, mask);
        for (int f = 0; f < F; ++f) {
            const __m256 wv = _mm256_maskload_ps(w + f * in + k, mask);
            for (int r = 0; r < NR; ++r)
                acc[r][f] = _mm256_fmadd_ps(wv, xv[r], acc[r][f]);
        }
    }
    for (int r = 0; r < NR; ++r)
        for (int f = 0; f < F; ++f)
            finish(lane_sum(acc[r][f]), bias, o + f, y + r * out_stride + f, into);
}

#else

// The same order without vector registers: eight lane sums, then the tree.
template <int F, int NR>
void tile(const float* x, std::int64_t in, const float* w, const float* bias, std::int64_t o,
          float* y, std::int64_t out_stride, LinearInto into) {
    for (int r = 0; r < NR; ++r)
        for (int f = 0; f < F; ++f) {
            float lane[8] = {};
            for (std::int64_t k = 0; k < in; ++k)
                lane[k % 8] = std::fma(w[f * in + k], x[r * in + k], lane[k % 8]);
            for (int l = 0; l < 4; ++l)
                lane[l] += lane[l + 4];
            for (int l = 0; l < 2; ++l)
                lane[l] += lane[l + 2];
            finish(lane[0] + lane[1], bias, o + f, y + r * out_stride + f, into);
        }
}

#endif

// Features [o0, o1) for rows [0, R): tiles of F features, each tile meeting every group of NR rows
// while its F weight rows are in L1 (the rows of x, reused by every tile, stay in L2); then the
// last features one at a time.
template <int F, int NR>
void feature_tiles(const float* x, std::int64_t rows, std::int64_t in, const float* weight,
                   const float* bias, float* out, std::int64_t out_stride, std::int64_t o0,
                   std::int64_t o1, LinearInto into) {
    const auto row_groups = [&](auto features, std::int64_t o) {
        constexpr int f = decltype(features)::value;
        const float* w = weight + o * in;
        std::int64_t r = 0;
        for (; r + NR <= rows; r += NR)
            tile<f, NR>(x + r * in, in, w, bias, o, out + r * out_stride + o, out_stride, into);
        if (rows - r == 2)
            tile<f, 2>(x + r * in, in, w, bias, o, out + r * out_stride + o, out_stride, into);
        else if (rows - r == 1)
            tile<f, 1>(x + r * in, in, w, bias, o, out + r * out_stride + o, out_stride, into);
    };
    std::int64_t o = o0;
    for (; o + F <= o1; o += F) {
#if OURO_GEN_AVX2
        // The next tile's weights are on their way while this one computes.
        const std::int64_t next = std::min(o + F, o1);
        const char* first = reinterpret_cast<const char*>(weight + next * in);
        const char* end = reinterpret_cast<const char*>(weight + std::min(next + F, o1) * in);
        for (const char* line = first; line < end; line += 64)
            _mm_prefetch(line, _MM_HINT_T0);
#endif
        row_groups(std::integral_constant<int, F>{}, o);
    }
    for (; o < o1; ++o)
        row_groups(std::integral_constant<int, 1>{}, o);
}

} // namespace

// Shapes: x (R, IN), weight (OUT, IN), bias (OUT) or nullptr, out rows of stride out_stride;
// features [o0, o1) of every row are written.
void decode_linear(const float* x, std::int64_t rows, std::int64_t in, const float* weight,
                   const float* bias, float* out, std::int64_t out_stride, std::int64_t o0,
                   std::int64_t o1, LinearInto into) {
    if (rows == 1)
        feature_tiles<single_row_features, 1>(x, rows, in, weight, bias, out, out_stride, o0, o1,
                                              into);
    else
        feature_tiles<multi_row_features, tile_rows>(x, rows, in, weight, bias, out, out_stride, o0,
                                                     o1, into);
}

void decode_linear_reference(const float* x, std::int64_t rows, std::int64_t in,
                             const float* weight, const float* bias, float* out,
                             std::int64_t out_stride, std::int64_t o0, std::int64_t o1,
                             LinearInto into) {
    for (std::int64_t r = 0; r < rows; ++r)
        for (std::int64_t o = o0; o < o1; ++o) {
            double acc = bias ? double(bias[o]) : 0.0;
            for (std::int64_t k = 0; k < in; ++k)
                acc += double(x[r * in + k]) * double(weight[o * in + k]);
            float& y = out[r * out_stride + o];
            y = into == LinearInto::add ? float(double(y) + acc) : float(acc);
        }
}

} // namespace ouro::gen
