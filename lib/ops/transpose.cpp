// transpose: swapping two dimensions as a batch of tiled grid transposes (see transpose.hpp).
// Forward, backward (adds into gradients), reference and autograd wrapper, in that order.
#include "ouro/ops/transpose.hpp"

#include "kernels.hpp"

#include <algorithm>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace ouro::ops {
namespace {

// Tile size, in runs: tile_rows input rows by tile_cols input columns. With runs of one float a
// tile reads 16 KiB and writes 16 KiB (inside L1), and each output row it writes is 128 floats,
// eight whole cache lines: long contiguous writes measured faster than square 32 x 32 tiles
// (by 1.3x in cache to 1.8x for a (1024, 1024) matrix out of cache).
constexpr std::int64_t tile_rows = 128, tile_cols = 32;
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

#if defined(__AVX2__)
// An 8 x 8 block of floats transposed in registers (in rows ld_in apart, out rows ld_out apart):
// unpacks interleave pairs of rows, shuffles gather four, 128-bit permutes join the halves.
template <bool Add>
inline void transpose_block(const float* in, std::int64_t ld_in, float* out, std::int64_t ld_out) {
    __m256 r[8], t[8];
    for (int k = 0; k < 8; ++k)
        r[k] = _mm256_loadu_ps(in + k * ld_in);
    for (int k = 0; k < 8; k += 2) {
        t[k] = _mm256_unpacklo_ps(r[k], r[k + 1]);     // a0 b0 a1 b1 | a4 b4 a5 b5
        t[k + 1] = _mm256_unpackhi_ps(r[k], r[k + 1]); // a2 b2 a3 b3 | a6 b6 a7 b7
    }
    for (int k = 0; k < 8; k += 4) {
        r[k] = _mm256_shuffle_ps(t[k], t[k + 2], 0x44);     // a0 b0 c0 d0 | a4 b4 c4 d4
        r[k + 1] = _mm256_shuffle_ps(t[k], t[k + 2], 0xee); // a1 b1 c1 d1 | a5 b5 c5 d5
        r[k + 2] = _mm256_shuffle_ps(t[k + 1], t[k + 3], 0x44);
        r[k + 3] = _mm256_shuffle_ps(t[k + 1], t[k + 3], 0xee);
    }
    for (int k = 0; k < 4; ++k) {
        t[k] = _mm256_permute2f128_ps(r[k], r[k + 4], 0x20);     // column k
        t[k + 4] = _mm256_permute2f128_ps(r[k], r[k + 4], 0x31); // column k + 4
    }
    for (int k = 0; k < 8; ++k) {
        float* o = out + k * ld_out;
        _mm256_storeu_ps(o, Add ? _mm256_add_ps(_mm256_loadu_ps(o), t[k]) : t[k]);
    }
}

// The same for a 4 x 4 block of doubles.
template <bool Add>
inline void transpose_block(const double* in, std::int64_t ld_in, double* out,
                            std::int64_t ld_out) {
    __m256d r[4], t[4];
    for (int k = 0; k < 4; ++k)
        r[k] = _mm256_loadu_pd(in + k * ld_in);
    t[0] = _mm256_unpacklo_pd(r[0], r[1]); // a0 b0 | a2 b2
    t[1] = _mm256_unpackhi_pd(r[0], r[1]); // a1 b1 | a3 b3
    t[2] = _mm256_unpacklo_pd(r[2], r[3]); // c0 d0 | c2 d2
    t[3] = _mm256_unpackhi_pd(r[2], r[3]); // c1 d1 | c3 d3
    r[0] = _mm256_permute2f128_pd(t[0], t[2], 0x20);
    r[1] = _mm256_permute2f128_pd(t[1], t[3], 0x20);
    r[2] = _mm256_permute2f128_pd(t[0], t[2], 0x31);
    r[3] = _mm256_permute2f128_pd(t[1], t[3], 0x31);
    for (int k = 0; k < 4; ++k) {
        double* o = out + k * ld_out;
        _mm256_storeu_pd(o, Add ? _mm256_add_pd(_mm256_loadu_pd(o), r[k]) : r[k]);
    }
}

#endif

// Runs (r, c) for r in [r0, r1), c in [c0, c1) of a grid at `in` (grid rows ld_in elements
// apart) to runs (c, r) of the transposed grid at `out` (rows ld_out apart). Writes go along the
// output rows, so each output line is filled once; the strided reads stay inside the tile.
template <bool Add, typename T>
void transpose_tile(const T* in, std::int64_t ld_in, T* out, std::int64_t ld_out, std::int64_t r0,
                    std::int64_t r1, std::int64_t c0, std::int64_t c1, std::int64_t run) {
    if (run == 1) {
        // Whole register blocks, up to row rv and column cv; then the ragged edges one element at
        // a time. A block's add rounds exactly as a scalar add, so which elements fall in an edge
        // does not change the result.
        std::int64_t rv = r0, cv = c0;
#if defined(__AVX2__)
        if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
            constexpr std::int64_t v = std::int64_t(32 / sizeof(T)); // one vector of T
            rv = r0 + (r1 - r0) / v * v;
            cv = c0 + (c1 - c0) / v * v;
            for (std::int64_t c = c0; c < cv; c += v)
                for (std::int64_t r = r0; r < rv; r += v)
                    transpose_block<Add>(in + r * ld_in + c, ld_in, out + c * ld_out + r, ld_out);
        }
#endif
        for (std::int64_t c = c0; c < c1; ++c) {
            T* o = out + c * ld_out;
            for (std::int64_t r = c < cv ? rv : r0; r < r1; ++r)
                detail::put<Add>(o[r], in[r * ld_in + c]);
        }
        return;
    }
    for (std::int64_t c = c0; c < c1; ++c)
        for (std::int64_t r = r0; r < r1; ++r) {
            const T* src = in + r * ld_in + c * run;
            T* dst = out + c * ld_out + r * run;
            for (std::int64_t n = 0; n < run; ++n)
                detail::put<Add>(dst[n], src[n]);
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
                detail::put<Add>(out[i], x[i]);
        }
        return;
    }
    // One work item per tile of one (batch, middle) grid; items write disjoint parts of out.
    const std::int64_t tiles_r = (g.rows + tile_rows - 1) / tile_rows,
                       tiles_c = (g.cols + tile_cols - 1) / tile_cols;
    const std::int64_t items = g.batch * g.middle * tiles_r * tiles_c;
    const std::int64_t ld_in = g.middle * g.cols * g.run, ld_out = g.middle * g.rows * g.run;
#pragma omp parallel for schedule(static) if (n >= block)
    for (std::int64_t item = 0; item < items; ++item) {
        const std::int64_t tc = item % tiles_c, tr = item / tiles_c % tiles_r;
        const std::int64_t am = item / (tiles_c * tiles_r), a = am / g.middle, m = am % g.middle;
        const T* in = x + (a * g.rows * g.middle * g.cols + m * g.cols) * g.run;
        T* o = out + (a * g.cols * g.middle * g.rows + m * g.rows) * g.run;
        transpose_tile<Add>(in, ld_in, o, ld_out, tr * tile_rows,
                            std::min(g.rows, tr * tile_rows + tile_rows), tc * tile_cols,
                            std::min(g.cols, tc * tile_cols + tile_cols), g.run);
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
