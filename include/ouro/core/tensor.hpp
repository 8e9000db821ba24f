// Tensor<T>: an n-dimensional array of T (float, double, or int32 for token ids) in one contiguous,
// row-major buffer aligned to 64 bytes (one cache line, two AVX2 registers).
//
// Ownership: a Tensor owns its buffer outright, like std::vector. Copying a Tensor copies the data;
// moving it transfers the buffer and leaves the source empty (shape (0)). There are no strided or
// shared views: reshaping a tensor you own is free (`std::move(t).reshaped(s)`), and everything
// else that rearranges data makes a new tensor. `data()` and `values()` hand out non-owning views
// (a raw pointer, a span) that are valid only while the tensor is alive and is not reassigned or
// resized; so do the Eigen views of ouro/core/eigen_view.hpp, which this header leaves out to keep
// Eigen out of every file that uses a Tensor.
#pragma once

#include "ouro/core/error.hpp"
#include "ouro/core/parallel.hpp"
#include "ouro/core/shape.hpp"
#include "ouro/core/tensor_memory.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <new>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace ouro {

namespace detail {
// Fills and copies of tensor storage: over all threads for the element types parallel.hpp
// instantiates, on the calling thread for any other.
template <typename T>
inline constexpr bool parallel_storage =
    std::is_same_v<T, float> || std::is_same_v<T, double> || std::is_same_v<T, std::int32_t>;
template <typename T> void fill_storage(T* data, std::int64_t n, T value) {
    if constexpr (parallel_storage<T>)
        parallel_fill(data, n, value);
    else
        std::fill_n(data, n, value);
}
template <typename T> void copy_storage(const T* src, std::int64_t n, T* dst) {
    if constexpr (parallel_storage<T>)
        parallel_copy(src, n, dst);
    else
        std::copy_n(src, n, dst);
}
} // namespace detail

template <typename T> class Tensor {
    static_assert(std::is_arithmetic_v<T>, "Tensor holds arithmetic types only");

public:
    using Scalar = T;

    /// An empty tensor of shape (0).
    Tensor() : shape_{0} {}

    /// A tensor of the given shape, every element zero.
    explicit Tensor(const Shape& shape) : Tensor(shape, T(0)) {}

    /// A tensor of the given shape, every element `fill` (large tensors are filled by all
    /// threads).
    Tensor(const Shape& shape, T fill) : shape_(shape), data_(allocate(shape.numel())) {
        detail::fill_storage(data_.get(), numel(), fill);
    }

    /// A tensor of the given shape whose elements are not set: for kernels that write every
    /// element, so that the step does not zero memory it is about to overwrite. Reading an
    /// element before writing it is undefined.
    static Tensor uninitialized(const Shape& shape) { return Tensor(shape, Uninit{}); }

    /// A tensor of the given shape holding `values` in row-major order.
    /// Throws ShapeError when the number of values differs from the shape's element count.
    Tensor(const Shape& shape, std::span<const T> values)
        : shape_(shape), data_(allocate(shape.numel())) {
        if (std::int64_t(values.size()) != numel())
            throw ShapeError("Tensor: " + std::to_string(values.size()) +
                             " values given for shape " + shape.to_string() + " (" +
                             std::to_string(numel()) + " elements)");
        std::copy(values.begin(), values.end(), data_.get());
    }
    Tensor(const Shape& shape, std::initializer_list<T> values)
        : Tensor(shape, std::span<const T>(values.begin(), values.size())) {}
    Tensor(const Shape& shape, const std::vector<T>& values)
        : Tensor(shape, std::span<const T>(values)) {}

    Tensor(const Tensor& other) : shape_(other.shape_), data_(allocate(other.numel())) {
        detail::copy_storage(other.data_.get(), numel(), data_.get());
    }
    Tensor& operator=(const Tensor& other) {
        if (this != &other) {
            if (other.numel() != numel())
                data_ = allocate(other.numel());
            shape_ = other.shape_;
            detail::copy_storage(other.data_.get(), numel(), data_.get());
        }
        return *this;
    }
    Tensor(Tensor&& other) noexcept
        : shape_(std::exchange(other.shape_, Shape{0})), data_(std::move(other.data_)) {}
    Tensor& operator=(Tensor&& other) noexcept {
        shape_ = std::exchange(other.shape_, Shape{0});
        data_ = std::move(other.data_);
        return *this;
    }
    ~Tensor() = default;

    const Shape& shape() const { return shape_; }
    int rank() const { return shape_.rank(); }
    std::int64_t numel() const { return shape_.numel(); }
    /// Dimension i (negative counts from the end).
    std::int64_t dim(int i) const { return shape_.dim(i); }
    bool empty() const { return numel() == 0; }

    T* data() { return data_.get(); }
    const T* data() const { return data_.get(); }
    std::span<T> values() { return {data_.get(), std::size_t(numel())}; }
    std::span<const T> values() const { return {data_.get(), std::size_t(numel())}; }

    /// Element at a flat (row-major) index; no bounds check.
    T& operator[](std::int64_t i) { return data_[std::size_t(i)]; }
    const T& operator[](std::int64_t i) const { return data_[std::size_t(i)]; }

    /// Element at a multi-index; throws ShapeError when the index does not fit the shape.
    T& at(std::initializer_list<std::int64_t> index) { return data_[offset(index)]; }
    const T& at(std::initializer_list<std::int64_t> index) const { return data_[offset(index)]; }

    /// The single value of a one-element tensor; throws ShapeError otherwise.
    T item() const {
        if (numel() != 1)
            throw ShapeError("Tensor::item: tensor of shape " + shape_.to_string() + " has " +
                             std::to_string(numel()) + " elements, not 1");
        return data_[0];
    }

    /// Sets every element to `value` (large tensors over all threads).
    void fill(T value) { detail::fill_storage(data_.get(), numel(), value); }
    void zero() { fill(T(0)); }

    /// The same data under a new shape with the same element count (no copy when called on an
    /// rvalue). Throws ShapeError when the element counts differ.
    Tensor reshaped(const Shape& shape) const& { return Tensor(*this).reshaped(shape); }
    Tensor reshaped(const Shape& shape) && {
        if (shape.numel() != numel())
            throw ShapeError("reshape: cannot view " + shape_.to_string() + " (" +
                             std::to_string(numel()) + " elements) as " + shape.to_string() + " (" +
                             std::to_string(shape.numel()) + " elements)");
        Tensor t = std::move(*this);
        t.shape_ = shape;
        return t;
    }

    /// A new tensor with every element converted to U (e.g. float -> double for gradient checks).
    template <typename U> Tensor<U> cast() const {
        Tensor<U> out(shape_);
        for (std::int64_t i = 0; i < numel(); ++i)
            out[i] = static_cast<U>(data_[std::size_t(i)]);
        return out;
    }

private:
    using Buffer = std::unique_ptr<T[], detail::AlignedDelete>;
    struct Uninit {};

    Tensor(const Shape& shape, Uninit) : shape_(shape), data_(allocate(shape.numel())) {}

    static Buffer allocate(std::int64_t n) {
        if (n == 0)
            return Buffer(nullptr);
        // Round up to whole cache lines so vector loops may touch the tail line safely. A Shape
        // holds at most max_numel = 2^48 elements, so this byte count cannot overflow.
        static_assert(max_numel <= std::int64_t(1) << 56 && sizeof(T) <= 16);
        const std::size_t bytes = (std::size_t(n) * sizeof(T) + detail::tensor_alignment - 1) /
                                  detail::tensor_alignment * detail::tensor_alignment;
        return Buffer(static_cast<T*>(detail::allocate_tensor_memory(bytes)));
    }

    std::size_t offset(std::initializer_list<std::int64_t> index) const {
        if (int(index.size()) != shape_.rank())
            throw ShapeError("Tensor::at: index of rank " + std::to_string(index.size()) +
                             " for tensor of shape " + shape_.to_string());
        std::int64_t off = 0;
        int d = 0;
        for (std::int64_t i : index) {
            if (i < 0 || i >= shape_.dim(d)) {
                std::string s = "(";
                int k = 0;
                for (std::int64_t j : index)
                    s += (k++ ? ", " : "") + std::to_string(j);
                throw ShapeError("Tensor::at: index " + s + ") out of range for shape " +
                                 shape_.to_string());
            }
            off = off * shape_.dim(d) + i;
            ++d;
        }
        return std::size_t(off);
    }

    Shape shape_;
    Buffer data_;
};

using TensorF = Tensor<float>;
using TensorD = Tensor<double>;
using TensorI = Tensor<std::int32_t>;

} // namespace ouro
