// AVX2 helpers of the numerics module: whether the build has AVX2 + FMA, tail masks, and the
// eight-lane map that the pointwise kernels share. Internal to the library: not installed.
//
// Every lane is computed by the same instructions, so a value's result does not depend on where
// it sits in a buffer: tails go through the same code with masked loads and stores.
#pragma once

#include <cstdint>

#if defined(__AVX2__) && defined(__FMA__)
#define OURO_HAVE_AVX2 1
#include <immintrin.h>
#else
#define OURO_HAVE_AVX2 0
#endif

namespace ouro::numerics {

#if OURO_HAVE_AVX2

/// Lane mask with the first `n` (0..8) lanes set, for masked loads and stores of a tail.
inline __m256i tail_mask(std::int64_t n) {
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(int(n)), lanes);
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

} // namespace ouro::numerics
