// Row helpers shared by the fused softmax kernels (attention, cross-entropy): exp, and the max and
// sum of one row, written so that GCC vectorises them without -ffast-math and so that the result
// depends only on the row's values and length, never on its address or on the thread running it.
//
// exp. For float the kernels use exp_approx, built from IEEE additions, multiplications and
// explicit fused multiply-adds only (no libm call), so it vectorises and a vector lane rounds
// exactly like the scalar remainder (checked over all 2^32 inputs). Cody-Waite reduction:
// x = n ln2 + r with n = round(x / ln2), |r| <= ln2 / 2, ln2 split in a short high part (so that
// n * ln2_hi is exact) and a low correction; exp(r) by its Taylor polynomial of degree 7
// (truncation error below 6e-9, a twentieth of an ulp of 1); 2^n is built in the exponent field.
// Accuracy: within 0.94 ulp of the exact exp wherever the result is a normal float (x in
// [-87.33, 88.72]); subnormal results are rounded once; exp(-inf) = 0, exp(+inf) = +inf, NaN
// gives NaN. For double the kernels call std::exp: gradient checks run in double and need it.
//
// sum. Sixteen partial accumulators, element j going to lane j % 16, combined pairwise at the end:
// a fixed order for a given length, which the compiler keeps in vector registers.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

namespace ouro::detail {

/// exp(x) for float, see the file comment for its accuracy and range.
inline float exp_approx(float x) {
    constexpr float log2e = 1.44269504088896341f;
    constexpr float ln2_hi = 0.693359375f;     // 9 significant bits: n * ln2_hi is exact
    constexpr float ln2_lo = -2.12194440e-4f;  // ln2 - ln2_hi
    constexpr float round_magic = 12582912.0f; // 1.5 * 2^23: adding it rounds to an integer
    // Clamping keeps n in [-173, 128], where 2^n splits into two normal factors; the clamped ends
    // still round to 0 and +inf below. Written as selects against constants so GCC vectorises
    // the function without -ffast-math (a NaN passes both and stays NaN).
    float xc = x < -120.0f ? -120.0f : x;
    xc = xc > 89.0f ? 89.0f : xc;
    const float shifted = std::fma(xc, log2e, round_magic);
    const float n = shifted - round_magic;
    const std::int32_t ni = std::bit_cast<std::int32_t>(shifted) - 0x4B400000; // n as an integer
    float r = std::fma(n, -ln2_hi, xc);
    r = std::fma(n, -ln2_lo, r);
    float p = 1.0f / 5040.0f;
    p = std::fma(p, r, 1.0f / 720.0f);
    p = std::fma(p, r, 1.0f / 120.0f);
    p = std::fma(p, r, 1.0f / 24.0f);
    p = std::fma(p, r, 1.0f / 6.0f);
    p = std::fma(p, r, 0.5f);
    p = std::fma(p, r, 1.0f);
    p = std::fma(p, r, 1.0f);
    // 2^n = 2^a * 2^b with both factors normal floats; the second product rounds once, into a
    // subnormal, zero or +inf where the true result is one.
    const std::int32_t a = ni >> 1, b = ni - a;
    return p * std::bit_cast<float>((a + 127) << 23) * std::bit_cast<float>((b + 127) << 23);
}

/// exp for the kernels: exp_approx for float, std::exp for double.
template <typename T> inline T exp_kernel(T x) {
    if constexpr (std::is_same_v<T, float>)
        return exp_approx(x);
    else
        return std::exp(x);
}

inline constexpr int row_lanes = 16;

/// `m`, the result of an OpenMP simd max reduction over x[0..n), made right for a row whose
/// largest element is -inf. OpenMP starts each lane at max's identity, which clang takes as the
/// lowest finite value (GCC as -inf), so under clang such a row comes back as lowest(): then the
/// row is searched for lowest() itself (a rare second pass).
template <typename T> inline T simd_max_result(T m, const T* x, std::int64_t n) {
    if (m != std::numeric_limits<T>::lowest()) [[likely]]
        return m;
    for (std::int64_t j = 0; j < n; ++j)
        if (x[j] == m)
            return m;
    return -std::numeric_limits<T>::infinity();
}

/// The largest of x[0..n) (n >= 1). A max is exact, so the order the simd reduction picks cannot
/// change it (a NaN may or may not win here; it reaches the row's sum either way). A row of -inf
/// gives -inf with every compiler.
template <typename T> inline T row_max(const T* x, std::int64_t n) {
    T m = x[0];
#pragma omp simd reduction(max : m)
    for (std::int64_t j = 0; j < n; ++j)
        m = x[j] > m ? x[j] : m;
    return simd_max_result(m, x, n);
}

/// Sum of x[0..n) in a fixed order (lane j % 16, then pairwise).
template <typename T> inline T row_sum(const T* x, std::int64_t n) {
    T acc[row_lanes] = {};
    std::int64_t j = 0;
    for (; j + row_lanes <= n; j += row_lanes)
        for (int l = 0; l < row_lanes; ++l)
            acc[l] += x[j + l];
    for (; j < n; ++j)
        acc[j % row_lanes] += x[j];
    for (int w = row_lanes / 2; w > 0; w /= 2)
        for (int l = 0; l < w; ++l)
            acc[l] += acc[l + w];
    return acc[0];
}

/// out[j] = exp(x[j] - shift) for j < n (out may equal x).
template <typename T> inline void exp_row(const T* x, std::int64_t n, T shift, T* out) {
    for (std::int64_t j = 0; j < n; ++j)
        out[j] = exp_kernel(x[j] - shift);
}

/// Sum of exp(x[j] - shift) over j < n, in row_sum's order, without storing the exps (they go
/// through a small buffer, chunk by chunk; chunks are a multiple of the lane count, so the order
/// is row_sum's).
template <typename T> inline T row_sum_exp(const T* x, std::int64_t n, T shift) {
    constexpr std::int64_t chunk = 256;
    T buf[chunk];
    T acc[row_lanes] = {};
    for (std::int64_t j0 = 0; j0 < n; j0 += chunk) {
        const std::int64_t len = n - j0 < chunk ? n - j0 : chunk;
        exp_row(x + j0, len, shift, buf);
        std::int64_t j = 0;
        for (; j + row_lanes <= len; j += row_lanes)
            for (int l = 0; l < row_lanes; ++l)
                acc[l] += buf[j + l];
        for (; j < len; ++j)
            acc[j % row_lanes] += buf[j];
    }
    for (int w = row_lanes / 2; w > 0; w /= 2)
        for (int l = 0; l < w; ++l)
            acc[l] += acc[l + w];
    return acc[0];
}

} // namespace ouro::detail
