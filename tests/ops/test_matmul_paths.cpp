// The tiled GEMM under matmul and linear on each instruction-set path (ouro/core/isa.hpp): every
// path matches the naive reference and gives the same bits for any thread count.
#include "test_util.hpp"

#include <ouro/core/isa.hpp>
#include <ouro/core/parallel.hpp>
#include <ouro/ops/matmul.hpp>

#include <Eigen/Core>
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

using namespace ouro;
using namespace ouro::ops;
using ouro::testing::bitwise_equal;
using ouro::testing::check_close;
using ouro::testing::check_same_bits_for_teams;
using ouro::testing::random_tensor;
using ouro::testing::runnable_paths;

namespace {

// Forward and both gradients of one linear layer with a bias, (rows, in) -> (rows, out).
struct LinearResult {
    TensorF out, dx, dw, db;
};
LinearResult run_linear(const TensorF& x, const TensorF& w, const TensorF& bias,
                        const TensorF& dout) {
    const std::int64_t rows = x.shape()[0], in = x.shape()[1], out = w.shape()[0];
    LinearResult r{TensorF({rows, out}), TensorF({rows, in}), TensorF({out, in}), TensorF({out})};
    linear_forward(x.data(), w.data(), bias.data(), r.out.data(), rows, in, out);
    linear_backward(x.data(), w.data(), dout.data(), r.dx.data(), r.dw.data(), r.db.data(), rows,
                    in, out);
    return r;
}

// The tiles of the documented rule (ouro/ops/matmul.hpp): the longer side of C cut into tiles of
// matmul_tile, halved down to matmul_min_tile while there are fewer than matmul_min_tiles; then,
// if still too few, the other side cut into parts at least 64 wide (a multiple of 16).
std::pair<std::int64_t, std::int64_t> documented_tiles(std::int64_t m, std::int64_t n) {
    const bool cut_rows = m >= n;
    const std::int64_t along = cut_rows ? m : n, across = cut_rows ? n : m;
    std::int64_t length = matmul_tile;
    while (length > matmul_min_tile && (along + length - 1) / length < matmul_min_tiles)
        length /= 2;
    std::int64_t width = across;
    const std::int64_t tiles = (along + length - 1) / length;
    if (tiles < matmul_min_tiles) {
        const std::int64_t parts = (matmul_min_tiles + tiles - 1) / tiles;
        width = std::min(across,
                         std::max<std::int64_t>(64, ((across + parts - 1) / parts + 15) / 16 * 16));
    }
    return cut_rows ? std::pair{length, width} : std::pair{width, length};
}

// C (m, n) = bias + op(X) . op(Y) (bias nullptr: 0 + ...), with Eigen's GEMM called once per
// documented tile, as the AVX2 path computed every product before its tiles were cut into
// pieces. op(X) (m, k) is stored (k, m) when tx; op(Y) (k, n) is stored (n, k) when ty.
template <typename T>
void eigen_on_tiles(const T* x, bool tx, const T* y, bool ty, std::type_identity_t<const T*> bias,
                    T* c, std::int64_t m, std::int64_t n, std::int64_t k) {
    using Rows = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    using In = Eigen::Map<const Rows, 0, Eigen::OuterStride<>>;
    using Out = Eigen::Map<Rows, 0, Eigen::OuterStride<>>;
    const auto [tile_rows, tile_cols] = documented_tiles(m, n);
    for (std::int64_t r0 = 0; r0 < m; r0 += tile_rows)
        for (std::int64_t c0 = 0; c0 < n; c0 += tile_cols) {
            const std::int64_t rows = std::min(tile_rows, m - r0),
                               cols = std::min(tile_cols, n - c0);
            Out tile(c + r0 * n + c0, rows, cols, Eigen::OuterStride<>(n));
            for (std::int64_t r = 0; r < rows; ++r)
                for (std::int64_t j = 0; j < cols; ++j)
                    tile(r, j) = bias ? bias[c0 + j] : T(0);
            const auto times_y = [&](const auto& x_rows) {
                if (ty)
                    tile.noalias() +=
                        x_rows * In(y + c0 * k, cols, k, Eigen::OuterStride<>(k)).transpose();
                else
                    tile.noalias() += x_rows * In(y + c0, k, cols, Eigen::OuterStride<>(n));
            };
            if (tx)
                times_y(In(x + r0, k, rows, Eigen::OuterStride<>(m)).transpose());
            else
                times_y(In(x + r0 * k, rows, k, Eigen::OuterStride<>(k)));
        }
}

struct LinearSizes {
    std::int64_t rows, in, out;
};

// A linear layer's three products (out = bias + x . w^T, dx = dout . w, dw = dout^T . x) give
// the bits of Eigen run tile by tile with 1 thread, and those bits with teams of 2, 3, 4 and
// largest_team.
template <typename T> void check_linear_keeps_tile_bits(const LinearSizes& z, Rng& rng) {
    CAPTURE(z.rows);
    CAPTURE(z.in);
    const Tensor<T> x = random_tensor<T>({z.rows, z.in}, rng);
    const Tensor<T> w = random_tensor<T>({z.out, z.in}, rng);
    const Tensor<T> bias = random_tensor<T>({z.out}, rng);
    const Tensor<T> dout = random_tensor<T>({z.rows, z.out}, rng);
    const auto run = [&] {
        std::vector<Tensor<T>> r{Tensor<T>({z.rows, z.out}), Tensor<T>({z.rows, z.in}),
                                 Tensor<T>({z.out, z.in})};
        Tensor<T> db({z.out});
        linear_forward(x.data(), w.data(), bias.data(), r[0].data(), z.rows, z.in, z.out);
        linear_backward(x.data(), w.data(), dout.data(), r[1].data(), r[2].data(), db.data(),
                        z.rows, z.in, z.out);
        return r;
    };
    std::vector<Tensor<T>> want{Tensor<T>({z.rows, z.out}), Tensor<T>({z.rows, z.in}),
                                Tensor<T>({z.out, z.in})};
    eigen_on_tiles(x.data(), false, w.data(), true, bias.data(), want[0].data(), z.rows, z.out,
                   z.in);
    eigen_on_tiles(dout.data(), false, w.data(), false, nullptr, want[1].data(), z.rows, z.in,
                   z.out);
    eigen_on_tiles(dout.data(), true, x.data(), false, nullptr, want[2].data(), z.out, z.in,
                   z.rows);
    {
        const ThreadCountGuard one(1);
        const std::vector<Tensor<T>> r = run();
        for (std::size_t i = 0; i < r.size(); ++i)
            CHECK(bitwise_equal(r[i], want[i]));
    }
    check_same_bits_for_teams(run);
}

} // namespace

TEST_SUITE("ops") {
    TEST_CASE("matmul and linear on every instruction-set path") {
        Rng rng(11);
        // Sizes that are not multiples of 8 or 16 lanes, large enough to be cut into tiles.
        const std::int64_t rows = 301, in = 133, out = 77;
        const TensorF x = random_tensor<float>({rows, in}, rng);
        const TensorF w = random_tensor<float>({out, in}, rng);
        const TensorF bias = random_tensor<float>({out}, rng);
        const TensorF dout = random_tensor<float>({rows, out}, rng);

        SUBCASE("forward matches reference") {
            TensorF expected({rows, out});
            linear_reference(x.data(), w.data(), bias.data(), expected.data(), rows, in, out);
            const MatmulDims d = matmul_dims(Shape{3, 37, 29}, Shape{3, 41, 29}, false, true);
            const TensorF a = random_tensor<float>({3, 37, 29}, rng);
            const TensorF b = random_tensor<float>({3, 41, 29}, rng);
            TensorF want({3, 37, 41});
            matmul_reference(a.data(), b.data(), want.data(), d);
            for (const Isa path : runnable_paths()) {
                CAPTURE(isa_name(path));
                const IsaGuard guard(path);
                check_close(run_linear(x, w, bias, dout).out, expected, 1e-5, 1e-5);
                TensorF got({3, 37, 41});
                matmul_forward(a.data(), b.data(), got.data(), d);
                check_close(got, want, 1e-5, 1e-5);
            }
        }
        SUBCASE("gradients match the reference products") {
            // dx = dout . w, dw = dout^T . x: the forward reference on transposed copies.
            TensorF w_t({in, out}), dout_t({out, rows}), x_t({in, rows});
            for (std::int64_t o = 0; o < out; ++o)
                for (std::int64_t i = 0; i < in; ++i)
                    w_t[i * out + o] = w[o * in + i];
            for (std::int64_t q = 0; q < rows; ++q) {
                for (std::int64_t o = 0; o < out; ++o)
                    dout_t[o * rows + q] = dout[q * out + o];
                for (std::int64_t i = 0; i < in; ++i)
                    x_t[i * rows + q] = x[q * in + i];
            }
            TensorF dx({rows, in}), dw({out, in});
            linear_reference(dout.data(), w_t.data(), nullptr, dx.data(), rows, out, in);
            linear_reference(dout_t.data(), x_t.data(), nullptr, dw.data(), out, rows, in);
            for (const Isa path : runnable_paths()) {
                CAPTURE(isa_name(path));
                const IsaGuard guard(path);
                const LinearResult r = run_linear(x, w, bias, dout);
                check_close(r.dx, dx, 1e-5, 1e-5);
                check_close(r.dw, dw, 1e-4, 1e-5);
            }
        }
        SUBCASE("Eigen blocks for a fixed L1 size, not the CPU's") {
            run_linear(x, w, bias, dout);
            CHECK(Eigen::l1CacheSize() == 48 * 1024);
        }
        SUBCASE("bit-identical for any thread count") {
            for (const Isa path : runnable_paths()) {
                CAPTURE(isa_name(path));
                const IsaGuard guard(path);
                LinearResult one;
                {
                    const ThreadCountGuard threads(1);
                    one = run_linear(x, w, bias, dout);
                }
                // Not 5: clang's libomp leaks its bookkeeping for a team that large on a 2-core
                // machine, which fails the sanitizer run (LeakSanitizer).
                for (const int n : {2, 3}) {
                    const ThreadCountGuard threads(n);
                    const LinearResult r = run_linear(x, w, bias, dout);
                    CHECK(bitwise_equal(r.out, one.out));
                    CHECK(bitwise_equal(r.dx, one.dx));
                    CHECK(bitwise_equal(r.dw, one.dw));
                    CHECK(bitwise_equal(r.db, one.db));
                }
            }
        }
    }

    TEST_CASE("matmul: Eigen products cut into pieces keep their bits") {
        // On the AVX2 path the tiles of ouro/ops/matmul.hpp fix the bits, and the threads take
        // pieces cut from them (gemm_tiles.hpp, eigen_split): rows joined or cut, a tile's
        // columns cut at multiples of Eigen's register blocks. Every product below must give the
        // bits of Eigen run tile by tile (the library before the pieces) with 1 thread and with
        // teams of 2, 3, 4 and largest_team. Shapes with few tiles and every kind of edge:
        // 128-wide column tiles (which end in Eigen's 1-vector block), last tiles 60, 44 or 37
        // wide, a last row of its own (257 = 256 + 1, Eigen's GEMV), last tiles of 2 and 3 rows,
        // a depth too small to cut (Eigen's coefficient-wise product), doubles, batch sums.
        const IsaGuard guard(Isa::avx2);
        Rng rng(29);
        for (const LinearSizes& z :
             {LinearSizes{500, 700, 96}, LinearSizes{450, 61, 300}, LinearSizes{333, 250, 130},
              LinearSizes{257, 90, 140}, LinearSizes{258, 37, 200}, LinearSizes{259, 8, 6},
              LinearSizes{130, 3, 300}})
            check_linear_keeps_tile_bits<float>(z, rng);
        // Doubles: Eigen's register blocks of 12.
        check_linear_keeps_tile_bits<double>(LinearSizes{300, 130, 261}, rng);
        // A shared b under a transposed a: db (K, N) sums the batches in each piece.
        const MatmulDims d = matmul_dims(Shape{3, 201, 150}, Shape{201, 190}, true, false);
        const TensorF a = random_tensor<float>({3, 201, 150}, rng);
        const TensorF b = random_tensor<float>({201, 190}, rng);
        const TensorF g = random_tensor<float>({3, d.m, d.n}, rng);
        check_same_bits_for_teams([&] {
            TensorF out({3, d.m, d.n}), da({3, 201, 150}), db({201, 190});
            matmul_forward(a.data(), b.data(), out.data(), d);
            matmul_backward(a.data(), b.data(), g.data(), da.data(), db.data(), d);
            return std::vector<TensorF>{out, da, db};
        });
    }

    TEST_CASE("linear: the bias gradient sums each column over the rows in order, for any team") {
        // db += the column sums of dout, each column's rows added one after the other from zero
        // (on the AVX-512 path inside the weight gradient's kernel, elsewhere in column blocks
        // as wide as the team allows): the bits of the plain loop below, with any thread count.
        // Widths that leave the last block short (77, 300), one cache line (16), one column.
        Rng rng(31);
        for (const std::int64_t out : {1, 16, 77, 256, 300}) {
            CAPTURE(out);
            const std::int64_t rows = 517, in = 24;
            const TensorF x = random_tensor<float>({rows, in}, rng);
            const TensorF w = random_tensor<float>({out, in}, rng);
            const TensorF dout = random_tensor<float>({rows, out}, rng);
            const TensorF db0 = random_tensor<float>({out}, rng);
            TensorF want = db0;
            for (std::int64_t j = 0; j < out; ++j) {
                float sum = 0.0f;
                for (std::int64_t r = 0; r < rows; ++r)
                    sum += dout[r * out + j];
                want[j] += sum;
            }
            for (const Isa path : runnable_paths()) {
                CAPTURE(isa_name(path));
                const IsaGuard guard(path);
                const auto run = [&] {
                    TensorF dx({rows, in}), dw({out, in});
                    TensorF db = db0;
                    linear_backward(x.data(), w.data(), dout.data(), dx.data(), dw.data(),
                                    db.data(), rows, in, out);
                    return std::vector<TensorF>{db};
                };
                {
                    const ThreadCountGuard one(1);
                    CHECK(bitwise_equal(run()[0], want));
                }
                check_same_bits_for_teams(run);
            }
        }
    }
}
