// Shape: validation, indexing and printing of tensor dimensions.
#include "ouro/core/shape.hpp"

#include "ouro/core/checked.hpp"

namespace ouro {

void Shape::check_size() const {
    if (!checked_numel(dims()))
        throw ShapeError("Shape: " + to_string() + " has more than 2^48 elements");
}

Shape::Shape(std::span<const std::int64_t> dims) {
    if (dims.size() > std::size_t(max_rank))
        throw ShapeError("Shape: rank " + std::to_string(dims.size()) + " exceeds the maximum of " +
                         std::to_string(max_rank));
    for (std::int64_t d : dims)
        if (d < 0) {
            rank_ = int(dims.size());
            for (std::size_t i = 0; i < dims.size(); ++i)
                dims_[i] = dims[i];
            throw ShapeError("Shape: negative dimension in " + to_string());
        }
    rank_ = int(dims.size());
    for (std::size_t i = 0; i < dims.size(); ++i)
        dims_[i] = dims[i];
    check_size();
}

std::int64_t Shape::numel() const {
    // Every constructor checks the size: no product here can overflow.
    std::int64_t n = 1;
    for (int i = 0; i < rank_; ++i)
        n *= dims_[i];
    return n;
}

int Shape::normalize(int i) const {
    const int j = i < 0 ? i + rank_ : i;
    if (j < 0 || j >= rank_)
        throw ShapeError("Shape: dimension " + std::to_string(i) + " out of range for " +
                         to_string());
    return j;
}

std::int64_t Shape::dim(int i) const {
    return dims_[std::size_t(normalize(i))];
}

std::int64_t Shape::rows() const {
    if (rank_ == 0)
        return 1;
    std::int64_t n = 1;
    for (int i = 0; i + 1 < rank_; ++i)
        n *= dims_[i];
    return n;
}

Shape Shape::prefix(int n) const {
    const int k = n < 0 ? rank_ + n : n;
    if (k < 0 || k > rank_)
        throw ShapeError("Shape: prefix " + std::to_string(n) + " out of range for " + to_string());
    return Shape(std::span(dims_.data(), std::size_t(k)));
}

Shape Shape::with_dim(int i, std::int64_t value) const {
    Shape s = *this;
    s.dims_[std::size_t(normalize(i))] = value;
    if (value < 0)
        throw ShapeError("Shape: negative dimension in " + s.to_string());
    s.check_size();
    return s;
}

Shape Shape::appended(std::int64_t value) const {
    if (rank_ == max_rank)
        throw ShapeError("Shape: cannot append to " + to_string() + ", rank is already " +
                         std::to_string(max_rank));
    if (value < 0)
        throw ShapeError("Shape: negative dimension " + std::to_string(value));
    Shape s = *this;
    s.dims_[std::size_t(rank_)] = value;
    s.rank_ = rank_ + 1;
    s.check_size();
    return s;
}

std::string Shape::to_string() const {
    std::string s = "(";
    for (int i = 0; i < rank_; ++i) {
        if (i)
            s += ", ";
        s += std::to_string(dims_[std::size_t(i)]);
    }
    return s + ")";
}

} // namespace ouro
