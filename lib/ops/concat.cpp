// concat and split along one dimension, as row-wise contiguous copies (see concat.hpp).
// Forward, backward (adds into gradients), reference and autograd wrapper, in that order: concat's
// first, then split's.
#include "ouro/ops/concat.hpp"

#include "kernels.hpp"

#include <algorithm>
#include <string>
#include <vector>

namespace ouro::ops {
namespace {

// Elements per work item (a row, or a fixed chunk of a long row), and the least work worth a
// parallel region.
constexpr std::int64_t block = 16384;

// Product of the dimensions of s before d (outer) and after d (inner).
std::int64_t outer_of(const Shape& s, int d) {
    std::int64_t n = 1;
    for (int k = 0; k < d; ++k)
        n *= s[k];
    return n;
}
std::int64_t inner_of(const Shape& s, int d) {
    std::int64_t n = 1;
    for (int k = d + 1; k < s.rank(); ++k)
        n *= s[k];
    return n;
}

// A concatenation seen as `outer` rows of `total` elements: piece k fills the columns
// [offset[k], offset[k] + width[k]) of every row.
struct Pieces {
    std::int64_t outer = 0, total = 0;
    std::vector<std::int64_t> offset, width;

    Pieces(const std::vector<Shape>& shapes, int dim) : outer(outer_of(shapes[0], dim)) {
        const std::int64_t inner = inner_of(shapes[0], dim);
        for (const Shape& s : shapes) {
            offset.push_back(total);
            width.push_back(s[dim] * inner);
            total += s[dim] * inner;
        }
    }
};

// dst[r, j] = (or +=) src[r, j] for r < rows, j < width; rows are ld_src and ld_dst apart. Long
// rows are cut into chunks of `block` elements so that one long row (concat along dimension 0)
// still spreads over the threads.
template <bool Add, typename T>
void copy_rows(const T* src, std::int64_t ld_src, T* dst, std::int64_t ld_dst, std::int64_t rows,
               std::int64_t width) {
    if (rows == 0 || width == 0)
        return;
    const std::int64_t chunks = (width + block - 1) / block;
    const std::int64_t items = rows * chunks;
#pragma omp parallel for schedule(static) if (rows * width >= block)
    for (std::int64_t item = 0; item < items; ++item) {
        const std::int64_t r = item / chunks, j0 = item % chunks * block;
        const std::int64_t j1 = std::min(width, j0 + block);
        const T* s = src + r * ld_src;
        T* d = dst + r * ld_dst;
        for (std::int64_t j = j0; j < j1; ++j)
            detail::put<Add>(d[j], s[j]);
    }
}

int normalize_dim(const char* op, const Shape& s, int dim) {
    const int d = dim < 0 ? dim + s.rank() : dim;
    if (d < 0 || d >= s.rank())
        throw ShapeError(std::string(op) + ": dimension " + std::to_string(dim) +
                         " out of range for " + s.to_string());
    return d;
}

// Multi-index of flat element i of shape s, and back.
void unravel(std::int64_t i, const Shape& s, std::int64_t* index) {
    for (int k = s.rank() - 1; k >= 0; --k) {
        index[k] = i % s[k];
        i /= s[k];
    }
}
std::int64_t ravel(const std::int64_t* index, const Shape& s) {
    std::int64_t i = 0;
    for (int k = 0; k < s.rank(); ++k)
        i = i * s[k] + index[k];
    return i;
}

} // namespace

// Shapes: xs[k] (outer, n_k, inner) around dim, out (outer, sum of n_k, inner).
template <typename T>
void concat_forward(const std::vector<const T*>& xs, const std::vector<Shape>& shapes, int dim,
                    T* out) {
    const Pieces p(shapes, dim);
    for (std::size_t k = 0; k < xs.size(); ++k)
        copy_rows<false>(xs[k], p.width[k], out + p.offset[k], p.total, p.outer, p.width[k]);
}

// Shapes: dout (outer, sum of n_k, inner), dxs[k] (outer, n_k, inner), added into.
template <typename T>
void concat_backward(const T* dout, const std::vector<Shape>& shapes, int dim,
                     const std::vector<T*>& dxs) {
    const Pieces p(shapes, dim);
    for (std::size_t k = 0; k < dxs.size(); ++k)
        if (dxs[k])
            copy_rows<true>(dout + p.offset[k], p.total, dxs[k], p.width[k], p.outer, p.width[k]);
}

template <typename T>
void concat_reference(const std::vector<const T*>& xs, const std::vector<Shape>& shapes, int dim,
                      T* out) {
    std::int64_t total = 0;
    for (const Shape& s : shapes)
        total += s[dim];
    const Shape out_shape = shapes[0].with_dim(dim, total);
    std::int64_t index[Shape::max_rank];
    for (std::int64_t o = 0; o < out_shape.numel(); ++o) {
        unravel(o, out_shape, index);
        // Find the input that holds this position along dim.
        std::size_t k = 0;
        while (index[dim] >= shapes[k][dim]) {
            index[dim] -= shapes[k][dim];
            ++k;
        }
        out[o] = xs[k][ravel(index, shapes[k])];
    }
}

template <typename T> Var<T> concat(const std::vector<Var<T>>& xs, int dim) {
    if (xs.empty())
        throw ShapeError("concat: no tensors to concatenate");
    const Shape& first = xs[0].shape();
    const int d = normalize_dim("concat", first, dim);
    std::vector<Shape> shapes;
    std::vector<const T*> data;
    std::int64_t total = 0;
    for (std::size_t k = 0; k < xs.size(); ++k) {
        const Shape& s = xs[k].shape();
        auto pair = [&] {
            return "xs[0] is " + first.to_string() + ", xs[" + std::to_string(k) + "] is " +
                   s.to_string();
        };
        if (s.rank() != first.rank())
            throw ShapeError("concat: ranks differ: " + pair());
        for (int i = 0; i < s.rank(); ++i)
            if (i != d && s[i] != first[i])
                throw ShapeError("concat: shapes differ outside dimension " + std::to_string(d) +
                                 ": " + pair());
        shapes.push_back(s);
        data.push_back(xs[k].value().data());
        total += s[d];
    }
    Tensor<T> out = Tensor<T>::uninitialized(first.with_dim(d, total));
    concat_forward(data, shapes, d, out.data());
    return detail::make_result("concat", std::move(out), xs, [shapes, d](Node<T>& self) {
        std::vector<T*> dxs(shapes.size());
        for (std::size_t k = 0; k < shapes.size(); ++k)
            dxs[k] = detail::input_grad(self, k);
        concat_backward(self.grad.data(), shapes, d, dxs);
    });
}

// Shapes: x (outer, sum of n_k, inner) around dim, outs[k] (outer, n_k, inner).
template <typename T>
void split_forward(const T* x, const Shape& x_shape, const std::vector<std::int64_t>& sizes,
                   int dim, const std::vector<T*>& outs) {
    const std::int64_t outer = outer_of(x_shape, dim), inner = inner_of(x_shape, dim);
    const std::int64_t width = x_shape[dim] * inner;
    std::int64_t offset = 0;
    for (std::size_t k = 0; k < outs.size(); ++k) {
        const std::int64_t w = sizes[k] * inner;
        copy_rows<false>(x + offset, width, outs[k], w, outer, w);
        offset += w;
    }
}

// Shapes: dpiece (outer, size, inner), dx (outer, x_shape[dim], inner), added into at [offset,
// offset + size) of dim.
template <typename T>
void split_backward(const T* dpiece, const Shape& x_shape, int dim, std::int64_t offset,
                    std::int64_t size, T* dx) {
    const std::int64_t outer = outer_of(x_shape, dim), inner = inner_of(x_shape, dim);
    copy_rows<true>(dpiece, size * inner, dx + offset * inner, x_shape[dim] * inner, outer,
                    size * inner);
}

namespace {

// split_backward into an input gradient that does not exist yet (uninitialised): each row gets
// the piece at [offset, offset + size) of dim and zeros around it, in one pass instead of a
// zero-fill followed by an add.
template <typename T>
void split_backward_fresh(const T* dpiece, const Shape& x_shape, int dim, std::int64_t offset,
                          std::int64_t size, T* dx) {
    const std::int64_t outer = outer_of(x_shape, dim), inner = inner_of(x_shape, dim);
    const std::int64_t width = x_shape[dim] * inner, w = size * inner, begin = offset * inner;
#pragma omp parallel for schedule(static) if (outer * width >= block)
    for (std::int64_t r = 0; r < outer; ++r) {
        T* d = dx + r * width;
        std::fill(d, d + begin, T(0));
        std::copy(dpiece + r * w, dpiece + r * w + w, d + begin);
        std::fill(d + begin + w, d + width, T(0));
    }
}

} // namespace

template <typename T>
void split_reference(const T* x, const Shape& x_shape, const std::vector<std::int64_t>& sizes,
                     int dim, const std::vector<T*>& outs) {
    std::int64_t index[Shape::max_rank];
    std::int64_t offset = 0;
    for (std::size_t k = 0; k < outs.size(); ++k) {
        const Shape piece = x_shape.with_dim(dim, sizes[k]);
        for (std::int64_t o = 0; o < piece.numel(); ++o) {
            unravel(o, piece, index);
            index[dim] += offset;
            outs[k][o] = x[ravel(index, x_shape)];
        }
        offset += sizes[k];
    }
}

template <typename T>
std::vector<Var<T>> split(const Var<T>& x, const std::vector<std::int64_t>& sizes, int dim) {
    const Shape shape = x.shape();
    const int d = normalize_dim("split", shape, dim);
    std::int64_t total = 0;
    for (std::int64_t size : sizes) {
        if (size < 0)
            throw ShapeError("split: negative size " + std::to_string(size));
        total += size;
    }
    if (total != shape[d])
        throw ShapeError("split: sizes add up to " + std::to_string(total) + ", dimension " +
                         std::to_string(d) + " of " + shape.to_string() + " is " +
                         std::to_string(shape[d]));
    std::vector<Tensor<T>> pieces;
    std::vector<T*> data;
    for (std::int64_t size : sizes) {
        pieces.push_back(Tensor<T>::uninitialized(shape.with_dim(d, size)));
        data.push_back(pieces.back().data());
    }
    split_forward(x.value().data(), shape, sizes, d, data);
    std::vector<Var<T>> outs;
    std::int64_t offset = 0;
    for (std::size_t k = 0; k < sizes.size(); ++k) {
        const std::int64_t size = sizes[k];
        auto rule = [shape, d, offset, size](Node<T>& self) {
            const detail::GradTarget<T> dx = detail::input_grad_target(self, 0);
            if (dx.fresh)
                split_backward_fresh(self.grad.data(), shape, d, offset, size, dx.data);
            else if (dx.data)
                split_backward(self.grad.data(), shape, d, offset, size, dx.data);
        };
        outs.push_back(detail::make_result("split", std::move(pieces[k]), {x}, rule));
        offset += size;
    }
    return outs;
}

#define OURO_INSTANTIATE(T)                                                                        \
    template void concat_forward<T>(const std::vector<const T*>&, const std::vector<Shape>&, int,  \
                                    T*);                                                           \
    template void concat_backward<T>(const T*, const std::vector<Shape>&, int,                     \
                                     const std::vector<T*>&);                                      \
    template void concat_reference<T>(const std::vector<const T*>&, const std::vector<Shape>&,     \
                                      int, T*);                                                    \
    template Var<T> concat<T>(const std::vector<Var<T>>&, int);                                    \
    template void split_forward<T>(const T*, const Shape&, const std::vector<std::int64_t>&, int,  \
                                   const std::vector<T*>&);                                        \
    template void split_backward<T>(const T*, const Shape&, int, std::int64_t, std::int64_t, T*);  \
    template void split_reference<T>(const T*, const Shape&, const std::vector<std::int64_t>&,     \
                                     int, const std::vector<T*>&);                                 \
    template std::vector<Var<T>> split<T>(const Var<T>&, const std::vector<std::int64_t>&, int);
OURO_INSTANTIATE(float)
OURO_INSTANTIATE(double)
#undef OURO_INSTANTIATE

} // namespace ouro::ops
