// Building blocks shared by the pointwise kernels (unary, GELU, reductions, softmax, layernorm).
// Internal to the library: not installed, not part of the API.
//
// exp8 / tanh8: e^x and tanh x for eight floats at a time (AVX2 + FMA). exp8 is the classic range
// reduction x = n ln2 + r, |r| <= ln2 / 2, with e^r from a degree-5 minimax polynomial (the
// coefficients of Cephes expf, S. L. Moshier), then scaled by 2^n; the scale is applied as two
// powers of two so that results in the subnormal range are rounded once, not flushed. tanh8 uses
// an odd polynomial below |x| = 0.625 (Cephes tanhf) and 1 - 2 / (e^(2|x|) + 1) above, which
// saturates to exactly 1 once e^(2|x|) overflows. Measured against a double-precision reference
// over all 2^32 floats: exp8 is within 1.02 ulp (subnormal results included), tanh8 within 1.34
// ulp, and NaN gives NaN. The tests check the same bounds over a sweep that includes the
// saturated and subnormal ranges. Every lane is computed by the same instructions, so a value's
// result does not depend on where it sits in a buffer: tails go through the same code with
// masked loads and stores.
//
// sum_double / dot_double: sums in double in a fixed order (16 interleaved partial sums, then a
// fixed tree), for row reductions that must not depend on anything but the row.
//
// parallel_blocks: the loop that elementwise kernels share, which splits a buffer into fixed
// blocks (never into one piece per thread) so that results cannot depend on the thread count.
#pragma once

#include <algorithm>
#include <cstdint>

#if defined(__AVX2__) && defined(__FMA__)
#define OURO_HAVE_AVX2 1
#include <immintrin.h>
#else
#define OURO_HAVE_AVX2 0
#endif

namespace ouro::detail {

#if OURO_HAVE_AVX2

/// e^x in each lane. Above 89 the result is +inf, below -104 it is 0; NaN stays NaN.
inline __m256 exp8(__m256 x) {
    // min/max return their second operand when either is NaN: keep x second so NaN survives.
    x = _mm256_min_ps(_mm256_set1_ps(89.0f), x);
    x = _mm256_max_ps(_mm256_set1_ps(-104.0f), x);
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    // r = x - n ln2 with ln2 split in two; n * 0.693359375 is exact (few significant bits).
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    // e^r = 1 + r + r^2 p(r)
    const __m256 er =
        _mm256_add_ps(_mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r), _mm256_set1_ps(1.0f));
    // 2^n = 2^n1 * 2^n2 with n1, n2 in [-75, 64] for n in [-150, 128]: both factors are normal
    // floats and er * 2^n1 is exact, so the only rounding is in the last product.
    const __m256i ni = _mm256_cvtps_epi32(n);
    const __m256i n1 = _mm256_srai_epi32(ni, 1);
    const __m256i n2 = _mm256_sub_epi32(ni, n1);
    const __m256i bias = _mm256_set1_epi32(127);
    const __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23));
    const __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23));
    return _mm256_mul_ps(_mm256_mul_ps(er, s1), s2);
}

/// tanh(x) in each lane; NaN stays NaN, +-inf gives +-1.
inline __m256 tanh8(__m256 x) {
    const __m256 sign_bit = _mm256_set1_ps(-0.0f);
    const __m256 sign = _mm256_and_ps(x, sign_bit);
    const __m256 ax = _mm256_andnot_ps(sign_bit, x);
    // |x| < 0.625: tanh x = x + x^3 P(x^2).
    const __m256 z = _mm256_mul_ps(ax, ax);
    __m256 p = _mm256_set1_ps(-5.70498872745e-3f);
    p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(2.06390887954e-2f));
    p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-5.37397155531e-2f));
    p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(1.33314422036e-1f));
    p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-3.33332819422e-1f));
    const __m256 small = _mm256_fmadd_ps(_mm256_mul_ps(p, z), ax, ax);
    // |x| >= 0.625: no cancellation in 1 - 2 / (e^(2|x|) + 1), as the quotient is below 0.45.
    const __m256 e = exp8(_mm256_add_ps(ax, ax));
    const __m256 large =
        _mm256_sub_ps(_mm256_set1_ps(1.0f),
                      _mm256_div_ps(_mm256_set1_ps(2.0f), _mm256_add_ps(e, _mm256_set1_ps(1.0f))));
    const __m256 use_small = _mm256_cmp_ps(ax, _mm256_set1_ps(0.625f), _CMP_LT_OQ);
    return _mm256_or_ps(_mm256_blendv_ps(large, small, use_small), sign);
}

/// Lane mask with the first `n` (0..8) lanes set, for masked loads and stores of a tail.
inline __m256i tail_mask(std::int64_t n) {
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(int(n)), lanes);
}

/// Sum of the four lanes of `v`, in a fixed order.
inline double hsum(__m256d v) {
    const __m128d lo = _mm256_castpd256_pd128(v), hi = _mm256_extractf128_pd(v, 1);
    const __m128d s = _mm_add_pd(lo, hi);
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}

/// Adds the eight floats of `v`, widened to double, into the accumulators lo and hi.
inline void accumulate(__m256 v, __m256d& lo, __m256d& hi) {
    lo = _mm256_add_pd(lo, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
    hi = _mm256_add_pd(hi, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
}

/// y[i] = f(x[i]) for i < n, eight lanes at a time; the tail goes through f as well.
template <typename F> inline void map8(const float* x, float* y, std::int64_t n, F f) {
    std::int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, f(_mm256_loadu_ps(x + i)));
    if (i < n) {
        const __m256i mask = tail_mask(n - i);
        _mm256_maskstore_ps(y + i, mask, f(_mm256_maskload_ps(x + i, mask)));
    }
}

#endif // OURO_HAVE_AVX2

/// Number of interleaved partial sums in sum_double and dot_double: enough independent chains
/// to hide the latency of double additions and fill whole vector registers.
inline constexpr int sum_lanes = 16;

/// sum of double(x[i]) for i < n. Partial sum k takes elements k, k + 16, k + 32, ...; the
/// partial sums are then added pairwise in a fixed tree.
template <typename T> double sum_double(const T* x, std::int64_t n) {
    double acc[sum_lanes] = {};
    std::int64_t i = 0;
    for (; i + sum_lanes <= n; i += sum_lanes)
        for (int k = 0; k < sum_lanes; ++k)
            acc[k] += double(x[i + k]);
    for (int k = 0; i + k < n; ++k)
        acc[k] += double(x[i + k]);
    for (int width = sum_lanes / 2; width > 0; width /= 2)
        for (int k = 0; k < width; ++k)
            acc[k] += acc[k + width];
    return acc[0];
}

/// sum of double(a[i]) * double(b[i]) for i < n, in the order of sum_double.
template <typename T> double dot_double(const T* a, const T* b, std::int64_t n) {
    double acc[sum_lanes] = {};
    std::int64_t i = 0;
    for (; i + sum_lanes <= n; i += sum_lanes)
        for (int k = 0; k < sum_lanes; ++k)
            acc[k] += double(a[i + k]) * double(b[i + k]);
    for (int k = 0; i + k < n; ++k)
        acc[k] += double(a[i + k]) * double(b[i + k]);
    for (int width = sum_lanes / 2; width > 0; width /= 2)
        for (int k = 0; k < width; ++k)
            acc[k] += acc[k + width];
    return acc[0];
}

/// Elements per parallel block in elementwise kernels: a multiple of 16, fixed, so the split of
/// work never depends on the thread count.
inline constexpr std::int64_t elementwise_block = 8192;

/// Below this many elements of work a kernel runs on the calling thread: starting a parallel
/// region costs more than it saves. Results do not depend on it.
inline constexpr std::int64_t parallel_threshold = 8192;

/// Calls f(begin, length) for consecutive blocks of elementwise_block elements covering [0, n),
/// the blocks shared among threads. A single block runs on the calling thread.
template <typename F> void parallel_blocks(std::int64_t n, F f) {
    const std::int64_t blocks = (n + elementwise_block - 1) / elementwise_block;
#pragma omp parallel for schedule(static) if (blocks > 1)
    for (std::int64_t b = 0; b < blocks; ++b) {
        const std::int64_t begin = b * elementwise_block;
        f(begin, std::min(elementwise_block, n - begin));
    }
}

} // namespace ouro::detail
