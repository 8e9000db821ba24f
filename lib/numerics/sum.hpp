// The library's one fixed summation order, for reductions whose result must depend only on the
// values summed (never on addresses, thread counts or vector widths). Internal: not installed.
//
// Term i goes to partial sum i % 16; the sixteen partial sums are then added pairwise in a fixed
// tree (k += k + 8, then k + 4, k + 2, k + 1). Sixteen independent chains hide the latency of the
// additions and fill whole vector registers, which the compiler keeps them in. The accumulator
// type is a parameter: double for statistics of float data (norms, sampler sums), the data's own
// type where a kernel sums in it (attention's softmax rows, cross-entropy's log-sum-exp).
#pragma once

#include <cstdint>

namespace ouro::numerics {

/// Number of partial sums in the fixed order.
inline constexpr int sum_lanes = 16;

/// Partial sums in the fixed order, fed in pieces: a row may be summed chunk by chunk (as the
/// exps of a row go through a small buffer) and the result is that of one call over the whole
/// row, provided every piece but the last has a length that is a multiple of sum_lanes.
template <typename Acc> struct OrderedSum {
    Acc lane[sum_lanes] = {};

    /// Adds term(i) for i < n, term(0) to partial sum 0.
    template <typename Term> void add(std::int64_t n, Term term) {
        std::int64_t i = 0;
        for (; i + sum_lanes <= n; i += sum_lanes)
            for (int k = 0; k < sum_lanes; ++k)
                lane[k] += term(i + k);
        for (int k = 0; i + k < n; ++k)
            lane[k] += term(i + k);
    }

    /// The sum of everything added, the partial sums combined in the fixed tree.
    Acc total() const {
        Acc acc[sum_lanes];
        for (int k = 0; k < sum_lanes; ++k)
            acc[k] = lane[k];
        for (int width = sum_lanes / 2; width > 0; width /= 2)
            for (int k = 0; k < width; ++k)
                acc[k] += acc[k + width];
        return acc[0];
    }
};

/// sum of term(i) for i < n in the fixed order, accumulated in Acc.
template <typename Acc, typename Term> Acc ordered_sum(std::int64_t n, Term term) {
    OrderedSum<Acc> s;
    s.add(n, term);
    return s.total();
}

/// sum of double(x[i]) for i < n.
template <typename T> double sum_double(const T* x, std::int64_t n) {
    return ordered_sum<double>(n, [x](std::int64_t i) { return double(x[i]); });
}

/// sum of double(a[i]) * double(b[i]) for i < n.
template <typename T> double dot_double(const T* a, const T* b, std::int64_t n) {
    return ordered_sum<double>(n, [a, b](std::int64_t i) { return double(a[i]) * double(b[i]); });
}

/// sum of x[i] for i < n, accumulated in T.
template <typename T> T row_sum(const T* x, std::int64_t n) {
    return ordered_sum<T>(n, [x](std::int64_t i) { return x[i]; });
}

} // namespace ouro::numerics
