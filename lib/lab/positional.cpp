// Means of per-token values by position and by window of positions. See the header.
#include "ouro/lab/positional.hpp"

#include "ouro/core/error.hpp"

#include <algorithm>
#include <string>

namespace ouro::lab {

namespace {

std::size_t longest(std::span<const std::vector<double>> values) {
    std::size_t L = 0;
    for (const auto& v : values)
        L = std::max(L, v.size());
    return L;
}

} // namespace

PositionMeans mean_by_position(std::span<const std::vector<double>> values) {
    const std::size_t L = longest(values);
    PositionMeans out;
    out.mean.assign(L, 0.0);
    out.count.assign(L, 0);
    // Sequence by sequence: every position's sum is taken in sequence order.
    for (const auto& v : values)
        for (std::size_t t = 0; t < v.size(); ++t) {
            out.mean[t] += v[t];
            ++out.count[t];
        }
    for (std::size_t t = 0; t < L; ++t)
        out.mean[t] /= double(out.count[t]);
    return out;
}

WindowMeans mean_by_window(std::span<const std::vector<double>> values, std::int64_t window) {
    if (window < 1)
        throw ConfigError("mean_by_window: window must be at least 1, got " +
                          std::to_string(window));
    const auto L = std::int64_t(longest(values));
    const std::int64_t W = (L + window - 1) / window;
    WindowMeans out;
    out.window = window;
    out.mean.assign(std::size_t(W), 0.0);
    out.count.assign(std::size_t(W), 0);
    for (const auto& v : values)
        for (std::size_t t = 0; t < v.size(); ++t) {
            const auto w = std::size_t(std::int64_t(t) / window);
            out.mean[w] += v[t];
            ++out.count[w];
        }
    for (std::size_t w = 0; w < std::size_t(W); ++w)
        out.mean[w] /= double(out.count[w]);
    return out;
}

} // namespace ouro::lab
