// transpose: swaps two dimensions of a tensor into a new contiguous tensor, e.g. the attention
// heads (B, T, NH, HS) -> (B, NH, T, HS), or keys (B, NH, T, HS) -> (B, NH, HS, T).
//
// Any swap of dimensions d0 < d1 of a row-major tensor is a batch of grid transposes: seen as
// (A, D0, M, D1, N), with A the product of the dimensions before d0, M of those between and N of
// those after d1, out[a, j, m, i, :] = x[a, i, m, j, :] moves whole contiguous runs of N elements.
// Runs of one element (the last dimension is swapped) are transposed in cache-sized tiles.
#pragma once

#include "ouro/autograd/var.hpp"

namespace ouro::ops {

/// out = x with dimensions dim0 and dim1 swapped (both in [0, rank)); out has x_shape with those
/// two dimensions exchanged. Parallel over tiles.
template <typename T>
void transpose_forward(const T* x, const Shape& x_shape, int dim0, int dim1, T* out);

/// dx += dout with dimensions dim0 and dim1 swapped back; dout has x_shape with the two
/// dimensions exchanged, dx has x_shape. Parallel over tiles.
template <typename T>
void transpose_backward(const T* dout, const Shape& x_shape, int dim0, int dim1, T* dx);

/// Naive serial version of transpose_forward (one multi-index per element), kept for tests.
template <typename T>
void transpose_reference(const T* x, const Shape& x_shape, int dim0, int dim1, T* out);

/// x with dimensions dim0 and dim1 swapped, as a new contiguous tensor; negative dimensions count
/// from the end. Throws ShapeError when a dimension is out of range:
/// "transpose: dimension 3 out of range for (2, 3, 4)".
template <typename T> Var<T> transpose(const Var<T>& x, int dim0, int dim1);

} // namespace ouro::ops
