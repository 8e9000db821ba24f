// Shape: the dimensions of a tensor, outermost first (row-major). A small fixed-capacity array, so
// shapes are cheap to copy and never allocate. Rank 0 is a scalar (one element). A shape holds at
// most max_numel (2^48) elements, checked whenever one is made, so that numel(), rows() and the
// byte count of any tensor of it are exact (no int64 wrap-around, whatever a file claimed).
#pragma once

#include "ouro/core/checked.hpp"
#include "ouro/core/error.hpp"

#include <array>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>

namespace ouro {

class Shape {
public:
    static constexpr int max_rank = 8;

    /// A scalar: rank 0, one element.
    Shape() = default;
    /// Throws ShapeError on a negative dimension, more than max_rank dimensions, or more than
    /// max_numel elements ("Shape: (4611686018427387908, 4) has more than 2^48 elements"; with a
    /// zero dimension, the product of the others must not exceed it either).
    Shape(std::initializer_list<std::int64_t> dims) : Shape(std::span(dims.begin(), dims.size())) {}
    explicit Shape(std::span<const std::int64_t> dims);

    int rank() const { return rank_; }
    /// Number of elements: the product of the dimensions (1 for a scalar).
    std::int64_t numel() const;
    /// Dimension i; negative i counts from the end (-1 is the last). Throws ShapeError when out of
    /// range.
    std::int64_t dim(int i) const;
    std::int64_t operator[](int i) const { return dim(i); }
    /// The last dimension (throws ShapeError for a scalar).
    std::int64_t back() const { return dim(-1); }
    /// Product of all dimensions but the last: the number of rows when the tensor is seen as a
    /// matrix whose rows are the last dimension.
    std::int64_t rows() const;

    /// The first `n` dimensions, or all but the last `-n` when n is negative.
    Shape prefix(int n) const;
    /// A copy with dimension i replaced (checked as the constructor).
    Shape with_dim(int i, std::int64_t value) const;
    /// A copy with `value` appended as a new last dimension (checked as the constructor).
    Shape appended(std::int64_t value) const;

    std::span<const std::int64_t> dims() const { return {dims_.data(), std::size_t(rank_)}; }
    const std::int64_t* begin() const { return dims_.data(); }
    const std::int64_t* end() const { return dims_.data() + rank_; }

    /// "(2, 3, 4)"; a scalar is "()".
    std::string to_string() const;

    friend bool operator==(const Shape& a, const Shape& b) {
        if (a.rank_ != b.rank_)
            return false;
        for (int i = 0; i < a.rank_; ++i)
            if (a.dims_[i] != b.dims_[i])
                return false;
        return true;
    }

private:
    int normalize(int i) const;
    void check_size() const;

    std::array<std::int64_t, max_rank> dims_{};
    int rank_ = 0;
};

} // namespace ouro
