// reshape: the same elements, in the same row-major order, under a new shape with the same element
// count (nanoGPT's `view`). Tensors own their buffers (see tensor.hpp), so the result is a copy;
// the gradient flows back unchanged, element for element.
#pragma once

#include "ouro/autograd/var.hpp"

#include <cstdint>

namespace ouro::ops {

/// out[i] = x[i] for i < n. Parallel over fixed blocks.
template <typename T> void reshape_forward(const T* x, std::int64_t n, T* out);

/// dx[i] += dout[i] for i < n. Parallel over fixed blocks.
template <typename T> void reshape_backward(const T* dout, std::int64_t n, T* dx);

/// Naive serial version of reshape_forward, kept for tests.
template <typename T> void reshape_reference(const T* x, std::int64_t n, T* out);

/// x with shape `shape` (e.g. (B, T, C) -> (B, T, NH, HS)); same flat order, new buffer.
/// Throws ShapeError when the element counts differ:
/// "reshape: cannot view (2, 3) (6 elements) as (4, 2) (8 elements)".
template <typename T> Var<T> reshape(const Var<T>& x, const Shape& shape);

} // namespace ouro::ops
