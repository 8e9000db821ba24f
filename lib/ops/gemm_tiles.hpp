// The tiled GEMM, once per instruction-set path: gemm_avx2.cpp and gemm_avx512.cpp each include
// this file once, with OURO_GEMM_PATH naming the path's namespace (avx2, avx512), and are compiled
// with that path's flags. Not a header to include anywhere else.
//
// Every product, forward and backward, is a single-threaded GEMM called once per tile of the
// output, with OpenMP over the tiles: Eigen's on row-major Maps, or on the AVX-512 path for floats
// (OURO_GEMM_OWN_KERNEL) the path's own kernel (gemm_kernel_avx512.hpp, included before this
// file). Eigen's tiles come from the shape alone, so the result does not depend on the thread
// count; each path gives its own bits. A team with more threads than tiles cuts the tiles into
// pieces that keep every element's bits (Split, eigen_split on the AVX2 path); the kernel, whose
// bits do not depend on the tiling, cuts its tiles for the team instead.
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
#include <omp.h>

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

// The tiles C is cut into (ouro/ops/matmul.hpp, lib/ops/matmul_tiles.cpp): from the shape alone
// on Eigen's tiles, whose bits depend on them; for the team on the kernel's, whose bits do not.
using Tile = ouro::ops::MatmulTile;
using ouro::ops::matmul_kernel_tile_size;
using ouro::ops::matmul_tile_size;

// Whether a product is worth a team of threads: below ouro::detail::parallel_madds_threshold
// multiply-adds its tiles (and packs) run on the calling thread, in the same way.
template <typename T> bool worth_a_team(const Gemm<T>& g) {
    return larger(g.batch, 1) * g.m * g.n * larger(g.k, 1) >=
           ouro::detail::parallel_madds_threshold;
}

// How run_tiles lays out the pieces of C that the threads take, rows and columns separately.
// Rows: the tiles' own (row_groups 0), or row_groups groups cut at multiples of row_unit from
// row 0, and with lone_last_row the last row as a group of its own. Columns: the tiles' own, each
// tile's cut into col_parts parts at multiples of col_unit from its first column (the last part
// runs to the tile's edge). Split{} is the tiles themselves.
struct Split {
    std::int64_t row_groups = 0, row_unit = 1;
    bool lone_last_row = false;
    std::int64_t col_parts = 1, col_unit = 1;
};

// The start of part p of q of [0, length) cut at multiples of unit (p == q: the end): each part
// gets length / unit / q or one more units, the last also the remainder under a unit. q is at
// most length / unit (or 1), so that no part is empty.
std::int64_t cut_at(std::int64_t length, std::int64_t unit, std::int64_t q, std::int64_t p) {
    return p == q ? length : unit * (p * (length / unit) / q);
}

// Rows [first, last) of C.
struct Rows {
    std::int64_t first, last;
};
std::int64_t row_group_count(const Split& split, Tile size, std::int64_t m) {
    return split.row_groups == 0 ? ceil_div(m, size.rows)
                                 : split.row_groups + (split.lone_last_row ? 1 : 0);
}
Rows row_group(const Split& split, Tile size, std::int64_t m, std::int64_t group) {
    if (split.row_groups == 0)
        return {group * size.rows, smaller(m, (group + 1) * size.rows)};
    const std::int64_t cut = split.lone_last_row ? m - 1 : m;
    if (group == split.row_groups)
        return {cut, m};
    return {cut_at(cut, split.row_unit, split.row_groups, group),
            cut_at(cut, split.row_unit, split.row_groups, group + 1)};
}

// How many parts a tile's `cols` columns are cut into for `parts` wanted, next to `rows` rows:
// fewer where the tile has fewer units, none beside a single row (Eigen's GEMV, whose bits
// cutting does not keep).
std::int64_t col_parts_of(std::int64_t cols, std::int64_t rows, std::int64_t unit,
                          std::int64_t parts) {
    if (parts <= 1 || rows < 2 || cols < 2)
        return 1;
    return larger(1, smaller(parts, cols / unit));
}

// Each piece of C (see Split) is computed by one thread, the same way whichever thread it is:
// C's rows [r0, r0 + rows) and columns [c0, c0 + cols), pointed to by c_tile (row stride g.n),
// get add_tile(i, r0, c0, rows, cols, c_tile, fresh) for each batch i that they sum, in order;
// fresh (Into::overwrite, first batch) says that the piece must first be replaced by the bias
// (zeros without one).
template <typename T, typename AddTile>
void run_tiles(const Gemm<T>& g, Into into, Tile size, Split split, const AddTile& add_tile) {
    const std::int64_t slices = g.sum_batches ? 1 : g.batch;
    if (slices == 0 || g.m == 0 || g.n == 0)
        return;
    const std::int64_t row_groups = row_group_count(split, size, g.m);
    const std::int64_t col_tiles = ceil_div(g.n, size.cols);
    const std::int64_t per_slice = row_groups * col_tiles * split.col_parts;
    const bool overwrite = into == Into::overwrite;
#pragma omp parallel for schedule(dynamic) if (worth_a_team(g))
    for (std::int64_t t = 0; t < slices * per_slice; ++t) {
        const std::int64_t s = t / per_slice, in_slice = t % per_slice;
        const std::int64_t part = in_slice % split.col_parts;
        const std::int64_t col_tile = in_slice / split.col_parts % col_tiles;
        const Rows rows = row_group(split, size, g.m, in_slice / split.col_parts / col_tiles);
        const std::int64_t tile_c0 = col_tile * size.cols;
        const std::int64_t tile_cols = smaller(size.cols, g.n - tile_c0);
        const std::int64_t nr = rows.last - rows.first;
        const std::int64_t parts = col_parts_of(tile_cols, nr, split.col_unit, split.col_parts);
        if (part >= parts)
            continue;
        const std::int64_t c0 = tile_c0 + cut_at(tile_cols, split.col_unit, parts, part);
        const std::int64_t cols = tile_c0 + cut_at(tile_cols, split.col_unit, parts, part + 1) - c0;
        const std::int64_t r0 = rows.first;
        T* c_tile = g.c + s * g.c_stride + r0 * g.n + c0;
        if (!g.sum_batches)
            add_tile(s, r0, c0, nr, cols, c_tile, overwrite);
        else if (g.batch == 0 && overwrite) // nothing to sum: the bias alone
            add_tile(0, r0, c0, nr, cols, c_tile, true);
        else
            for (std::int64_t i = 0; i < g.batch; ++i)
                add_tile(i, r0, c0, nr, cols, c_tile, overwrite && i == 0);
    }
}

// Packing a row of op(X) or a column of op(Y) for a tile costs about as much as this many
// multiply-adds of the tile's product, per step of depth. Measured on Zen 3 (AVX2) for the S
// weight gradients (k = 4096) cut from whole tiles into 64 x 64 or 128 x 128 pieces at one
// thread: the pieces took 18-33% more time, which this constant reproduces within a few per cent.
constexpr double pack_cost = 24.0;

// Below this many rows + columns + depth Eigen computes a product coefficient by coefficient
// (EIGEN_GEMM_TO_COEFFBASED_THRESHOLD), in another order than its blocked GEMM.
constexpr std::int64_t eigen_lazy_below = 20;

// The pieces of an Eigen product (the AVX2 path). The tiles of matmul_tile_size (with
// matmul_min_tiles, whatever the team) fix the bits, but less of them than it seems. Eigen computes
// a row-major C as C^T, cutting C's columns into register blocks of mr = 3 vectors (24 floats with
// AVX2), then 2 and 1 vector, then halves and single lanes: the blocks of 3 and 2 vectors sum each
// element's products in one order, the narrower ones in another, so an element's bits depend on
// where its tile's columns end (a 128-wide tile ends in a 1-vector block, a 256-wide one in a
// 2-vector block). C's rows go in blocks of nr = 4 with the same order for all, and Eigen's depth
// blocking (kc) depends on k alone. So pieces keep every element's bits when they cut a tile's
// columns at multiples of mr from its first column, and cut or join rows anywhere at multiples of
// nr from row 0, except where Eigen would not run its blocked GEMM on a tile: a tile of one row or
// one column (GEMV) or of fewer than eigen_lazy_below rows + columns + depth. The test "matmul:
// Eigen products cut into pieces keep their bits" checks this against the tiles themselves; it was
// checked on the AVX2 path only, so the AVX-512 path's Eigen products (its doubles) keep their
// tiles.
//
// The cut chosen is the one that finishes soonest by pack_cost's estimate: the slowest thread's
// pieces, each its multiply-adds plus its packing (a piece packs its rows of op(X) and columns of
// op(Y)), at most 4 pieces per thread; on one thread that is one piece per column tile, all rows
// joined (each tile of rows repacked op(Y): the backward products of S took 3-6% less time).
template <typename T> Split eigen_split(const Gemm<T>& g, Tile size, Into into) {
    using Traits = Eigen::internal::gebp_traits<T, T>;
    const std::int64_t slices = g.sum_batches ? 1 : g.batch;
    const std::int64_t row_tiles = ceil_div(g.m, size.rows), col_tiles = ceil_div(g.n, size.cols);
    const std::int64_t last_rows = g.m - (row_tiles - 1) * size.rows;
    const std::int64_t last_cols = g.n - (col_tiles - 1) * size.cols;
    // Every tile and every piece then runs Eigen's blocked GEMM (a piece has at least one row,
    // and the narrowest tile's columns), except a last row of its own, which stays alone.
    if (OURO_GEMM_OWN_KERNEL || slices == 0 || g.m < 2 || last_cols < 2 ||
        last_cols + g.k < eigen_lazy_below)
        return Split{};
    // A product that overwrites C (forward) keeps the tiles' rows: with its rows joined, the bias
    // written into all of them left the cache before Eigen added to it (XS's forward products
    // took 7% longer).
    const bool join_rows = into == Into::add;
    Split split{join_rows ? 1 : 0, std::int64_t(Traits::nr), join_rows && last_rows == 1, 1,
                std::int64_t(Traits::mr)};
    const std::int64_t rows_to_cut = split.lone_last_row ? g.m - 1 : g.m;
    const std::int64_t team = worth_a_team(g) && !omp_in_parallel() ? num_threads() : 1;
    const std::int64_t max_rg = join_rows ? larger(1, rows_to_cut / split.row_unit) : 1;
    const std::int64_t max_qc = larger(1, size.cols / split.col_unit);
    // Two pieces a thread in a small team, where a thread that the system deschedules is a large
    // share of it and the others can take its second piece; one a thread from 5 threads on, where
    // pieces small enough for two each repack too much (a 256 x 256 weight gradient at 16 threads
    // in 64 x 32 pieces instead of 64 x 64).
    const std::int64_t fewest = team == 1 ? 1 : team <= 4 ? 2 * team : team;
    const std::int64_t most = 4 * team;
    // Without joining, each of the tiles' rows is one group.
    const std::int64_t tiles = slices * col_tiles * (join_rows ? 1 : row_tiles);
    const double tile_rows = double(join_rows ? rows_to_cut : smaller(size.rows, g.m));
    double best = 0.0;
    for (std::int64_t rg = 1; rg <= smaller(max_rg, most); ++rg)
        for (std::int64_t qc = 1; qc <= max_qc; ++qc) {
            const std::int64_t pieces = tiles * rg * qc;
            if (pieces > larger(most, tiles * rg))
                break;
            if (pieces < fewest && !(rg == max_rg && qc == max_qc))
                continue;
            const double rows = tile_rows / double(rg);
            const double cols = double(size.cols) / double(qc);
            const double slowest =
                double(ceil_div(pieces, team)) * (rows * cols + pack_cost * (rows + cols));
            if (best == 0.0 || slowest < best) {
                best = slowest;
                if (join_rows)
                    split.row_groups = rg;
                split.col_parts = qc;
            }
        }
    return split;
}

// run_tiles with Eigen's GEMM for each piece, after writing the bias when the piece is fresh.
template <typename T> void run_eigen_tiles(const Gemm<T>& g, Into into, const T* bias) {
    const std::int64_t slices = g.sum_batches ? 1 : g.batch;
    const Tile size = matmul_tile_size(slices, g.m, g.n, matmul_min_tiles);
    run_tiles(g, into, size, eigen_split(g, size, into),
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
    const std::int64_t team = worth_a_team(g) && !omp_in_parallel() ? num_threads() : 1;
    const Tile size = matmul_kernel_tile_size(slices, g.m, g.n, team, kernel::mr, kernel::nr);
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
    run_tiles(g, into, size, Split{},
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
