// Eigen views of a Tensor, opt-in: tensor.hpp does not include Eigen (it is over 100,000
// preprocessed lines), so only code that does linear algebra with Eigen includes this header.
//
//   #include "ouro/core/eigen_view.hpp"
//   ouro::matrix_view(out) = ouro::matrix_view(w).transpose();   // (rows x last dimension)
//   ouro::vector_view(p.value()) -= lr * ouro::vector_view(p.grad());
//
// The views are row-major Eigen Maps over the tensor's buffer (aligned to 64 bytes, as Tensor
// allocates it): they do not own it and are valid only while the tensor is alive and is not
// reassigned or resized. They cannot be taken of a temporary tensor.
#pragma once

#include "ouro/core/tensor.hpp"

#include <Eigen/Core>

namespace ouro {

/// The row-major Eigen matrix type of the views.
template <typename T>
using EigenRowMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <typename T> using MatrixView = Eigen::Map<EigenRowMatrix<T>, Eigen::Aligned64>;
template <typename T> using ConstMatrixView = Eigen::Map<const EigenRowMatrix<T>, Eigen::Aligned64>;
template <typename T>
using VectorView = Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, 1>, Eigen::Aligned64>;
template <typename T>
using ConstVectorView = Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, 1>, Eigen::Aligned64>;

namespace detail {
/// The columns of the matrix view: the last dimension (1 for a scalar).
template <typename T> std::int64_t view_columns(const Tensor<T>& t) {
    return t.rank() == 0 ? 1 : t.shape().back();
}
} // namespace detail

/// The tensor as a (product of all dimensions but the last) x (last dimension) row-major matrix;
/// a scalar is 1 x 1.
template <typename T> MatrixView<T> matrix_view(Tensor<T>& t) {
    return MatrixView<T>(t.data(), t.shape().rows(), detail::view_columns(t));
}
template <typename T> ConstMatrixView<T> matrix_view(const Tensor<T>& t) {
    return ConstMatrixView<T>(t.data(), t.shape().rows(), detail::view_columns(t));
}
template <typename T> void matrix_view(const Tensor<T>&&) = delete;

/// The tensor as a column vector of all its elements in row-major order.
template <typename T> VectorView<T> vector_view(Tensor<T>& t) {
    return VectorView<T>(t.data(), t.numel());
}
template <typename T> ConstVectorView<T> vector_view(const Tensor<T>& t) {
    return ConstVectorView<T>(t.data(), t.numel());
}
template <typename T> void vector_view(const Tensor<T>&&) = delete;

} // namespace ouro
