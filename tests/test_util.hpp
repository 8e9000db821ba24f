// Helpers shared by the tests: random tensors from a seed, closeness with absolute + relative
// tolerances, bitwise equality.
#pragma once

#include <ouro/core/rng.hpp>
#include <ouro/core/tensor.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <string>

namespace ouro::testing {

/// A tensor of the given shape with values uniform in [lo, hi).
template <typename T>
Tensor<T> random_tensor(const Shape& shape, Rng& rng, double lo = -1.0, double hi = 1.0) {
    Tensor<T> t(shape);
    for (std::int64_t i = 0; i < t.numel(); ++i)
        t[i] = T(lo + (hi - lo) * rng.uniform());
    return t;
}

/// Index of the first element where |a - b| > atol + rtol * |b|, or -1 when all are close.
template <typename T>
std::int64_t first_not_close(const Tensor<T>& a, const Tensor<T>& b, double atol, double rtol) {
    for (std::int64_t i = 0; i < a.numel(); ++i) {
        const double x = double(a[i]), y = double(b[i]);
        if (!(std::abs(x - y) <= atol + rtol * std::abs(y)))
            return i;
    }
    return -1;
}

/// Checks shapes equal and every element close; reports the first element that is not.
template <typename T>
void check_close(const Tensor<T>& actual, const Tensor<T>& expected, double atol, double rtol) {
    REQUIRE(actual.shape().to_string() == expected.shape().to_string());
    const std::int64_t i = first_not_close(actual, expected, atol, rtol);
    INFO("element " << i << ": actual " << (i >= 0 ? double(actual[i]) : 0.0) << ", expected "
                    << (i >= 0 ? double(expected[i]) : 0.0));
    CHECK(i == -1);
}

/// True when both tensors have the same shape and the same bits.
template <typename T> bool bitwise_equal(const Tensor<T>& a, const Tensor<T>& b) {
    return a.shape() == b.shape() &&
           (a.numel() == 0 || std::memcmp(a.data(), b.data(), sizeof(T) * a.numel()) == 0);
}

} // namespace ouro::testing

namespace ouro::testing {

/// Checks that fn() throws E whose message is exactly `message` (for messages that contain
/// run-time parts such as temporary paths; CHECK_THROWS_WITH_AS needs a literal).
template <typename E, typename F> void check_throws_message(F&& fn, const std::string& message) {
    try {
        fn();
        FAIL("no exception thrown; expected: " << message);
    } catch (const E& e) {
        CHECK(std::string(e.what()) == message);
    }
}

} // namespace ouro::testing
