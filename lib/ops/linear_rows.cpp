// linear's decode schedule: the register-tiled matrix-vector kernel (float or half-precision
// weights) and its naive reference. The order of every sum is described in matmul.hpp; the AVX2
// path and the portable path follow it alike. (A file of its own because of the F16C target below.)
//
// Half-precision weights are widened with F16C's vcvtph2ps, which every AVX2 processor has but
// -mavx2 does not enable: this file alone is compiled for it (the target pragma below).
#include "ouro/ops/matmul.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define OURO_ROWS_AVX2 1
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("f16c"))), apply_to = function)
#elif defined(__GNUC__)
#pragma GCC target("f16c")
#endif
#else
#define OURO_ROWS_AVX2 0
#endif

namespace ouro::ops {
namespace {

// Output features per tile when one row is decoded (batch 1: eight independent sums hide the
// latency of the fused multiply-adds) and when several are (4 features x 3 rows = 12 sums, plus
// the 3 input vectors and one weight vector: the 16 vector registers of AVX2).
constexpr int single_row_features = 8;
constexpr int multi_row_features = 4;
constexpr int tile_rows = 3;

// Eight weights as floats: a plain load, or eight halves widened (exactly).
#if OURO_ROWS_AVX2
inline __m256 load8(const float* w) {
    return _mm256_loadu_ps(w);
}
inline __m256 load8(const Half* w) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w)));
}
// The first n (1..7) weights, the rest zero.
inline __m256 load_tail(const float* w, std::int64_t n, __m256i mask) {
    (void)n;
    return _mm256_maskload_ps(w, mask);
}
inline __m256 load_tail(const Half* w, std::int64_t n, __m256i) {
    Half buf[8] = {};
    std::memcpy(buf, w, std::size_t(n) * sizeof(Half));
    return load8(buf);
}
#endif

inline float widen(float w) {
    return w;
}
inline float widen(Half h) {
    return half_to_float(h);
}

// Adds the bias (rounding once) and stores or accumulates.
inline void finish(float dot, const float* bias, std::int64_t o, float* y, LinearInto into) {
    const float v = bias ? dot + bias[o] : dot;
    if (into == LinearInto::add)
        *y += v;
    else
        *y = v;
}

#if OURO_ROWS_AVX2

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
// With `next` (the address of the following F weight rows), the loop also prefetches them, at the
// rate it reads its own: the next tile's weights arrive from memory while this one computes.
template <int F, int NR, typename W>
void tile(const float* x, std::int64_t in, const W* w, const float* bias, std::int64_t o, float* y,
          std::int64_t out_stride, LinearInto into, const char* next) {
    constexpr std::int64_t prefetch_bytes = 8 * F * std::int64_t(sizeof(W)); // per 8 columns
    const char* pf = next;
    __m256 acc[NR][F];
    for (int r = 0; r < NR; ++r)
        for (int f = 0; f < F; ++f)
            acc[r][f] = _mm256_setzero_ps();
    std::int64_t k = 0;
    for (; k + 8 <= in; k += 8) {
        if (pf)
            for (std::int64_t b = 0; b < prefetch_bytes; b += 64)
                _mm_prefetch(pf + k / 8 * prefetch_bytes + b, _MM_HINT_T0);
        __m256 xv[NR];
        for (int r = 0; r < NR; ++r)
            xv[r] = _mm256_loadu_ps(x + r * in + k);
        for (int f = 0; f < F; ++f) {
            const __m256 wv = load8(w + f * in + k);
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
            const __m256 wv = load_tail(w + f * in + k, in - k, mask);
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
template <int F, int NR, typename W>
void tile(const float* x, std::int64_t in, const W* w, const float* bias, std::int64_t o, float* y,
          std::int64_t out_stride, LinearInto into, const char*) {
    for (int r = 0; r < NR; ++r)
        for (int f = 0; f < F; ++f) {
            float lane[8] = {};
            for (std::int64_t k = 0; k < in; ++k)
                lane[k % 8] = std::fma(widen(w[f * in + k]), x[r * in + k], lane[k % 8]);
            for (int l = 0; l < 4; ++l)
                lane[l] += lane[l + 4];
            for (int l = 0; l < 2; ++l)
                lane[l] += lane[l + 2];
            finish(lane[0] + lane[1], bias, o + f, y + r * out_stride + f, into);
        }
}

#endif

// The address of the F weight rows after row o + F - 1, for a prefetch only: past the last tile of
// [o0, o1) it points at the rows that follow (or past the matrix), which the next call over a
// matrix split into blocks of features reads next. Prefetches never fault; the address is computed
// as an integer because the pointer may lie outside the weights' allocation.
template <int F, typename W>
const char* rows_after(const W* weight, std::int64_t o, std::int64_t in) {
    return reinterpret_cast<const char*>(reinterpret_cast<std::uintptr_t>(weight) +
                                         std::uintptr_t((o + F) * in) * sizeof(W));
}

// Features [o0, o1) for rows [0, R): tiles of F features, each tile meeting every group of NR rows
// while its F weight rows are in L1 (the rows of x, reused by every tile, stay in L2); then the
// last features one at a time.
template <int F, int NR, typename W>
void feature_tiles(const float* x, std::int64_t rows, std::int64_t in, const W* weight,
                   const float* bias, float* out, std::int64_t out_stride, std::int64_t o0,
                   std::int64_t o1, LinearInto into) {
    // The first group of rows prefetches the rows after the tile, the last tile's included: a
    // block of 32 features is only 4 tiles, and without it the first tile of every block waited
    // for memory (batch-1 decoding went from 18 to 35 GB/s of weights).
    const auto row_groups = [&](auto features, std::int64_t o, const char* next) {
        constexpr int f = decltype(features)::value;
        const W* w = weight + o * in;
        std::int64_t r = 0;
        for (; r + NR <= rows; r += NR, next = nullptr)
            tile<f, NR>(x + r * in, in, w, bias, o, out + r * out_stride + o, out_stride, into,
                        next);
        if (rows - r == 2)
            tile<f, 2>(x + r * in, in, w, bias, o, out + r * out_stride + o, out_stride, into,
                       next);
        else if (rows - r == 1)
            tile<f, 1>(x + r * in, in, w, bias, o, out + r * out_stride + o, out_stride, into,
                       next);
    };
    std::int64_t o = o0;
    for (; o + F <= o1; o += F)
        row_groups(std::integral_constant<int, F>{}, o, rows_after<F>(weight, o, in));
    for (; o < o1; ++o)
        row_groups(std::integral_constant<int, 1>{}, o, nullptr);
}

template <typename W>
void rows_kernel(const float* x, std::int64_t rows, std::int64_t in, const W* weight,
                 const float* bias, float* out, std::int64_t out_stride, std::int64_t o0,
                 std::int64_t o1, LinearInto into) {
    if (rows == 1)
        feature_tiles<single_row_features, 1>(x, rows, in, weight, bias, out, out_stride, o0, o1,
                                              into);
    else
        feature_tiles<multi_row_features, tile_rows>(x, rows, in, weight, bias, out, out_stride, o0,
                                                     o1, into);
}

template <typename W>
void rows_reference(const float* x, std::int64_t rows, std::int64_t in, const W* weight,
                    const float* bias, float* out, std::int64_t out_stride, std::int64_t o0,
                    std::int64_t o1, LinearInto into) {
    for (std::int64_t r = 0; r < rows; ++r)
        for (std::int64_t o = o0; o < o1; ++o) {
            double acc = bias ? double(bias[o]) : 0.0;
            for (std::int64_t k = 0; k < in; ++k)
                acc += double(x[r * in + k]) * double(widen(weight[o * in + k]));
            float& y = out[r * out_stride + o];
            y = into == LinearInto::add ? float(double(y) + acc) : float(acc);
        }
}

} // namespace

// Shapes: x (R, IN), weight (OUT, IN), bias (OUT) or nullptr, out rows of stride out_stride;
// features [o0, o1) of every row are written.
void linear_rows(const float* x, std::int64_t rows, std::int64_t in, const float* weight,
                 const float* bias, float* out, std::int64_t out_stride, std::int64_t o0,
                 std::int64_t o1, LinearInto into) {
    rows_kernel(x, rows, in, weight, bias, out, out_stride, o0, o1, into);
}

void linear_rows(const float* x, std::int64_t rows, std::int64_t in, const Half* weight,
                 const float* bias, float* out, std::int64_t out_stride, std::int64_t o0,
                 std::int64_t o1, LinearInto into) {
    rows_kernel(x, rows, in, weight, bias, out, out_stride, o0, o1, into);
}

void linear_rows_reference(const float* x, std::int64_t rows, std::int64_t in, const float* weight,
                           const float* bias, float* out, std::int64_t out_stride, std::int64_t o0,
                           std::int64_t o1, LinearInto into) {
    rows_reference(x, rows, in, weight, bias, out, out_stride, o0, o1, into);
}

void linear_rows_reference(const float* x, std::int64_t rows, std::int64_t in, const Half* weight,
                           const float* bias, float* out, std::int64_t out_stride, std::int64_t o0,
                           std::int64_t o1, LinearInto into) {
    rows_reference(x, rows, in, weight, bias, out, out_stride, o0, o1, into);
}

} // namespace ouro::ops

#if OURO_ROWS_AVX2 && defined(__clang__)
#pragma clang attribute pop
#endif
