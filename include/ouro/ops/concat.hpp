// concat and split along one dimension: split (B, T, 3C) into q, k, v of (B, T, C) each, and
// concat the inverse.
//
// Seen around the chosen dimension d, a tensor of shape s is a matrix of `outer` rows (the product
// of the dimensions before d) whose rows are s[d] * inner contiguous elements (inner: the product
// of the dimensions after d). Concatenating along d places the rows of the inputs side by side,
// so both ops are row-wise contiguous copies.
#pragma once

#include "ouro/autograd/var.hpp"

#include <cstdint>
#include <initializer_list>
#include <vector>

namespace ouro::ops {

/// out = the inputs xs[k] (of shapes[k]) concatenated along dimension dim (in [0, rank)); the
/// shapes must agree outside dim. Parallel over rows.
template <typename T>
void concat_forward(const std::vector<const T*>& xs, const std::vector<Shape>& shapes, int dim,
                    T* out);

/// dxs[k] += the slice of dout that came from input k; a null dxs[k] is skipped. Parallel over
/// rows.
template <typename T>
void concat_backward(const T* dout, const std::vector<Shape>& shapes, int dim,
                     const std::vector<T*>& dxs);

/// Naive serial version of concat_forward (one multi-index per element), kept for tests.
template <typename T>
void concat_reference(const std::vector<const T*>& xs, const std::vector<Shape>& shapes, int dim,
                      T* out);

/// outs[k] = the k-th slice of x (of shape x_shape) along dimension dim, sizes[k] wide; the sizes
/// add up to x_shape[dim]. Parallel over rows.
template <typename T>
void split_forward(const T* x, const Shape& x_shape, const std::vector<std::int64_t>& sizes,
                   int dim, const std::vector<T*>& outs);

/// Adds the gradient of one piece, the slice [offset, offset + size) of dimension dim, into dx
/// (of shape x_shape). Parallel over rows.
template <typename T>
void split_backward(const T* dpiece, const Shape& x_shape, int dim, std::int64_t offset,
                    std::int64_t size, T* dx);

/// Naive serial version of split_forward (one multi-index per element), kept for tests.
template <typename T>
void split_reference(const T* x, const Shape& x_shape, const std::vector<std::int64_t>& sizes,
                     int dim, const std::vector<T*>& outs);

/// The tensors xs joined along dimension dim (negative counts from the end); every other
/// dimension must agree. Throws ShapeError on an empty list ("concat: no tensors to
/// concatenate"), a dimension out of range for xs[0] ("concat: dimension 2 out of range for
/// (2, 3)"), ranks that differ ("concat: ranks differ: xs[0] is (2, 3), xs[1] is (2, 3, 1)") or
/// other dimensions that differ ("concat: shapes differ outside dimension 1: xs[0] is (2, 3),
/// xs[1] is (4, 3)").
template <typename T> Var<T> concat(const std::vector<Var<T>>& xs, int dim);

/// concat for a braced list, so that `concat({q, k, v}, 2)` deduces the scalar type.
template <typename T> Var<T> concat(std::initializer_list<Var<T>> xs, int dim) {
    return concat(std::vector<Var<T>>(xs), dim);
}

/// x cut along dimension dim (negative counts from the end) into pieces sizes[0], sizes[1], ...
/// wide, e.g. (B, T, 3C) with sizes {C, C, C} and dim 2 into q, k, v. Each piece is its own
/// graph node whose gradient flows into its slice of x's gradient. Throws ShapeError when dim is
/// out of range ("split: dimension 2 out of range for (2, 6)"), a size is negative ("split:
/// negative size -1") or the sizes do not add up to the dimension ("split: sizes add up to 5,
/// dimension 1 of (2, 6) is 6").
template <typename T>
std::vector<Var<T>> split(const Var<T>& x, const std::vector<std::int64_t>& sizes, int dim);

} // namespace ouro::ops
