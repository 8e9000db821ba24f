// Checked size arithmetic: products and sums of sizes and offsets that may have come from a file,
// computed without overflow and compared with a bound before anything is allocated or copied.
// A loader that reads "4611686018427387908 x 4 elements" must refuse it, not wrap it into 16; the
// helpers return std::nullopt instead of a wrapped value and each caller throws its own error
// naming the file and the field.
#pragma once

#include <concepts>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>

namespace ouro {

/// The most elements a Shape (and so a Tensor) may hold: 2^48, i.e. 1 PiB of floats, more than any
/// machine has, and small enough that element count x 8 bytes, and every int64 index computed from
/// a shape, stays far from overflow.
inline constexpr std::int64_t max_numel = std::int64_t(1) << 48;

/// a * b, or std::nullopt when it overflows T.
template <std::integral T> constexpr std::optional<T> checked_mul(T a, T b) {
    T r{};
    if (__builtin_mul_overflow(a, b, &r))
        return std::nullopt;
    return r;
}

/// a + b, or std::nullopt when it overflows T.
template <std::integral T> constexpr std::optional<T> checked_add(T a, T b) {
    T r{};
    if (__builtin_add_overflow(a, b, &r))
        return std::nullopt;
    return r;
}

/// a * b for 0 <= a, b when the product is at most `limit`; std::nullopt when an operand is
/// negative or the product exceeds `limit` (overflow included).
constexpr std::optional<std::int64_t>
mul_within(std::int64_t a, std::int64_t b,
           std::int64_t limit = std::numeric_limits<std::int64_t>::max()) {
    if (a < 0 || b < 0)
        return std::nullopt;
    const std::optional<std::int64_t> r = checked_mul(a, b);
    if (!r || *r > limit)
        return std::nullopt;
    return r;
}

/// The product of `dims` (1 for none) when every dimension is >= 0 and the product of the
/// non-zero ones is at most `limit` (so that every partial product is too, even when a zero
/// dimension makes the whole product 0); std::nullopt otherwise.
constexpr std::optional<std::int64_t> checked_numel(std::span<const std::int64_t> dims,
                                                    std::int64_t limit = max_numel) {
    std::int64_t nonzero = 1;
    bool any_zero = false;
    for (const std::int64_t d : dims) {
        if (d < 0)
            return std::nullopt;
        if (d == 0) {
            any_zero = true;
            continue;
        }
        const std::optional<std::int64_t> r = mul_within(nonzero, d, limit);
        if (!r)
            return std::nullopt;
        nonzero = *r;
    }
    return any_zero ? 0 : nonzero;
}

} // namespace ouro
