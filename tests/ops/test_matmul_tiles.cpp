// How the tiled GEMM cuts a product's output (lib/ops/matmul_tiles.cpp): Eigen's tiles from the
// shape alone, and the AVX-512 kernel's for the team, so that a team's threads all have work. Plain
// integer functions: checked on every CPU (the kernel's bits for these tiles are checked where it
// runs, in test_matmul_kernel.cpp).
#include <ouro/core/error.hpp>
#include <ouro/core/isa.hpp>
#include <ouro/ops/matmul.hpp>

#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

using namespace ouro;
using namespace ouro::ops;

namespace {

constexpr std::int64_t mr = 12, nr = 32; // the kernel's register blocks

std::int64_t ceil_div(std::int64_t a, std::int64_t b) {
    return (a + b - 1) / b;
}

std::int64_t tile_count(std::int64_t slices, std::int64_t m, std::int64_t n, MatmulTile t) {
    return slices * ceil_div(m, t.rows) * ceil_div(n, t.cols);
}

// The share of a team's time that its threads are busy when the tiles are dealt in turn to the
// first free thread: the output's elements against team x (rounds of tiles x a whole tile).
double busy(std::int64_t m, std::int64_t n, MatmulTile t, std::int64_t team) {
    const std::int64_t rows = t.rows < m ? t.rows : m, cols = t.cols < n ? t.cols : n;
    const std::int64_t rounds = ceil_div(tile_count(1, m, n, t), team);
    return double(m * n) / double(team * rounds * rows * cols);
}

struct Product {
    std::int64_t m, n;
};

// The outputs of every product of a training step of a GPT-2 with R rows (B x T), width C and
// vocabulary V: each linear's forward (R, OUT), input gradient (R, IN) and weight gradient (OUT,
// IN), for qkv, the attention projection, the MLP's two layers and the tied head.
std::vector<Product> step_products(std::int64_t rows, std::int64_t c, std::int64_t vocab) {
    std::vector<Product> out;
    const std::int64_t layers[][2] = {{3 * c, c}, {c, c}, {4 * c, c}, {c, 4 * c}, {vocab, c}};
    for (const auto& w : layers) {
        out.push_back({rows, w[0]});
        out.push_back({rows, w[1]});
        out.push_back({w[0], w[1]});
    }
    return out;
}

} // namespace

TEST_SUITE("ops") {
    TEST_CASE("matmul: Eigen's tiles come from the shape, halved while too few") {
        // A long side is cut in 256s; a 768 x 256 weight gradient into 128s to give 4 tiles; a
        // 128 x 128 one into 64s, then its other side too.
        CHECK(matmul_tile_size(1, 4096, 768, 4).rows == 256);
        CHECK(matmul_tile_size(1, 4096, 768, 4).cols == 768);
        CHECK(matmul_tile_size(1, 768, 256, 4).rows == 128);
        CHECK(matmul_tile_size(1, 256, 1024, 4).cols == 256);
        CHECK(matmul_tile_size(1, 256, 1024, 4).rows == 256);
        const MatmulTile small = matmul_tile_size(1, 128, 128, 16);
        CHECK(small.rows == 64);
        CHECK(small.cols == 64); // parts at least 64 wide: 4 tiles, not 16
        CHECK(tile_count(3, 100, 50, matmul_tile_size(3, 100, 50, 4)) == 6);
        // An empty output has nothing to cut (it divided by its zero tiles before).
        for (const MatmulTile t :
             {matmul_tile_size(1, 0, 5, 4), matmul_tile_size(1, 7, 0, 4),
              matmul_tile_size(0, 7, 5, 4), matmul_kernel_tile_size(1, 0, 0, 16, mr, nr)}) {
            CHECK(t.rows == matmul_tile);
            CHECK(t.cols == matmul_tile);
        }
        CHECK_THROWS_AS(matmul_kernel_tile_size(1, 64, 64, 4, 0, nr), ouro::ConfigError);
    }

    TEST_CASE("matmul and linear of empty operands give empty results on every path") {
        for (const Isa isa : {Isa::avx2, Isa::avx512}) {
            if (!cpu_supports(isa))
                continue;
            CAPTURE(int(isa));
            const IsaGuard guard(isa);
            // No rows: nothing written. No columns: nothing written, da untouched.
            std::vector<float> a(20, 1.0f), b(20, 1.0f), out(1, 7.0f), da(20, 0.0f), db(20, 0.0f);
            const MatmulDims rows0 = matmul_dims(Shape{0, 5}, Shape{5, 3}, false, false);
            matmul_forward(a.data(), b.data(), out.data(), rows0);
            matmul_backward(a.data(), b.data(), out.data(), da.data(), db.data(), rows0);
            const MatmulDims cols0 = matmul_dims(Shape{4, 5}, Shape{5, 0}, false, false);
            matmul_forward(a.data(), b.data(), out.data(), cols0);
            matmul_backward(a.data(), b.data(), out.data(), da.data(), db.data(), cols0);
            CHECK(out[0] == 7.0f);
            for (const float v : da)
                CHECK(v == 0.0f);
            for (const float v : db)
                CHECK(v == 0.0f);
            linear_forward(a.data(), b.data(), nullptr, out.data(), 0, 5, 3);
            CHECK(out[0] == 7.0f);
        }
    }

    TEST_CASE("matmul: the AVX-512 kernel's tiles keep every thread of a team busy") {
        SUBCASE("one thread, or a team the tiles already suit: Eigen's tiles") {
            for (const Product p : step_products(4096, 256, 4096))
                for (const std::int64_t team : {0, 1}) {
                    const MatmulTile want = matmul_tile_size(1, p.m, p.n, matmul_min_tiles);
                    const MatmulTile got = matmul_kernel_tile_size(1, p.m, p.n, team, mr, nr);
                    CHECK(got.rows == want.rows);
                    CHECK(got.cols == want.cols);
                }
            // 16 tiles of 256 rows for 16 threads, or 8 for 2: nothing to gain.
            for (const std::int64_t team : {2, 4, 8, 16}) {
                const MatmulTile t = matmul_kernel_tile_size(1, 4096, 768, team, mr, nr);
                CHECK(t.rows == 256);
                CHECK(t.cols == 768);
            }
        }
        SUBCASE("the products of the S and XS steps, teams of 2 to 16") {
            std::vector<Product> products = step_products(4096, 256, 4096); // S
            for (const Product p : step_products(4096, 128, 512))           // XS
                products.push_back(p);
            for (const Product p : products)
                for (std::int64_t team = 2; team <= 16; ++team) {
                    CAPTURE(p.m);
                    CAPTURE(p.n);
                    CAPTURE(team);
                    const MatmulTile base = matmul_tile_size(1, p.m, p.n, team < 4 ? 4 : team);
                    const MatmulTile t = matmul_kernel_tile_size(1, p.m, p.n, team, mr, nr);
                    // Never larger than Eigen's, whole register blocks, not too many.
                    CHECK(t.rows <= base.rows);
                    CHECK(t.cols <= base.cols);
                    const bool eigen = t.rows == base.rows && t.cols == base.cols;
                    CHECK((eigen || t.rows % mr == 0 || t.rows == p.m));
                    CHECK((eigen || t.cols % nr == 0 || t.cols == p.n));
                    CHECK(tile_count(1, p.m, p.n, t) <= 8 * team);
                    // Eigen's tiles left 12 of 16 threads idle on XS's 128 x 128 weight
                    // gradient (busy 25%), half of 12 threads on S's qkv (768 x 256: 24 tiles).
                    CHECK(busy(p.m, p.n, t, team) >= 0.7);
                    CHECK(busy(p.m, p.n, t, team) >= busy(p.m, p.n, base, team));
                }
            CHECK(busy(768, 256, matmul_kernel_tile_size(1, 768, 256, 16, mr, nr), 16) > 0.99);
            CHECK(busy(4096, 768, matmul_kernel_tile_size(1, 4096, 768, 12, mr, nr), 12) > 0.95);
        }
        SUBCASE("batches of products share the team") {
            // 3 products of 100 x 50: Eigen's 6 tiles for 16 threads, the kernel's more.
            const MatmulTile t = matmul_kernel_tile_size(3, 100, 50, 16, mr, nr);
            CHECK(tile_count(3, 100, 50, t) > 6);
            CHECK(tile_count(3, 100, 50, t) <= 8 * 16);
            // More products than a team needs: each one tile, as before.
            const MatmulTile many = matmul_kernel_tile_size(300, 40, 40, 4, mr, nr);
            CHECK(tile_count(300, 40, 40, many) == 300);
        }
    }
}
