// The AVX-512 path's own float kernel under matmul and linear (lib/ops/gemm_kernel_avx512.hpp):
// its results are, bit for bit, the fixed order that ouro/ops/matmul.hpp documents (depth blocks
// of matmul_avx512_kc, each an fma chain from zero added to C in order), on edge shapes, every
// transpose, batch sums, bias, add and overwrite, and for any thread count.
#include "test_util.hpp"

#include <ouro/core/isa.hpp>
#include <ouro/core/parallel.hpp>
#include <ouro/ops/matmul.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <vector>

using namespace ouro;
using namespace ouro::ops;
using ouro::testing::bitwise_equal;
using ouro::testing::check_same_bits_for_teams;
using ouro::testing::largest_team;
using ouro::testing::random_tensor;

namespace {

// c (m x n) += sum over batches s of X_s . Y_s (X_s (m x depth), Y_s (depth x n)) in the order
// of the AVX-512 kernel with depth blocks of `block`: for each batch, for each block in order,
// c = c + (fma chain over the block from zero).
template <typename X, typename Y>
void kernel_order(float* c, std::int64_t m, std::int64_t n, std::int64_t depth,
                  std::int64_t batches, std::int64_t block, X x, Y y) {
    for (std::int64_t i = 0; i < m; ++i)
        for (std::int64_t j = 0; j < n; ++j) {
            float cij = c[i * n + j];
            for (std::int64_t s = 0; s < batches; ++s)
                for (std::int64_t p0 = 0; p0 < depth; p0 += block) {
                    float acc = 0.0f;
                    for (std::int64_t p = p0; p < depth && p < p0 + block; ++p)
                        acc = std::fma(x(s, i, p), y(s, p, j), acc);
                    cij = cij + acc;
                }
            c[i * n + j] = cij;
        }
}

// matmul_forward as the kernel orders it, with depth blocks of `block`.
TensorF expected_matmul(const TensorF& a, const TensorF& b, const MatmulDims& d,
                        std::int64_t block) {
    TensorF out({d.batch, d.m, d.n});
    const std::int64_t b_stride = d.shared_b ? 0 : d.k * d.n;
    for (std::int64_t s = 0; s < d.batch; ++s) {
        const float* as = a.data() + s * d.m * d.k;
        const float* bs = b.data() + s * b_stride;
        kernel_order(
            out.data() + s * d.m * d.n, d.m, d.n, d.k, 1, block,
            [&](std::int64_t, std::int64_t i, std::int64_t p) {
                return d.trans_a ? as[p * d.m + i] : as[i * d.k + p];
            },
            [&](std::int64_t, std::int64_t p, std::int64_t j) {
                return d.trans_b ? bs[j * d.k + p] : bs[p * d.n + j];
            });
    }
    return out;
}

struct Sizes {
    std::int64_t batch, m, n, k;
};

} // namespace

TEST_SUITE("ops") {
    TEST_CASE("the AVX-512 path's own kernel") {
        if (!cpu_supports(Isa::avx512)) {
            MESSAGE("skipped: this CPU has no AVX-512");
            return;
        }
        const IsaGuard guard(Isa::avx512);
        Rng rng(29);
        constexpr std::int64_t kc = matmul_avx512_kc;
        // Edge rows (not multiples of 12), columns (of 32, of 16), depths (0, 1, past one and
        // two blocks), 1 x 1, and shapes cut into several tiles: of rows (301 x 77), of columns
        // (100 x 600: op(a) packed once for all of them) and of both (130 x 130).
        const std::vector<Sizes> sizes{{1, 1, 1, 1},         {2, 13, 47, 3},
                                       {1, 25, 33, 0},       {2, 12, 32, kc},
                                       {1, 7, 5, kc + 1},    {2, 29, 70, 2 * kc + 5},
                                       {1, 301, 77, 133},    {1, 100, 600, 2 * kc + 7},
                                       {1, 130, 130, kc + 3}};

        SUBCASE("forward matches reference") {
            for (const Sizes& z : sizes)
                for (const bool ta : {false, true})
                    for (const bool tb : {false, true}) {
                        CAPTURE(z.batch);
                        CAPTURE(z.m);
                        CAPTURE(z.n);
                        CAPTURE(z.k);
                        CAPTURE(ta);
                        CAPTURE(tb);
                        const Shape sa{z.batch, ta ? z.k : z.m, ta ? z.m : z.k};
                        const Shape sb{z.batch, tb ? z.n : z.k, tb ? z.k : z.n};
                        const MatmulDims d = matmul_dims(sa, sb, ta, tb);
                        const TensorF a = random_tensor<float>(sa, rng);
                        const TensorF b = random_tensor<float>(sb, rng);
                        TensorF got({z.batch, z.m, z.n});
                        matmul_forward(a.data(), b.data(), got.data(), d);
                        CHECK(bitwise_equal(got, expected_matmul(a, b, d, kc)));
                    }
        }
        SUBCASE("the blocks are the kernel's, not another GEMM's") {
            // A deep product rounds differently with other depth blocks (one chain, or Eigen's
            // blocks): so the equality above holds only if the kernel computed it.
            const MatmulDims d =
                matmul_dims(Shape{1, 40, 3 * kc}, Shape{1, 3 * kc, 40}, false, false);
            const TensorF a = random_tensor<float>({1, 40, 3 * kc}, rng);
            const TensorF b = random_tensor<float>({1, 3 * kc, 40}, rng);
            TensorF got({1, 40, 40});
            matmul_forward(a.data(), b.data(), got.data(), d);
            CHECK(bitwise_equal(got, expected_matmul(a, b, d, kc)));
            CHECK_FALSE(bitwise_equal(got, expected_matmul(a, b, d, 3 * kc)));
            CHECK_FALSE(bitwise_equal(got, expected_matmul(a, b, d, kc - 24)));
        }
        SUBCASE("linear: bias, gradients added in, batch sums") {
            // A narrow weight, and one whose gradient is cut into column tiles (out < in).
            const std::int64_t rows = 2 * kc + 37;
            // Plain variables, not a structured binding: clang 14 cannot capture those in lambdas.
            for (const std::pair<std::int64_t, std::int64_t>& in_out :
                 {std::pair<std::int64_t, std::int64_t>{45, 19},
                  std::pair<std::int64_t, std::int64_t>{600, 100}}) {
                const std::int64_t in = in_out.first, out = in_out.second;
                CAPTURE(in);
                const TensorF x = random_tensor<float>({rows, in}, rng);
                const TensorF w = random_tensor<float>({out, in}, rng);
                const TensorF bias = random_tensor<float>({out}, rng);
                const TensorF dout = random_tensor<float>({rows, out}, rng);
                TensorF y({rows, out});
                linear_forward(x.data(), w.data(), bias.data(), y.data(), rows, in, out);
                TensorF want_y({rows, out});
                for (std::int64_t r = 0; r < rows; ++r)
                    for (std::int64_t o = 0; o < out; ++o)
                        want_y[r * out + o] = bias[o];
                kernel_order(
                    want_y.data(), rows, out, in, 1, kc,
                    [&](std::int64_t, std::int64_t r, std::int64_t i) { return x[r * in + i]; },
                    [&](std::int64_t, std::int64_t i, std::int64_t o) { return w[o * in + i]; });
                CHECK(bitwise_equal(y, want_y));

                // Gradients start nonzero: the products are added to them. The bias gradient,
                // taken with dw's product, is each column of dout summed over the rows in order.
                TensorF dx = random_tensor<float>({rows, in}, rng);
                TensorF dw = random_tensor<float>({out, in}, rng);
                TensorF db = random_tensor<float>({out}, rng);
                TensorF want_dx = dx, want_dw = dw, want_db = db;
                linear_backward(x.data(), w.data(), dout.data(), dx.data(), dw.data(), db.data(),
                                rows, in, out);
                for (std::int64_t o = 0; o < out; ++o) {
                    float sum = 0.0f;
                    for (std::int64_t r = 0; r < rows; ++r)
                        sum += dout[r * out + o];
                    want_db[o] += sum;
                }
                CHECK(bitwise_equal(db, want_db));
                kernel_order(
                    want_dx.data(), rows, in, out, 1, kc,
                    [&](std::int64_t, std::int64_t r, std::int64_t o) { return dout[r * out + o]; },
                    [&](std::int64_t, std::int64_t o, std::int64_t i) { return w[o * in + i]; });
                kernel_order(
                    want_dw.data(), out, in, rows, 1, kc,
                    [&](std::int64_t, std::int64_t o, std::int64_t r) { return dout[r * out + o]; },
                    [&](std::int64_t, std::int64_t r, std::int64_t i) { return x[r * in + i]; });
                CHECK(bitwise_equal(dx, want_dx));
                CHECK(bitwise_equal(dw, want_dw));
            }

            // A shared b under a transposed a: db sums the batches, one after the other.
            const std::int64_t B = 3, M = kc + 9, K = 21, N = 34;
            const MatmulDims d = matmul_dims(Shape{B, K, M}, Shape{K, N}, true, false);
            const TensorF a = random_tensor<float>({B, K, M}, rng);
            const TensorF b = random_tensor<float>({K, N}, rng);
            const TensorF g = random_tensor<float>({B, d.m, d.n}, rng);
            TensorF db = random_tensor<float>({K, N}, rng);
            TensorF want_db = db;
            matmul_backward(a.data(), b.data(), g.data(), nullptr, db.data(), d);
            // db (K, N) += sum_s op(a_s)^T (K, m) . g_s (m, N), op(a_s) = a_s^T, a_s stored (K, m).
            kernel_order(
                want_db.data(), d.k, d.n, d.m, B, kc,
                [&](std::int64_t s, std::int64_t kk, std::int64_t i) {
                    return a[s * d.m * d.k + kk * d.m + i];
                },
                [&](std::int64_t s, std::int64_t i, std::int64_t j) {
                    return g[(s * d.m + i) * d.n + j];
                });
            CHECK(bitwise_equal(db, want_db));
        }
        SUBCASE("tiles cut for teams of 5 to 16 (matmul_kernel_tile_size): the same bits") {
            // Teams larger than the tiles of matmul_tile_size get smaller tiles, cut at multiples
            // of 12 rows and 32 columns (a 128 x 128 weight gradient for 16 threads: 4 x 4 tiles
            // of 36 x 32); the results must not change, nor the bias gradient taken with them.
            // Under AddressSanitizer teams stop at largest_team (4): 3 threads get such tiles too.
            const std::vector<int> teams =
                largest_team > 4 ? std::vector<int>{5, 12, 16} : std::vector<int>{3};
            const int widest = largest_team > 4 ? 16 : 3;
            const std::int64_t rows = kc + 37, in = 128;
            for (const std::int64_t out : {std::int64_t(128), std::int64_t(384)}) {
                CAPTURE(out);
                const TensorF x = random_tensor<float>({rows, in}, rng);
                const TensorF w = random_tensor<float>({out, in}, rng);
                const TensorF dout = random_tensor<float>({rows, out}, rng);
                TensorF want_dw({out, in});
                kernel_order(
                    want_dw.data(), out, in, rows, 1, kc,
                    [&](std::int64_t, std::int64_t o, std::int64_t r) { return dout[r * out + o]; },
                    [&](std::int64_t, std::int64_t r, std::int64_t i) { return x[r * in + i]; });
                TensorF want_db({out});
                for (std::int64_t o = 0; o < out; ++o)
                    for (std::int64_t r = 0; r < rows; ++r)
                        want_db[o] += dout[r * out + o];
                for (const int team : teams) {
                    CAPTURE(team);
                    const ThreadCountGuard threads(team);
                    TensorF dw({out, in}), db({out});
                    linear_backward(x.data(), w.data(), dout.data(), nullptr, dw.data(), db.data(),
                                    rows, in, out);
                    CHECK(bitwise_equal(dw, want_dw));
                    CHECK(bitwise_equal(db, want_db));
                }
            }
            // Three products of 100 x 50 (6 tiles of Eigen's size) for the widest team.
            const MatmulDims d = matmul_dims(Shape{3, 100, 70}, Shape{3, 70, 50}, false, false);
            const TensorF a = random_tensor<float>({3, 100, 70}, rng);
            const TensorF b = random_tensor<float>({3, 70, 50}, rng);
            const ThreadCountGuard threads(widest);
            TensorF got({3, 100, 50});
            matmul_forward(a.data(), b.data(), got.data(), d);
            CHECK(bitwise_equal(got, expected_matmul(a, b, d, kc)));
        }
        SUBCASE("bit-identical for any thread count") {
            // largest_team (8 outside the sanitizer build): more tiles than the 4 of smaller teams,
            // on this path.
            for (const Sizes& z : {Sizes{2, 301, 77, 2 * kc + 5}, Sizes{1, 100, 600, 2 * kc + 7},
                                   Sizes{1, 130, 130, kc + 3}})
                for (const bool ta : {false, true})
                    for (const bool tb : {false, true}) {
                        const Shape sa{z.batch, ta ? z.k : z.m, ta ? z.m : z.k};
                        const Shape sb{z.batch, tb ? z.n : z.k, tb ? z.k : z.n};
                        const MatmulDims d = matmul_dims(sa, sb, ta, tb);
                        const TensorF a = random_tensor<float>(sa, rng);
                        const TensorF b = random_tensor<float>(sb, rng);
                        const TensorF g = random_tensor<float>({z.batch, z.m, z.n}, rng);
                        auto run = [&] {
                            TensorF out({z.batch, z.m, z.n}), da(sa), db(sb);
                            matmul_forward(a.data(), b.data(), out.data(), d);
                            matmul_backward(a.data(), b.data(), g.data(), da.data(), db.data(), d);
                            return std::vector<TensorF>{out, da, db};
                        };
                        check_same_bits_for_teams(run);
                    }
            // linear's three gradients, the weight's cut into column tiles.
            const std::int64_t rows = 2 * kc + 37, in = 600, out = 100;
            const TensorF x = random_tensor<float>({rows, in}, rng);
            const TensorF w = random_tensor<float>({out, in}, rng);
            const TensorF dout = random_tensor<float>({rows, out}, rng);
            auto run = [&] {
                TensorF dx({rows, in}), dw({out, in}), db({out});
                linear_backward(x.data(), w.data(), dout.data(), dx.data(), dw.data(), db.data(),
                                rows, in, out);
                return std::vector<TensorF>{dx, dw, db};
            };
            check_same_bits_for_teams(run);
        }
    }
}
