// The library's one float exp, as a scalar function and as its eight-lane AVX2 twin, and the tanh
// built on it. Internal to the library: not installed.
//
// exp_approx(x) and exp8(x) run the same operations in the same order (IEEE additions,
// multiplications and fused multiply-adds only, no libm call), so every lane of exp8 equals
// exp_approx of that lane bit for bit (tests/numerics checks it), and GCC vectorises loops over
// exp_approx without -ffast-math. Cody-Waite reduction: x = n ln2 + r with n = round(x / ln2),
// |r| <= ln2 / 2, ln2 split in a short high part (so that n * ln2_hi is exact) and a low
// correction; e^r by its Taylor polynomial of degree 7 (truncation error below 6e-9, a twentieth
// of an ulp of 1); 2^n is built in the exponent field as two normal factors, so results in the
// subnormal range are rounded once, not flushed. Accuracy: within 0.94 ulp of the exact exp
// wherever the result is a normal float (x in [-87.33, 88.72]); exp(-inf) = 0, exp(+inf) = +inf,
// NaN gives NaN.
//
// tanh8 uses an odd polynomial below |x| = 0.625 (Cephes tanhf, S. L. Moshier) and
// 1 - 2 / (e^(2|x|) + 1) above, with the roundings of the denominator and of the quotient
// corrected. Measured against a double-precision reference over all 2^32 floats: exp within
// 0.9386 ulp (subnormal results included), tanh within 1.0613 ulp, and every lane of exp8 equal
// to exp_approx.
#pragma once

#include "simd.hpp"

#include <bit>
#include <cmath>
#include <cstdint>
#include <type_traits>

namespace ouro::numerics {

namespace exp_constants {
inline constexpr float log2e = 1.44269504088896341f;
inline constexpr float ln2_hi = 0.693359375f;     // 9 significant bits: n * ln2_hi is exact
inline constexpr float ln2_lo = -2.12194440e-4f;  // ln2 - ln2_hi
inline constexpr float round_magic = 12582912.0f; // 1.5 * 2^23: adding it rounds to an integer
inline constexpr std::int32_t magic_bits = 0x4B400000;
// Clamping keeps n in [-173, 128], where 2^n splits into two normal factors; the clamped ends
// still round to 0 and +inf.
inline constexpr float lowest = -120.0f;
inline constexpr float highest = 89.0f;
// Taylor coefficients 1/7!, 1/6!, 1/5!, 1/4!, 1/3! (then 1/2, 1, 1), in Horner order.
inline constexpr float c7 = 1.0f / 5040.0f, c6 = 1.0f / 720.0f, c5 = 1.0f / 120.0f,
                       c4 = 1.0f / 24.0f, c3 = 1.0f / 6.0f;
} // namespace exp_constants

/// e^x for float; see the file comment for its accuracy and range.
inline float exp_approx(float x) {
    using namespace exp_constants;
    // Selects against constants, so GCC vectorises the function (a NaN passes both).
    float xc = x < lowest ? lowest : x;
    xc = xc > highest ? highest : xc;
    const float shifted = std::fma(xc, log2e, round_magic);
    const float n = shifted - round_magic;
    const std::int32_t ni = std::bit_cast<std::int32_t>(shifted) - magic_bits; // n as an integer
    float r = std::fma(n, -ln2_hi, xc);
    r = std::fma(n, -ln2_lo, r);
    float p = c7;
    p = std::fma(p, r, c6);
    p = std::fma(p, r, c5);
    p = std::fma(p, r, c4);
    p = std::fma(p, r, c3);
    p = std::fma(p, r, 0.5f);
    p = std::fma(p, r, 1.0f);
    p = std::fma(p, r, 1.0f);
    // 2^n = 2^a * 2^b; the second product rounds once, into a subnormal, zero or +inf where the
    // true result is one.
    const std::int32_t a = ni >> 1, b = ni - a;
    return p * std::bit_cast<float>((a + 127) << 23) * std::bit_cast<float>((b + 127) << 23);
}

/// exp for the kernels: exp_approx for float, std::exp for double (gradient checks run in double
/// and need the exact function).
template <typename T> inline T exp_kernel(T x) {
    if constexpr (std::is_same_v<T, float>)
        return exp_approx(x);
    else
        return std::exp(x);
}

#if OURO_HAVE_AVX2

/// exp_approx in each lane, bit for bit.
inline __m256 exp8(__m256 x) {
    using namespace exp_constants;
    // max/min return their second operand when either is NaN: x second, so NaN survives, and
    // max(lowest, x) is exactly `x < lowest ? lowest : x`.
    __m256 xc = _mm256_max_ps(_mm256_set1_ps(lowest), x);
    xc = _mm256_min_ps(_mm256_set1_ps(highest), xc);
    const __m256 magic = _mm256_set1_ps(round_magic);
    const __m256 shifted = _mm256_fmadd_ps(xc, _mm256_set1_ps(log2e), magic);
    const __m256 n = _mm256_sub_ps(shifted, magic);
    const __m256i ni =
        _mm256_sub_epi32(_mm256_castps_si256(shifted), _mm256_set1_epi32(magic_bits));
    __m256 r = _mm256_fmadd_ps(n, _mm256_set1_ps(-ln2_hi), xc);
    r = _mm256_fmadd_ps(n, _mm256_set1_ps(-ln2_lo), r);
    __m256 p = _mm256_set1_ps(c7);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(c6));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(c5));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(c4));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(c3));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    const __m256i a = _mm256_srai_epi32(ni, 1);
    const __m256i b = _mm256_sub_epi32(ni, a);
    const __m256i bias = _mm256_set1_epi32(127);
    const __m256 sa = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(a, bias), 23));
    const __m256 sb = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(b, bias), 23));
    return _mm256_mul_ps(_mm256_mul_ps(p, sa), sb);
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
    // |x| >= 0.625: 1 - q with q = 2 / (e + 1), e = e^(2|x|), no cancellation as q < 0.45. The
    // rounding errors of e + 1 and of the division are recovered exactly (Fast2Sum, and the
    // residual of the quotient by a fused multiply-add) and q is corrected by them, so that 1 - q
    // is the only rounding that matters. |x| is capped at 10 here (tanh is 1.0f from 9.02 on),
    // which keeps e finite; min(10, NaN) is NaN.
    const __m256 one = _mm256_set1_ps(1.0f), two = _mm256_set1_ps(2.0f);
    const __m256 capped = _mm256_min_ps(_mm256_set1_ps(10.0f), ax);
    const __m256 e = exp8(_mm256_add_ps(capped, capped));
    const __m256 s = _mm256_add_ps(e, one);                     // e + 1, rounded
    const __m256 err = _mm256_sub_ps(one, _mm256_sub_ps(s, e)); // (e + 1) - s, exact
    const __m256 q = _mm256_div_ps(two, s);                     // 2 / s, rounded
    __m256 res = _mm256_fnmadd_ps(q, s, two);                   // 2 - q s, exact
    res = _mm256_fnmadd_ps(q, err, res);                        // 2 - q (e + 1)
    const __m256 q2 = _mm256_fmadd_ps(res, _mm256_mul_ps(q, _mm256_set1_ps(0.5f)), q);
    const __m256 large = _mm256_sub_ps(one, q2);
    const __m256 use_small = _mm256_cmp_ps(ax, _mm256_set1_ps(0.625f), _CMP_LT_OQ);
    return _mm256_or_ps(_mm256_blendv_ps(large, small, use_small), sign);
}

#endif // OURO_HAVE_AVX2

} // namespace ouro::numerics
