// How the tiled GEMM (gemm_tiles.hpp) cuts a product's output into the tiles that threads take.
// Plain integer arithmetic, compiled once with the library's own flags and called by every
// instruction-set path: nothing here is built for AVX-512.
#include "ouro/ops/matmul.hpp"

#include "ouro/core/error.hpp"

#include <algorithm>
#include <string>

namespace ouro::ops {
namespace {

std::int64_t ceil_div(std::int64_t a, std::int64_t b) {
    return (a + b - 1) / b;
}
std::int64_t round_up(std::int64_t a, std::int64_t unit) {
    return ceil_div(a, unit) * unit;
}

// The kernel's tiles are cut for the team only where that saves at least this share of the
// slowest thread's estimated time: elsewhere they stay those of matmul_tile_size, as measured.
constexpr double kernel_retile_gain = 0.05;

// Reading a tile's rows of op(X) and columns of op(Y) from the shared packs costs about this many
// multiply-adds per row and column, per step of depth (a float from L2 or L3 per 4-8 vector FMA
// lanes; rounded up, so that the estimate prefers fewer, larger tiles).
constexpr double kernel_tile_overhead = 8.0;

// No more tiles than this per thread: more only add overhead.
constexpr std::int64_t kernel_most_tiles_per_thread = 8;

} // namespace

// Each tile repacks the rows of op(X) and the columns of op(Y) it needs (Eigen's GEMM on the AVX2
// path), so cutting C's rows into r tiles repacks op(Y) r times, and cutting its columns repacks
// op(X): the cheaper side to cut is the longer one. It is cut into the largest of 256, 128, 64
// that still gives min_tiles tiles (matmul_min_tiles on Eigen's tiles, whose bits depend on
// them); when even 64 gives too few (a 128 x 128 weight gradient, a few rows while decoding), the
// other side is cut too, into parts at least 64 wide.
MatmulTile matmul_tile_size(std::int64_t slices, std::int64_t m, std::int64_t n,
                            std::int64_t min_tiles) {
    if (slices <= 0 || m <= 0 || n <= 0) // an empty output: nothing to cut
        return {matmul_tile, matmul_tile};
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
        width = std::min(across, std::max(min_width, round_up(ceil_div(across, parts), 16)));
    }
    return cut_rows ? MatmulTile{length, width} : MatmulTile{width, length};
}

// The tiles of matmul_tile_size come in 64, 128 or 256 rows, which a team often cannot share:
// a 768 x 256 weight gradient (S's qkv) makes 24 tiles of 64 x 128 for 16 threads, which take two
// rounds, 8 threads idle in the second; a 128 x 128 one (XS) 4 tiles, 12 threads idle; a 4096-row
// product 16 tiles for 12 threads. The estimate: tiles are dealt in turn to the first free thread,
// so the slowest takes ceil(tiles / team) whole tiles, each its multiply-adds over the kernel's
// padded register blocks plus kernel_tile_overhead per row and column. Among tiles no larger than
// matmul_tile_size's, with rows a multiple of mr and columns of nr (or the whole side), the one
// with the smallest estimate is taken if it beats matmul_tile_size's by kernel_retile_gain.
MatmulTile matmul_kernel_tile_size(std::int64_t slices, std::int64_t m, std::int64_t n,
                                   std::int64_t team, std::int64_t mr, std::int64_t nr) {
    if (mr < 1 || nr < 1)
        throw ConfigError("matmul_kernel_tile_size: register blocks must be at least 1 x 1, not " +
                          std::to_string(mr) + " x " + std::to_string(nr));
    const MatmulTile base = matmul_tile_size(slices, m, n, std::max(matmul_min_tiles, team));
    if (team <= 1 || slices <= 0 || m <= 0 || n <= 0)
        return base;
    auto slowest_thread = [&](MatmulTile t) {
        const std::int64_t rows = std::min(t.rows, m), cols = std::min(t.cols, n);
        const std::int64_t tiles = slices * ceil_div(m, rows) * ceil_div(n, cols);
        const double work = double(round_up(rows, mr) * round_up(cols, nr)) +
                            kernel_tile_overhead * double(rows + cols);
        return double(ceil_div(tiles, team)) * work;
    };
    const double base_time = slowest_thread(base);
    MatmulTile best = base;
    double best_time = base_time;
    const std::int64_t most = kernel_most_tiles_per_thread * team;
    for (std::int64_t row_tiles = 1; row_tiles <= std::min(ceil_div(m, mr), most / slices);
         ++row_tiles) {
        const std::int64_t rows = std::min(m, round_up(ceil_div(m, row_tiles), mr));
        if (rows > base.rows)
            continue;
        for (std::int64_t col_tiles = 1;
             col_tiles <= std::min(ceil_div(n, nr), most / (slices * row_tiles)); ++col_tiles) {
            const std::int64_t cols = std::min(n, round_up(ceil_div(n, col_tiles), nr));
            if (cols > base.cols)
                continue;
            const double time = slowest_thread({rows, cols});
            if (time < best_time) {
                best = {rows, cols};
                best_time = time;
            }
        }
    }
    return best_time <= (1.0 - kernel_retile_gain) * base_time ? best : base;
}

} // namespace ouro::ops
