// The tiled GEMM under matmul and linear, compiled once per instruction-set path (gemm_avx2.cpp,
// gemm_avx512.cpp, both from gemm_tiles.hpp) and chosen at run time by run_gemm. Internal to the
// library: not installed.
//
// This header holds only data types and declarations: every function is defined inside the
// per-path namespaces, so that no inline function compiled for AVX-512 can be kept by the linker
// in place of the same function compiled for AVX2 (see gemm_tiles.hpp).
#pragma once

#include <cstdint>

namespace ouro::ops::gemm {

/// One batched product C_i (+)= op(X_i) . op(Y_i) for i < batch: op(X_i) is (m, k), stored (k, m)
/// when tx; op(Y_i) is (k, n), stored (n, k) when ty; C_i is (m, n). The strides count elements
/// from one batch's matrix to the next; y_stride 0 shares one Y. With sum_batches, C is a single
/// (m, n) matrix receiving the products of all batches, added in batch order.
template <typename T> struct Gemm {
    const T* x;
    std::int64_t x_stride;
    bool tx;
    const T* y;
    std::int64_t y_stride;
    bool ty;
    T* c;
    std::int64_t c_stride;
    bool sum_batches;
    std::int64_t batch, m, n, k;
    /// When not nullptr (one batch, not summed, m, n > 0; the AVX-512 path's float kernel only:
    /// the other paths ignore it), x_row_sums[i] += the sum of op(X)(i, p) over p < k in order,
    /// from zero: a bias gradient taken from the dY^T of a weight gradient's product.
    T* x_row_sums = nullptr;
};

/// The L1 data cache size, in bytes, that Eigen's GEMM blocking assumes on both paths, whatever
/// the CPU has. Eigen cuts a product's depth into panels sized from the L1 cache and sums the
/// panels one after the other, so with the CPU's own size a product deeper than one panel (a
/// weight gradient summed over B * T rows, the MLP's down projection) would round differently on
/// a CPU with another L1. 48 KiB is the L1d of Zen 5 and of recent Intel cores (Sapphire Rapids):
/// the results there are those of the library before this setting existed.
inline constexpr std::int64_t blocking_l1_bytes = 48 * 1024;

/// Whether run_gemm adds the products to C (backward) or replaces C with them (forward).
enum class Into { add, overwrite };

/// One single-threaded product on row-major strided matrices, for kernels that block and thread
/// their work themselves (attention): C (m, n) = or += alpha op(A) . op(B), op(A) (m, k) stored
/// (k, m) when ta, op(B) (k, n) stored (n, k) when tb; ld* are the row strides, in elements.
template <typename T> struct Product {
    const T* a;
    std::int64_t lda;
    bool ta;
    const T* b;
    std::int64_t ldb;
    bool tb;
    T* c;
    std::int64_t ldc;
    std::int64_t m, n, k;
    T alpha;
};

// run_gemm: runs g one tile of C at a time, tiles spread over threads (gemm_tiles.hpp). With
// Into::overwrite each tile first gets `bias` on every row (zero when bias is nullptr).
// product: runs p on the calling thread.
// fix_blocking: makes the path's Eigen GEMM block for blocking_l1_bytes (keeping the CPU's L2
// and L3 sizes, which change only the speed). Called once per process (ouro/core/isa.cpp).
namespace avx2 {
void fix_blocking();
void run_gemm(const Gemm<float>& g, Into into, const float* bias);
void run_gemm(const Gemm<double>& g, Into into, const double* bias);
} // namespace avx2
namespace avx512 {
void fix_blocking();
void run_gemm(const Gemm<float>& g, Into into, const float* bias);
void run_gemm(const Gemm<double>& g, Into into, const double* bias);
void product(const Product<float>& p, Into into);
void product(const Product<double>& p, Into into);
} // namespace avx512

} // namespace ouro::ops::gemm
