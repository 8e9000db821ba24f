// The tiled GEMM, once per instruction-set path: gemm_avx2.cpp and gemm_avx512.cpp each include
// this file once, with OURO_GEMM_PATH naming the path's namespace (avx2, avx512), and are compiled
// with that path's flags. Not a header to include anywhere else.
//
// Every product, forward and backward, is a single-threaded GEMM called once per tile of the
// output, with OpenMP over the tiles: Eigen's on row-major Maps, or on the AVX-512 path for floats
// (OURO_GEMM_OWN_KERNEL) the path's own kernel (gemm_kernel_avx512.hpp, included before this
// file). The tiles come from the shape alone, so the result does not depend on the thread count;
// each path gives its own bits.
//
// Everything defined here is in ouro::ops::gemm::OURO_GEMM_PATH (or a namespace that the AVX-512
// file renames Eigen to): no inline function or template is shared by name with code built for
// another path, and std:: helpers are avoided, since an out-of-line copy of one (a debug build)
// would be a weak symbol that the linker keeps only once for all paths.
#ifndef OURO_GEMM_PATH
#error "gemm_tiles.hpp is included only by gemm_avx2.cpp and gemm_avx512.cpp"
#endif

#include "gemm.hpp"

#include "ouro/core/parallel.hpp"
#include "ouro/ops/matmul.hpp"

#include <Eigen/Core>

namespace ouro::ops::gemm::OURO_GEMM_PATH {
namespace {

template <typename T>
using RowMajor = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <typename T> using ConstMap = Eigen::Map<const RowMajor<T>, 0, Eigen::OuterStride<>>;
template <typename T> using MutableMap = Eigen::Map<RowMajor<T>, 0, Eigen::OuterStride<>>;

std::int64_t smaller(std::int64_t a, std::int64_t b) {
    return a < b ? a : b;
}
std::int64_t larger(std::int64_t a, std::int64_t b) {
    return a < b ? b : a;
}
std::int64_t ceil_div(std::int64_t a, std::int64_t b) {
    return (a + b - 1) / b;
}

// The tile of C_i at rows [r0, r0 + c.rows()) and columns [c0, c0 + c.cols()) += the same tile
// of op(X_i) . op(Y_i).
template <typename T>
void add_product_tile(const Gemm<T>& g, std::int64_t i, std::int64_t r0, std::int64_t c0,
                      MutableMap<T>& c) {
    const T* x = g.x + i * g.x_stride;
    const T* y = g.y + i * g.y_stride;
    const std::int64_t rows = c.rows(), cols = c.cols();
    auto times_y = [&](const auto& x_rows) {
        if (g.ty) // columns c0.. of op(Y) are rows c0.. of the stored (n, k) matrix
            c.noalias() +=
                x_rows *
                ConstMap<T>(y + c0 * g.k, cols, g.k, Eigen::OuterStride<>(g.k)).transpose();
        else
            c.noalias() += x_rows * ConstMap<T>(y + c0, g.k, cols, Eigen::OuterStride<>(g.n));
    };
    if (g.tx) // rows r0.. of op(X) are columns r0.. of the stored (k, m) matrix
        times_y(ConstMap<T>(x + r0, g.k, rows, Eigen::OuterStride<>(g.m)).transpose());
    else
        times_y(ConstMap<T>(x + r0 * g.k, rows, g.k, Eigen::OuterStride<>(g.k)));
}

// The size of the tiles C is cut into, from its shape and min_tiles. Each tile
// repacks the rows of op(X) and the columns of op(Y) it needs, so cutting C's rows into r tiles
// repacks op(Y) r times, and cutting its columns repacks op(X): the cheaper side to cut is the
// longer one. It is cut into the largest of 256, 128, 64 that still gives min_tiles tiles
// (matmul_min_tiles on Eigen's tiles, whose bits depend on them; at least one per thread on the
// kernel's, whose bits do not); when even 64 gives too few (a 128 x 128 weight gradient, a few rows
// while decoding), the other side is cut too, into parts at least 64 wide.
struct Tile {
    std::int64_t rows, cols;
};
Tile tile_size(std::int64_t slices, std::int64_t m, std::int64_t n, std::int64_t min_tiles) {
    constexpr std::int64_t min_width = 64;
    const bool cut_rows = m >= n;
    const std::int64_t along = cut_rows ? m : n, across = cut_rows ? n : m;
    std::int64_t length = matmul_tile;
    while (length > matmul_min_tile && slices * ceil_div(along, length) < min_tiles)
        length /= 2;
    std::int64_t width = across;
    const std::int64_t tiles = slices * ceil_div(along, length);
    if (tiles < min_tiles) {
        const std::int64_t parts = ceil_div(min_tiles, tiles);
        width = smaller(across, larger(min_width, ceil_div(ceil_div(across, parts), 16) * 16));
    }
    return cut_rows ? Tile{length, width} : Tile{width, length};
}

// Whether a product is worth a team of threads: below ouro::detail::parallel_madds_threshold
// multiply-adds its tiles (and packs) run on the calling thread, in the same way.
template <typename T> bool worth_a_team(const Gemm<T>& g) {
    return larger(g.batch, 1) * g.m * g.n * larger(g.k, 1) >=
           ouro::detail::parallel_madds_threshold;
}

// Each tile is computed by one thread, the same way whichever thread it is: C's tile at rows
// [r0, r0 + rows) and columns [c0, c0 + cols), pointed to by c_tile (row stride g.n), gets
// add_tile(i, r0, c0, rows, cols, c_tile, fresh) for each batch i that it sums, in order; fresh
// (Into::overwrite, first batch) says that the tile must first be replaced by the bias (zeros
// without one).
template <typename T, typename AddTile>
void run_tiles(const Gemm<T>& g, Into into, Tile size, const AddTile& add_tile) {
    const std::int64_t slices = g.sum_batches ? 1 : g.batch;
    if (slices == 0 || g.m == 0 || g.n == 0)
        return;
    const std::int64_t row_tiles = ceil_div(g.m, size.rows), col_tiles = ceil_div(g.n, size.cols);
    const std::int64_t tiles_per_slice = row_tiles * col_tiles;
    const bool overwrite = into == Into::overwrite;
#pragma omp parallel for schedule(dynamic) if (worth_a_team(g))
    for (std::int64_t t = 0; t < slices * tiles_per_slice; ++t) {
        const std::int64_t s = t / tiles_per_slice, tile = t % tiles_per_slice;
        const std::int64_t r0 = tile / col_tiles * size.rows, c0 = tile % col_tiles * size.cols;
        const std::int64_t rows = smaller(size.rows, g.m - r0);
        const std::int64_t cols = smaller(size.cols, g.n - c0);
        T* c_tile = g.c + s * g.c_stride + r0 * g.n + c0;
        if (!g.sum_batches)
            add_tile(s, r0, c0, rows, cols, c_tile, overwrite);
        else if (g.batch == 0 && overwrite) // nothing to sum: the bias alone
            add_tile(0, r0, c0, rows, cols, c_tile, true);
        else
            for (std::int64_t i = 0; i < g.batch; ++i)
                add_tile(i, r0, c0, rows, cols, c_tile, overwrite && i == 0);
    }
}

// run_tiles with Eigen's GEMM for each tile, after writing the bias when the tile is fresh.
template <typename T> void run_eigen_tiles(const Gemm<T>& g, Into into, const T* bias) {
    const std::int64_t slices = g.sum_batches ? 1 : g.batch;
    run_tiles(g, into, tile_size(slices, g.m, g.n, matmul_min_tiles),
              [&g, bias](std::int64_t i, std::int64_t r0, std::int64_t c0, std::int64_t rows,
                         std::int64_t cols, T* c_tile, bool fresh) {
                  if (fresh)
                      for (std::int64_t r = 0; r < rows; ++r)
                          for (std::int64_t j = 0; j < cols; ++j)
                              c_tile[r * g.n + j] = bias ? bias[c0 + j] : T(0);
                  if (g.batch == 0)
                      return;
                  MutableMap<T> c(c_tile, rows, cols, Eigen::OuterStride<>(g.n));
                  add_product_tile(g, i, r0, c0, c);
              });
}

#if OURO_GEMM_OWN_KERNEL
// op(X_i) from row r0 and op(Y_i) from column c0, as the kernel reads them.
kernel::Operand x_operand(const Gemm<float>& g, std::int64_t i, std::int64_t r0) {
    const float* x = g.x + i * g.x_stride;
    return g.tx ? kernel::Operand{x + r0, 1, g.m} : kernel::Operand{x + r0 * g.k, g.k, 1};
}
kernel::Operand y_operand(const Gemm<float>& g, std::int64_t i, std::int64_t c0) {
    const float* y = g.y + i * g.y_stride;
    return g.ty ? kernel::Operand{y + c0 * g.k, 1, g.k} : kernel::Operand{y + c0, g.n, 1};
}

// run_tiles with the path's own kernel (gemm_kernel_avx512.hpp) for each tile; a fresh tile
// starts from the bias without writing it first. When all the tiles share one op(X) and one op(Y)
// (one batch, or one X or Y for all), a side that several tiles would each pack is packed once,
// by all threads, before the tiles run: op(Y) when several tiles cut C's rows, op(X) when several
// cut its columns (a weight gradient wider than tall, 256 x 1024, read its 4096-deep dY^T once
// per column tile). The packs change only where the kernel reads its panels from, never a result.
// The row sums of op(X) (g.x_row_sums) are taken by the tiles of C's first column, each over its
// rows, from the panels it multiplies.
void run_kernel_tiles(const Gemm<float>& g, Into into, const float* bias) {
    const std::int64_t slices = g.sum_batches ? 1 : g.batch;
    kernel::PackedB packed_b{nullptr, 0};
    kernel::PackedA packed_a{nullptr, 0, 0, 0};
    const Tile size = tile_size(slices, g.m, g.n, larger(matmul_min_tiles, num_threads()));
    if (slices > 0 && g.m > 0 && g.n > 0 && g.k > 0 && !g.sum_batches) {
        const std::int64_t row_tiles = ceil_div(g.m, size.rows);
        const std::int64_t col_tiles = ceil_div(g.n, size.cols);
        const std::int64_t blocks = ceil_div(g.k, kernel::kc);
        if ((g.batch == 1 || g.y_stride == 0) && slices * row_tiles > 1 &&
            (size.cols % kernel::nr == 0 || size.cols >= g.n)) {
            const std::int64_t cols = ceil_div(g.n, kernel::nr) * kernel::nr;
            packed_b = kernel::PackedB{kernel::shared_buffer(g.k * cols), cols};
        }
        if ((g.batch == 1 || g.x_stride == 0) && col_tiles > 1) {
            const std::int64_t pad = ceil_div(size.rows, kernel::mr) * kernel::mr;
            packed_a = kernel::PackedA{kernel::shared_a_buffer(g.k * row_tiles * pad),
                                       row_tiles * pad, size.rows, pad};
        }
        // Work items: each depth block of op(Y) a panel at a time, then of op(X) a tile at a time.
        const std::int64_t b_panels = packed_b.p ? packed_b.cols / kernel::nr : 0;
        const std::int64_t a_tiles = packed_a.p ? row_tiles : 0;
        const std::int64_t b_items = blocks * b_panels, items = b_items + blocks * a_tiles;
        if (items > 0) {
            const kernel::Operand x = x_operand(g, 0, 0), y = y_operand(g, 0, 0);
#pragma omp parallel for schedule(static) if (worth_a_team(g))
            for (std::int64_t t = 0; t < items; ++t) {
                if (t < b_items)
                    kernel::pack_b_panel(y, g.n, g.k, t / b_panels, t % b_panels, packed_b);
                else
                    kernel::pack_a_tile(x, g.m, g.k, (t - b_items) / a_tiles,
                                        (t - b_items) % a_tiles, packed_a);
            }
        }
    }
    run_tiles(g, into, size,
              [&g, bias, packed_b, packed_a, size](std::int64_t i, std::int64_t r0, std::int64_t c0,
                                                   std::int64_t rows, std::int64_t cols,
                                                   float* c_tile, bool fresh) {
                  kernel::multiply(x_operand(g, i, r0), y_operand(g, i, c0), c_tile, g.n, rows,
                                   cols, g.batch == 0 ? 0 : g.k, 1.0f,
                                   kernel::Start{fresh, bias ? bias + c0 : nullptr}, packed_b, c0,
                                   packed_a, r0 / size.rows * packed_a.tile_pad,
                                   g.x_row_sums && c0 == 0 ? g.x_row_sums + r0 : nullptr);
              });
}
#endif

// C = or += alpha op(A) . op(B), as attention's Eigen expressions compute it.
template <typename T> void product_of(const Product<T>& p, Into into) {
    MutableMap<T> c(p.c, p.m, p.n, Eigen::OuterStride<>(p.ldc));
    auto times_b = [&](const auto& a) {
        auto finish = [&](const auto& b) {
            if (into == Into::add)
                c.noalias() += p.alpha * a * b;
            else
                c.noalias() = p.alpha * a * b;
        };
        if (p.tb)
            finish(ConstMap<T>(p.b, p.n, p.k, Eigen::OuterStride<>(p.ldb)).transpose());
        else
            finish(ConstMap<T>(p.b, p.k, p.n, Eigen::OuterStride<>(p.ldb)));
    };
    if (p.ta)
        times_b(ConstMap<T>(p.a, p.k, p.m, Eigen::OuterStride<>(p.lda)).transpose());
    else
        times_b(ConstMap<T>(p.a, p.m, p.k, Eigen::OuterStride<>(p.lda)));
}

} // namespace

void fix_blocking() {
    Eigen::setCpuCacheSizes(blocking_l1_bytes, Eigen::l2CacheSize(), Eigen::l3CacheSize());
}

void run_gemm(const Gemm<float>& g, Into into, const float* bias) {
#if OURO_GEMM_OWN_KERNEL
    run_kernel_tiles(g, into, bias);
#else
    run_eigen_tiles(g, into, bias);
#endif
}
void run_gemm(const Gemm<double>& g, Into into, const double* bias) {
    run_eigen_tiles(g, into, bias);
}

#if OURO_GEMM_WITH_PRODUCT
void product(const Product<float>& p, Into into) {
#if OURO_GEMM_OWN_KERNEL
    kernel::multiply(p.ta ? kernel::Operand{p.a, 1, p.lda} : kernel::Operand{p.a, p.lda, 1},
                     p.tb ? kernel::Operand{p.b, 1, p.ldb} : kernel::Operand{p.b, p.ldb, 1}, p.c,
                     p.ldc, p.m, p.n, p.k, p.alpha,
                     kernel::Start{into == Into::overwrite, nullptr});
#else
    product_of(p, into);
#endif
}
void product(const Product<double>& p, Into into) {
    product_of(p, into);
}
#endif

} // namespace ouro::ops::gemm::OURO_GEMM_PATH
