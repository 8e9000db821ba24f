// Matrix products: matmul (batched, with optional transposes) and linear (x W^T + b, the layout of
// PyTorch's nn.Linear and of GPT-2's checkpoints once their Conv1D weights are transposed).
//
// Shape letters: B batch (any number of leading dimensions, flattened), M rows of the result,
// N columns of the result, K the inner (summed) dimension; for linear R = B * T rows, IN and OUT
// features. Every product runs through Eigen's single-threaded GEMM on row-major Maps, one call
// per tile of the output (up to 256 rows or columns, along its longer side),
// with OpenMP spreading the tiles over threads. The tiling depends only on the shapes, never on
// the thread count, and no tile's result depends on another's, so values and gradients are
// bit-identical for any number of threads. The backward products are GEMMs too; the weight
// gradient, whose sum runs over all R rows, is tiled over its own rows (OUT), not over the sum.
#pragma once

#include "ouro/autograd/var.hpp"
#include "ouro/core/half.hpp"

#include <cstdint>
#include <type_traits>

namespace ouro {
namespace detail {
/// Pointer parameters that may be nullptr (no bias, a gradient not wanted). Not deduced, so that
/// a literal nullptr can be passed: linear_forward(x, w, nullptr, out, ...).
template <typename T> using OptionalIn = std::type_identity_t<const T*>;
template <typename T> using OptionalOut = std::type_identity_t<T*>;
} // namespace detail
} // namespace ouro

namespace ouro::ops {

/// The tiling of every product's output (chosen by measurement, see benchmarks/README.md): the
/// longer side is cut into tiles of matmul_tile, halved down to matmul_min_tile while that leaves
/// fewer than matmul_min_tiles tiles; the other side is cut too if there are still too few. So
/// small products (a 128 x 128 weight gradient, decoding a few rows) still spread over threads.
/// The AVX-512 path's float kernel, whose bits do not depend on the tiles, cuts them for the team
/// (matmul_kernel_tile_size); on the AVX2 path a team larger than the tiles can keep busy
/// cuts each tile into pieces that keep its bits (lib/ops/gemm_tiles.hpp, eigen_split).
inline constexpr std::int64_t matmul_tile = 256;
inline constexpr std::int64_t matmul_min_tile = 64;
inline constexpr std::int64_t matmul_min_tiles = 4;

/// A tile of a product's output: rows x cols (the last tile of a row or column may be smaller).
struct MatmulTile {
    std::int64_t rows, cols;
};

/// The tiles (see matmul_tile) of the output (m, n) of each of `slices` products, with at least
/// min_tiles tiles in all where 64-wide tiles allow (lib/ops/matmul_tiles.cpp); for an empty
/// output (no slice, row or column), matmul_tile x matmul_tile.
MatmulTile matmul_tile_size(std::int64_t slices, std::int64_t m, std::int64_t n,
                            std::int64_t min_tiles);

/// The tiles of the AVX-512 path's float kernel for a team of `team` threads, whose register
/// blocks are mr rows x nr columns. Its bits do not depend on the tiles, so they are cut for the
/// team: matmul_tile_size with one tile per thread (at least matmul_min_tiles), or, when that
/// leaves threads idle (24 tiles for 16 threads), tiles no larger, their sides multiples of mr
/// and nr, that finish at least 5% sooner by an estimate of the slowest thread's work. Throws
/// ConfigError when mr or nr is below 1.
MatmulTile matmul_kernel_tile_size(std::int64_t slices, std::int64_t m, std::int64_t n,
                                   std::int64_t team, std::int64_t mr, std::int64_t nr);

/// The depth blocks of the AVX-512 path's float products (its own kernel, lib/ops/
/// gemm_kernel_avx512.hpp): each element of the output is, for each block of this many terms in
/// order, c = fma(alpha, acc, c) with acc = fma(a_p, b_p, acc) over the block from acc = 0 (alpha
/// is 1 in matmul and linear, c starts as the bias, zero or the gradient added into). Fixed, so the
/// bits depend only on the shape.
inline constexpr std::int64_t matmul_avx512_kc = 256;

/// The sizes of a matmul once its operands are validated: `batch` products (B) of op(a) (M, K)
/// and op(b) (K, N). With shared_b, b is a single (K, N) matrix (stored (N, K) with trans_b) used
/// by every batch; otherwise b holds one matrix per batch, like a.
struct MatmulDims {
    std::int64_t batch = 1;
    std::int64_t m = 0;
    std::int64_t n = 0;
    std::int64_t k = 0;
    bool trans_a = false;
    bool trans_b = false;
    bool shared_b = false;
};

/// Validates the shapes of matmul(a, b, trans_a, trans_b) and returns its sizes. Throws
/// ShapeError, e.g.
///   "matmul: operands must have rank >= 2: a is (3), b is (3, 4)"
///   "matmul: batch dimensions differ: a is (2, 4, 8), b is (3, 8, 5)"
///   "matmul: inner dimensions differ: a is (4, 8), b is (7, 3)"
/// (an operand used transposed is printed with " transposed" after its shape).
MatmulDims matmul_dims(const Shape& a, const Shape& b, bool trans_a, bool trans_b);

/// out (B, M, N) = op(a) (B, M, K) . op(b) (B or shared, K, N); a is stored (B, K, M) when
/// trans_a, b is stored (.., N, K) when trans_b. Overwrites out. Parallel over row blocks.
template <typename T> void matmul_forward(const T* a, const T* b, T* out, const MatmulDims& d);

/// Adds the gradients of matmul_forward: da (shaped like a) += dout . op(b)^T (transposed back
/// when trans_a), db (shaped like b) += op(a)^T . dout (summed over the batch when b is shared).
/// Either of da and db may be nullptr. Every product is a blocked GEMM.
template <typename T>
void matmul_backward(const T* a, const T* b, const T* dout, detail::OptionalOut<T> da,
                     detail::OptionalOut<T> db, const MatmulDims& d);

/// Naive serial triple loop computing the same as matmul_forward, kept for tests.
template <typename T> void matmul_reference(const T* a, const T* b, T* out, const MatmulDims& d);

/// out = op(a) . op(b), where op transposes the last two dimensions when its flag is set.
/// a is (..., M, K), or (..., K, M) with trans_a; b is (..., K, N), or (..., N, K) with trans_b,
/// with the same leading dimensions as a, or b is 2-D and shared by every batch (a weight).
/// The result is (..., M, N). Throws ShapeError as matmul_dims does.
template <typename T>
Var<T> matmul(const Var<T>& a, const Var<T>& b, bool trans_a = false, bool trans_b = false);

/// out (R, OUT) = x (R, IN) . weight^T, with weight (OUT, IN), plus bias (OUT) on every row when
/// bias is not nullptr. Overwrites out. Parallel over row blocks.
template <typename T>
void linear_forward(const T* x, const T* weight, detail::OptionalIn<T> bias, T* out,
                    std::int64_t rows, std::int64_t in, std::int64_t out_features);

/// Adds the gradients of linear_forward: dx (R, IN) += dout . weight, dweight (OUT, IN) +=
/// dout^T . x (blocked over OUT, each block summing all R rows in order), dbias (OUT) += the
/// column sums of dout. Any of dx, dweight, dbias may be nullptr.
template <typename T>
void linear_backward(const T* x, const T* weight, const T* dout, detail::OptionalOut<T> dx,
                     detail::OptionalOut<T> dweight, detail::OptionalOut<T> dbias,
                     std::int64_t rows, std::int64_t in, std::int64_t out_features);

/// Naive serial version of linear_forward, kept for tests.
template <typename T>
void linear_reference(const T* x, const T* weight, detail::OptionalIn<T> bias, T* out,
                      std::int64_t rows, std::int64_t in, std::int64_t out_features);

/// PyTorch's nn.Linear: x (..., IN), weight (OUT, IN), bias (OUT) or an undefined Var for no
/// bias; returns (..., OUT) = x . weight^T + bias as one op. Throws ShapeError, e.g.
///   "linear: input must have rank >= 1: x is ()"
///   "linear: weight must have rank 2: weight is (4)"
///   "linear: input features differ: x is (2, 5), weight is (3, 4)"
///   "linear: bias does not match weight: bias is (4), weight is (3, 5)"
template <typename T> Var<T> linear(const Var<T>& x, const Var<T>& weight, const Var<T>& bias);

// linear's decode schedule, for the inference session (gen/session.hpp): a block of output
// features of y = x W^T + b for the few rows that one decoding pass feeds (one new token per
// sequence, or a chunk of a prompt), on the calling thread. The session calls it from inside its
// one parallel region per pass, handing each thread fixed blocks of output features.
//
// Batch-1 decoding is bound by reading the weights (PERF.md): every weight is used once per
// token. The kernel is register-tiled: a tile of 8 output features (one row) or 4 features x 3
// rows keeps that many dot products in flight in vector registers. A tile's weight rows meet every
// group of rows while they are in L1, so they come from memory once per call, and the next tile's
// weights are prefetched while this one computes.
//
// Order of the sums. Every dot product runs in eight lanes, lane l adding the products of
// elements k = l mod 8 in increasing k with fused multiply-adds (the tail through masked loads,
// whose zeros add nothing), and the lanes are then added in a fixed tree, (l, l + 4), then
// (l, l + 2), then (0, 1). The tile an output falls in does not enter this order, so a row's
// result does not depend on how many rows are computed with it, on the block boundaries or on the
// thread: a sequence decoded in a batch gets the same bits as decoded alone.
//
// Weights may also be stored in IEEE half precision (core/half.hpp): half the bytes to read, each
// weight widened exactly to float before the same fused multiply-adds. Rounding a trained GPT's
// weights to half moves its logits by about 1e-3 of their scale.

/// Whether linear_rows overwrites its output or adds to it (a residual connection).
enum class LinearInto { overwrite, add };

/// For rows r < R and output features o in [o0, o1):
///   out[r * out_stride + o] = x[r, :] . weight[o, :] + bias[o]     (LinearInto::overwrite)
///   out[r * out_stride + o] += x[r, :] . weight[o, :] + bias[o]    (LinearInto::add)
/// with x (R, IN) contiguous, weight (OUT, IN), bias (OUT) or nullptr for none. The dot product
/// plus bias is rounded once to float before it is added. Runs on the calling thread.
void linear_rows(const float* x, std::int64_t rows, std::int64_t in, const float* weight,
                 const float* bias, float* out, std::int64_t out_stride, std::int64_t o0,
                 std::int64_t o1, LinearInto into = LinearInto::overwrite);
/// The same with half-precision weights (OUT, IN).
void linear_rows(const float* x, std::int64_t rows, std::int64_t in, const Half* weight,
                 const float* bias, float* out, std::int64_t out_stride, std::int64_t o0,
                 std::int64_t o1, LinearInto into = LinearInto::overwrite);
/// Naive serial linear_rows, each dot product summed in double and rounded once, kept for tests.
void linear_rows_reference(const float* x, std::int64_t rows, std::int64_t in, const float* weight,
                           const float* bias, float* out, std::int64_t out_stride, std::int64_t o0,
                           std::int64_t o1, LinearInto into = LinearInto::overwrite);
void linear_rows_reference(const float* x, std::int64_t rows, std::int64_t in, const Half* weight,
                           const float* bias, float* out, std::int64_t out_stride, std::int64_t o0,
                           std::int64_t o1, LinearInto into = LinearInto::overwrite);

} // namespace ouro::ops
