// Per-token values (surprisal -log p of each token, entropy of each next-token distribution)
// averaged by position over several sequences, and over windows of positions so that curves are
// readable. The caller computes the values with a model, teacher-forced on human stories or along
// the model's own samples (COLLAPSE.md, experiment E2); sequences may differ in length, and each
// mean is over the sequences that have the position. Sums run in a fixed order (sequence by
// sequence, position by position), so results never depend on threads.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace ouro::lab {

/// Means of values[s][t] over s, for each position t.
struct PositionMeans {
    std::vector<double> mean;        ///< mean[t]: mean over the sequences longer than t
    std::vector<std::int64_t> count; ///< count[t]: how many sequences are longer than t
};

/// Means by position t = 0 .. (longest length - 1); count[t] >= 1 for every t. Empty input (no
/// sequences, or only empty ones) gives empty vectors.
PositionMeans mean_by_position(std::span<const std::vector<double>> values);

/// Means over windows of positions [w * window, (w + 1) * window).
struct WindowMeans {
    std::int64_t window = 0;  ///< positions per window
    std::vector<double> mean; ///< mean[w]: mean of every value (of every sequence) in window w
    std::vector<std::int64_t> count; ///< count[w]: how many values went into mean[w]
    /// First position of window w.
    std::int64_t begin(std::int64_t w) const { return w * window; }
};

/// Means by window of `window` positions: window w pools all values at positions w * window ..
/// (w + 1) * window - 1 of all sequences (a token-weighted mean: a sequence that ends inside the
/// window contributes only the positions it has). ceil(longest / window) windows, the last one
/// possibly partial. Throws ConfigError when window < 1: "mean_by_window: window must be at least
/// 1, got 0".
WindowMeans mean_by_window(std::span<const std::vector<double>> values, std::int64_t window);

} // namespace ouro::lab
