// Uncertainty of the lab's numbers over prompts or samples: 95% confidence intervals for a
// proportion (Wilson's score interval: Wilson 1927; Agresti and Coull, "Approximate is better
// than exact", 1998) and for a mean (Student's t interval). The report states them wherever it
// compares two numbers, so that a reader sees whether 10 prompts are enough to tell them apart.
#pragma once

#include <cstdint>
#include <limits>
#include <span>
#include <string>

namespace ouro::lab {

/// An estimate with its 95% confidence interval [lo, hi].
struct Interval {
    double estimate = 0.0, lo = 0.0, hi = 0.0;
};

/// Wilson's 95% score interval for `successes` out of `trials` (as fractions in [0, 1]); it stays
/// inside [0, 1] and is sensible for 0 or all successes, unlike the normal approximation.
/// Throws ConfigError unless 0 <= successes <= trials and trials >= 1: "wilson_interval: 3
/// successes out of 2 trials".
Interval wilson_interval(std::int64_t successes, std::int64_t trials);

/// The difference of two proportions, successes_a / trials_a - successes_b / trials_b, with
/// Newcombe's 95% interval built from the two Wilson intervals ("Interval estimation for the
/// difference between independent proportions", 1998, method 10); in [-1, 1]. An interval that
/// does not hold 0 says the two differ by more than chance over that many trials. Throws as
/// wilson_interval.
Interval difference_interval(std::int64_t successes_a, std::int64_t trials_a,
                             std::int64_t successes_b, std::int64_t trials_b);

/// The mean of the finite values with Student's t 95% interval (mean +- t * s / sqrt(n), t for
/// n - 1 degrees of freedom), its ends held to [lower, upper], the range the values can take
/// (e.g. 0 and 1 for a share: few, spread values would otherwise give an interval past it); NaN
/// values are left out. With one value, lo and hi are NaN (no spread to measure); with none, all
/// three are NaN.
Interval mean_interval(std::span<const double> values,
                       double lower = -std::numeric_limits<double>::infinity(),
                       double upper = std::numeric_limits<double>::infinity());

/// "0.517 (95% CI 0.410 to 0.620)": the estimate and the ends with `decimals`, each followed by
/// `unit` ("90% (95% CI 60% to 98%)" with scale 100 and unit "%"); the estimate alone when the
/// ends are NaN. `scale` multiplies all three.
std::string with_interval(const Interval& i, int decimals = 3, double scale = 1.0,
                          const std::string& unit = "");

} // namespace ouro::lab
