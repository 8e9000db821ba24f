// Confidence intervals of the lab's numbers. See interval.hpp.
#include "ouro/lab/interval.hpp"

#include "ouro/core/error.hpp"
#include "ouro/lab/table.hpp"

#include <algorithm>
#include <array>
#include <cmath>

namespace ouro::lab {

namespace {

constexpr double kZ95 = 1.959963984540054;

// Two-sided 95% quantiles of Student's t for 1..30 degrees of freedom; beyond, the normal one
// corrected by the first term of the Cornish-Fisher expansion (z + (z^3 + z) / (4 df)).
double t95(std::int64_t df) {
    static constexpr std::array<double, 30> table = {
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
        2.201,  2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
        2.080,  2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042};
    if (df <= 30)
        return table[std::size_t(df - 1)];
    return kZ95 + (kZ95 * kZ95 * kZ95 + kZ95) / (4.0 * double(df));
}

} // namespace

Interval wilson_interval(std::int64_t successes, std::int64_t trials) {
    if (trials < 1 || successes < 0 || successes > trials)
        throw ConfigError("wilson_interval: " + std::to_string(successes) + " successes out of " +
                          std::to_string(trials) + " trials");
    const double n = double(trials), p = double(successes) / n, z2 = kZ95 * kZ95;
    const double centre = (p + z2 / (2 * n)) / (1 + z2 / n);
    const double half = kZ95 / (1 + z2 / n) * std::sqrt(p * (1 - p) / n + z2 / (4 * n * n));
    // At 0 or all successes the interval touches 0 or 1 exactly (rounding would miss it).
    return {p, successes == 0 ? 0.0 : std::max(0.0, centre - half),
            successes == trials ? 1.0 : std::min(1.0, centre + half)};
}

Interval difference_interval(std::int64_t successes_a, std::int64_t trials_a,
                             std::int64_t successes_b, std::int64_t trials_b) {
    const Interval a = wilson_interval(successes_a, trials_a);
    const Interval b = wilson_interval(successes_b, trials_b);
    const double d = a.estimate - b.estimate;
    const double below = std::sqrt((a.estimate - a.lo) * (a.estimate - a.lo) +
                                   (b.hi - b.estimate) * (b.hi - b.estimate));
    const double above = std::sqrt((a.hi - a.estimate) * (a.hi - a.estimate) +
                                   (b.estimate - b.lo) * (b.estimate - b.lo));
    return {d, std::max(-1.0, d - below), std::min(1.0, d + above)};
}

Interval mean_interval(std::span<const double> values, double lower, double upper) {
    double sum = 0.0;
    std::int64_t n = 0;
    for (const double v : values)
        if (!std::isnan(v)) {
            sum += v;
            ++n;
        }
    const double nan = std::nan("");
    if (n == 0)
        return {nan, nan, nan};
    const double mean = sum / double(n);
    if (n == 1)
        return {mean, nan, nan};
    double ss = 0.0;
    for (const double v : values)
        if (!std::isnan(v))
            ss += (v - mean) * (v - mean);
    const double half = t95(n - 1) * std::sqrt(ss / double(n - 1) / double(n));
    return {mean, std::max(lower, mean - half), std::min(upper, mean + half)};
}

std::string with_interval(const Interval& i, int decimals, double scale, const std::string& unit) {
    const std::string e = fmt(i.estimate * scale, decimals) + unit;
    if (std::isnan(i.lo) || std::isnan(i.hi))
        return e;
    return e + " (95% CI " + fmt(i.lo * scale, decimals) + unit + " to " +
           fmt(i.hi * scale, decimals) + unit + ")";
}

} // namespace ouro::lab
