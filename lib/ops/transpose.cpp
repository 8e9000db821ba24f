// transpose: swapping two dimensions as a batch of tiled grid transposes (see transpose.hpp).
// Forward, backward (adds into gradients), reference and autograd wrapper, in that order.
#include "ouro/ops/transpose.hpp"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

namespace ouro::ops {
namespace {

// Tile edge, in runs. With runs of one float a 32 x 32 tile reads and writes 32 rows of two whole
// cache lines each (8 KiB in all, inside L1), so neither side touches a line twice.
constexpr std::int64_t tile = 32;
// Elements per work item of a flat copy, and the least work worth a parallel region (decoding
// transposes one token's heads: that must not pay for waking threads).
constexpr std::int64_t block = 16384;

// x seen as (batch, rows, middle, cols, run): rows and cols are the swapped dimensions.
struct Grid {
    std::int64_t batch = 1, rows = 1, middle = 1, cols = 1, run = 1;
};

// Requires d0 < d1.
Grid grid_of(const Shape& s, int d0, int d1) {
    Grid g;
    for (int k = 0; k < d0; ++k)
        g.batch *= s[k];
    g.rows = s[d0];
    for (int k = d0 + 1; k < d1; ++k)
        g.middle *= s[k];
    g.cols = s[d1];
    for (int k = d1 + 1; k < s.rank(); ++k)
        g.run *= s[k];
    return g;
}

template <bool Add, typename T> inline void put(T& dst, T v) {
    if constexpr (Add)
        dst += v;
    else
        dst = v;
}

// Runs (r, c) for r in [r0, r1), c in [c0, c1) of a grid at `in` (grid rows ld_in elements
// apart) to runs (c, r) of the transposed grid at `out` (rows ld_out apart). Writes go along the
// output rows, so each output line is filled once; the strided reads stay inside the tile.
template <bool Add, typename T>
void transpose_tile(const T* in, std::int64_t ld_in, T* out, std::int64_t ld_out, std::int64_t r0,
                    std::int64_t r1, std::int64_t c0, std::int64_t c1, std::int64_t run) {
    if (run == 1) {
        for (std::int64_t c = c0; c < c1; ++c) {
            T* o = out + c * ld_out;
            for (std::int64_t r = r0; r < r1; ++r)
                put<Add>(o[r], in[r * ld_in + c]);
        }
        return;
    }
    for (std::int64_t c = c0; c < c1; ++c)
        for (std::int64_t r = r0; r < r1; ++r) {
            const T* src = in + r * ld_in + c * run;
            T* dst = out + c * ld_out + r * run;
            for (std::int64_t n = 0; n < run; ++n)
                put<Add>(dst[n], src[n]);
        }
}

// out (=, or += when Add) x with dimensions d0 and d1 swapped; x has shape s.
template <bool Add, typename T>
void transpose_kernel(const T* x, const Shape& s, int d0, int d1, T* out) {
    if (d0 > d1)
        std::swap(d0, d1);
    const std::int64_t n = s.numel();
    const Grid g = d0 == d1 ? Grid{.batch = n} : grid_of(s, d0, d1);
    if (g.middle == 1 && (g.rows == 1 || g.cols == 1)) {
        // The flat order does not change: a plain copy (or add) in fixed blocks.
        const std::int64_t blocks = (n + block - 1) / block;
#pragma omp parallel for schedule(static) if (blocks > 1)
        for (std::int64_t b = 0; b < blocks; ++b) {
            const std::int64_t i1 = std::min(n, b * block + block);
            for (std::int64_t i = b * block; i < i1; ++i)
                put<Add>(out[i], x[i]);
        }
        return;
    }
    // One work item per tile of one (batch, middle) grid; items write disjoint parts of out.
    const std::int64_t tiles_r = (g.rows + tile - 1) / tile, tiles_c = (g.cols + tile - 1) / tile;
    const std::int64_t items = g.batch * g.middle * tiles_r * tiles_c;
    const std::int64_t ld_in = g.middle * g.cols * g.run, ld_out = g.middle * g.rows * g.run;
#pragma omp parallel for schedule(static) if (n >= block)
    for (std::int64_t item = 0; item < items; ++item) {
        const std::int64_t tc = item % tiles_c, tr = item / tiles_c % tiles_r;
        const std::int64_t am = item / (tiles_c * tiles_r), a = am / g.middle, m = am % g.middle;
        const T* in = x + (a * g.rows * g.middle * g.cols + m * g.cols) * g.run;
        T* o = out + (a * g.cols * g.middle * g.rows + m * g.rows) * g.run;
        transpose_tile<Add>(in, ld_in, o, ld_out, tr * tile, std::min(g.rows, tr * tile + tile),
                            tc * tile, std::min(g.cols, tc * tile + tile), g.run);
    }
}

Shape swapped(const Shape& s, int d0, int d1) {
    return s.with_dim(d0, s[d1]).with_dim(d1, s[d0]);
}

int normalize_dim(const Shape& s, int dim) {
    const int d = dim < 0 ? dim + s.rank() : dim;
    if (d < 0 || d >= s.rank())
        throw ShapeError("transpose: dimension " + std::to_string(dim) + " out of range for " +
                         s.to_string());
    return d;
}

} // namespace

// Shapes: x (..., D0, ..., D1, ...), out (..., D1, ..., D0, ...) for dim0 = D0's, dim1 = D1's.
template <typename T>
void transpose_forward(const T* x, const Shape& x_shape, int dim0, int dim1, T* out) {
    transpose_kernel<false>(x, x_shape, dim0, dim1, out);
}

// Shapes: dout (..., D1, ..., D0, ...), dx (..., D0, ..., D1, ...), added into. The inverse of a
// swap is the same swap.
template <typename T>
void transpose_backward(const T* dout, const Shape& x_shape, int dim0, int dim1, T* dx) {
    transpose_kernel<true>(dout, swapped(x_shape, dim0, dim1), dim0, dim1, dx);
}

template <typename T>
void transpose_reference(const T* x, const Shape& x_shape, int dim0, int dim1, T* out) {
    const Shape out_shape = swapped(x_shape, dim0, dim1);
    const int rank = x_shape.rank();
    std::vector<std::int64_t> index(std::size_t(rank), 0);
    for (std::int64_t o = 0; o < out_shape.numel(); ++o) {
        // Multi-index of output element o, innermost dimension last.
        std::int64_t rest = o;
        for (int k = rank - 1; k >= 0; --k) {
            index[std::size_t(k)] = rest % out_shape[k];
            rest /= out_shape[k];
        }
        std::swap(index[std::size_t(dim0)], index[std::size_t(dim1)]);
        std::int64_t i = 0;
        for (int k = 0; k < rank; ++k)
            i = i * x_shape[k] + index[std::size_t(k)];
        out[o] = x[i];
    }
}

template <typename T> Var<T> transpose(const Var<T>& x, int dim0, int dim1) {
    const Shape shape = x.shape();
    const int d0 = normalize_dim(shape, dim0), d1 = normalize_dim(shape, dim1);
    Tensor<T> out(swapped(shape, d0, d1));
    transpose_forward(x.value().data(), shape, d0, d1, out.data());
    return detail::make_result("transpose", std::move(out), {x}, [shape, d0, d1](Node<T>& self) {
        transpose_backward(self.grad.data(), shape, d0, d1, detail::input_grad(self, 0));
    });
}

#define OURO_INSTANTIATE(T)                                                                        \
    template void transpose_forward<T>(const T*, const Shape&, int, int, T*);                      \
    template void transpose_backward<T>(const T*, const Shape&, int, int, T*);                     \
    template void transpose_reference<T>(const T*, const Shape&, int, int, T*);                    \
    template Var<T> transpose<T>(const Var<T>&, int, int);
OURO_INSTANTIATE(float)
OURO_INSTANTIATE(double)
#undef OURO_INSTANTIATE

} // namespace ouro::ops
