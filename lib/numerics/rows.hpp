// Row operations of the softmax family (max, exp, sum of exps, log-sum-exp), shared by softmax,
// log-softmax, attention, cross-entropy and the sampler. Internal to the library: not installed.
//
// Written so that GCC vectorises them without -ffast-math and so that a result depends only on
// the row's values and length, never on its address or on the thread running it: float exps are
// exp_approx (exp.hpp), double ones std::exp; sums follow the fixed order of sum.hpp.
#pragma once

#include "exp.hpp"
#include "sum.hpp"

#include <cmath>
#include <cstdint>
#include <limits>

namespace ouro::numerics {

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

/// out[j] = exp(x[j] - shift) for j < n (out may equal x).
template <typename T> inline void exp_row(const T* x, std::int64_t n, T shift, T* out) {
    for (std::int64_t j = 0; j < n; ++j)
        out[j] = exp_kernel(x[j] - shift);
}

/// Sum of exp(x[j] - shift) over j < n, accumulated in Acc in the fixed order, without storing
/// the exps (they go through a small buffer, chunk by chunk; chunks are a multiple of the lane
/// count, so the order is that of one ordered_sum over the row).
template <typename Acc, typename T> inline Acc row_sum_exp(const T* x, std::int64_t n, T shift) {
    constexpr std::int64_t chunk = 256;
    static_assert(chunk % sum_lanes == 0);
    T buf[chunk];
    OrderedSum<Acc> s;
    for (std::int64_t j0 = 0; j0 < n; j0 += chunk) {
        const std::int64_t len = n - j0 < chunk ? n - j0 : chunk;
        exp_row(x + j0, len, shift, buf);
        s.add(len, [&buf](std::int64_t j) { return Acc(buf[j]); });
    }
    return s.total();
}

/// log of the sum of exp(x[j] - m) over j < n, with m the row's max, accumulated in double: the
/// log-softmax of x[j] is (x[j] - m) - this, in ops::log_softmax and in cross-entropy alike, so a
/// row's loss is bit for bit its negated log-probability.
template <typename T> inline T row_log_sum_exp(const T* x, std::int64_t n, T m) {
    return T(std::log(row_sum_exp<double>(x, n, m)));
}

} // namespace ouro::numerics
