#include "test_util.hpp"

#include <ouro/autograd/backward.hpp>
#include <ouro/autograd/gradcheck.hpp>
#include <ouro/core/parallel.hpp>
#include <ouro/ops/matmul.hpp>

#include <doctest/doctest.h>

#include <array>
#include <string>
#include <vector>

using namespace ouro;
using namespace ouro::ops;
using ouro::testing::bitwise_equal;
using ouro::testing::check_close;
using ouro::testing::random_tensor;

namespace {

// One matmul configuration: leading (batch) dimensions of a, sizes, transposes, and whether b is
// a shared 2-D matrix.
struct Case {
    Shape lead;
    std::int64_t m, k, n;
    bool trans_a, trans_b, shared_b;

    Shape a_shape() const { return lead.appended(trans_a ? k : m).appended(trans_a ? m : k); }
    Shape b_shape() const {
        return (shared_b ? Shape{} : lead).appended(trans_b ? n : k).appended(trans_b ? k : n);
    }
    std::string name() const {
        return "a " + a_shape().to_string() + (trans_a ? "^T" : "") + ", b " +
               b_shape().to_string() + (trans_b ? "^T" : "");
    }
};

// Every transpose combination for rank-2 operands, a batch of two with its own b, and a batch
// of (2, 3) sharing a 2-D b.
std::vector<Case> all_cases(std::int64_t m, std::int64_t k, std::int64_t n) {
    std::vector<Case> cases;
    for (bool ta : {false, true})
        for (bool tb : {false, true}) {
            cases.push_back({Shape{}, m, k, n, ta, tb, false});
            cases.push_back({Shape{2}, m, k, n, ta, tb, false});
            cases.push_back({Shape{2, 3}, m, k, n, ta, tb, true});
        }
    return cases;
}

// The gradients of matmul by their definition, in double: for every product term
// op(a)[s, i, p] * op(b)[s, p, j], da and db receive dout[s, i, j] times the other factor.
void naive_matmul_grads(const TensorD& a, const TensorD& b, const TensorD& dout, const Case& c,
                        TensorD& da, TensorD& db) {
    const std::int64_t batch = c.lead.numel(), m = c.m, k = c.k, n = c.n;
    for (std::int64_t s = 0; s < batch; ++s)
        for (std::int64_t i = 0; i < m; ++i)
            for (std::int64_t j = 0; j < n; ++j)
                for (std::int64_t p = 0; p < k; ++p) {
                    const std::int64_t ai = s * m * k + (c.trans_a ? p * m + i : i * k + p);
                    const std::int64_t bi =
                        (c.shared_b ? 0 : s * k * n) + (c.trans_b ? j * k + p : p * n + j);
                    const double g = dout[(s * m + i) * n + j];
                    da[ai] += g * b[bi];
                    db[bi] += g * a[ai];
                }
}

} // namespace

TEST_SUITE("ops") {
    TEST_CASE("matmul") {
        Rng rng(7);

        SUBCASE("forward matches reference") {
            // A product small enough to check by hand, in every transposed layout.
            const TensorF a({2, 2}, {1, 2, 3, 4}), at({2, 2}, {1, 3, 2, 4});
            const TensorF b({2, 2}, {5, 6, 7, 8}), bt({2, 2}, {5, 7, 6, 8});
            const TensorF expected({2, 2}, {19, 22, 43, 50});
            CHECK(bitwise_equal(matmul(VarF(a), VarF(b)).value(), expected));
            CHECK(bitwise_equal(matmul(VarF(at), VarF(b), true, false).value(), expected));
            CHECK(bitwise_equal(matmul(VarF(a), VarF(bt), false, true).value(), expected));
            CHECK(bitwise_equal(matmul(VarF(at), VarF(bt), true, true).value(), expected));

            // Sizes that leave partial tiles (300 rows at any tile height), a single-row tile
            // (257 = 256 + 1), and outputs small enough to be split into column tiles.
            for (const auto& [m, k, n] :
                 {std::array<std::int64_t, 3>{300, 70, 130},
                  std::array<std::int64_t, 3>{257, 33, 5}, std::array<std::int64_t, 3>{3, 4, 2}}) {
                for (const Case& c : all_cases(m, k, n)) {
                    INFO(c.name());
                    const TensorD ad = random_tensor<double>(c.a_shape(), rng);
                    const TensorD bd = random_tensor<double>(c.b_shape(), rng);
                    const MatmulDims d =
                        matmul_dims(c.a_shape(), c.b_shape(), c.trans_a, c.trans_b);
                    CHECK(d.shared_b == c.shared_b);
                    const Shape out_shape = c.lead.appended(m).appended(n);
                    TensorD expected_d(out_shape);
                    matmul_reference(ad.data(), bd.data(), expected_d.data(), d);

                    const VarD out_d = matmul(VarD(ad), VarD(bd), c.trans_a, c.trans_b);
                    check_close(out_d.value(), expected_d, 1e-13, 1e-12);
                    const VarF out_f = matmul(VarF(ad.cast<float>()), VarF(bd.cast<float>()),
                                              c.trans_a, c.trans_b);
                    check_close(out_f.value().cast<double>(), expected_d, 1e-5, 1e-5);
                }
            }
        }
        SUBCASE("backward matches the definition over several row blocks") {
            for (const Case& c : all_cases(300, 150, 130)) {
                INFO(c.name());
                const TensorF a = random_tensor<float>(c.a_shape(), rng);
                const TensorF b = random_tensor<float>(c.b_shape(), rng);
                const TensorF seed = random_tensor<float>(c.lead.appended(c.m).appended(c.n), rng);
                VarF x(a, true), y(b, true);
                backward(matmul(x, y, c.trans_a, c.trans_b), seed);
                TensorD da(a.shape()), db(b.shape());
                naive_matmul_grads(a.cast<double>(), b.cast<double>(), seed.cast<double>(), c, da,
                                   db);
                check_close(x.grad().cast<double>(), da, 1e-4, 1e-4);
                check_close(y.grad().cast<double>(), db, 1e-4, 1e-4);
            }
        }
        SUBCASE("backward adds into existing gradients") {
            const TensorF a = random_tensor<float>({4, 3}, rng);
            const TensorF b = random_tensor<float>({3, 5}, rng);
            const TensorF seed = random_tensor<float>({4, 5}, rng);
            VarF x(a, true), y(b, true);
            backward(matmul(x, y), seed);
            const TensorF once = x.grad();
            backward(matmul(x, y), seed);
            TensorF twice = once;
            for (std::int64_t i = 0; i < twice.numel(); ++i)
                twice[i] += once[i];
            CHECK(bitwise_equal(x.grad(), twice));
        }
        SUBCASE("gradient matches finite differences") {
            for (const Case& c : all_cases(3, 4, 2)) {
                INFO(c.name());
                const TensorD a = random_tensor<double>(c.a_shape(), rng);
                const TensorD b = random_tensor<double>(c.b_shape(), rng);
                const auto r = gradcheck(
                    [&c](const std::vector<VarD>& v) {
                        return matmul(v[0], v[1], c.trans_a, c.trans_b);
                    },
                    {a, b}, {.atol = 1e-8, .rtol = 1e-6});
                CHECK_MESSAGE(r.ok, r.message);
            }
        }
        SUBCASE("rejects bad shapes") {
            CHECK_THROWS_WITH_AS(matmul(VarF(TensorF({3})), VarF(TensorF({3, 4}))),
                                 "matmul: operands must have rank >= 2: a is (3), b is (3, 4)",
                                 ShapeError);
            CHECK_THROWS_WITH_AS(matmul(VarF(TensorF({4, 8})), VarF(TensorF({7, 3}))),
                                 "matmul: inner dimensions differ: a is (4, 8), b is (7, 3)",
                                 ShapeError);
            CHECK_THROWS_WITH_AS(
                matmul(VarF(TensorF({8, 4})), VarF(TensorF({7, 3})), true, false),
                "matmul: inner dimensions differ: a is (8, 4) transposed, b is (7, 3)", ShapeError);
            CHECK_THROWS_WITH_AS(
                matmul(VarF(TensorF({2, 4, 8})), VarF(TensorF({8, 3})), false, true),
                "matmul: inner dimensions differ: a is (2, 4, 8), b is (8, 3) transposed",
                ShapeError);
            CHECK_THROWS_WITH_AS(matmul(VarF(TensorF({2, 4, 8})), VarF(TensorF({3, 8, 5}))),
                                 "matmul: batch dimensions differ: a is (2, 4, 8), b is (3, 8, 5)",
                                 ShapeError);
            CHECK_THROWS_WITH_AS(matmul(VarF(TensorF({4, 8})), VarF(TensorF({2, 8, 5}))),
                                 "matmul: batch dimensions differ: a is (4, 8), b is (2, 8, 5)",
                                 ShapeError);
            CHECK_THROWS_WITH_AS(
                matmul(VarF(TensorF({2, 3, 4, 8})), VarF(TensorF({3, 8, 5}))),
                "matmul: batch dimensions differ: a is (2, 3, 4, 8), b is (3, 8, 5)", ShapeError);
        }
        SUBCASE("bit-identical with 1 and 2 threads") {
            // Every output and gradient here is cut into at least four tiles.
            for (const Case& c : all_cases(300, 150, 130)) {
                INFO(c.name());
                const TensorF a = random_tensor<float>(c.a_shape(), rng);
                const TensorF b = random_tensor<float>(c.b_shape(), rng);
                const TensorF seed = random_tensor<float>(c.lead.appended(c.m).appended(c.n), rng);
                TensorF out[2], da[2], db[2];
                for (int threads : {1, 2}) {
                    ThreadCountGuard guard(threads);
                    VarF x(a, true), y(b, true);
                    const VarF z = matmul(x, y, c.trans_a, c.trans_b);
                    out[threads - 1] = z.value();
                    backward(z, seed);
                    da[threads - 1] = x.grad();
                    db[threads - 1] = y.grad();
                }
                CHECK(bitwise_equal(out[0], out[1]));
                CHECK(bitwise_equal(da[0], da[1]));
                CHECK(bitwise_equal(db[0], db[1]));
            }
        }
    }

    TEST_CASE("linear") {
        Rng rng(11);

        SUBCASE("forward matches reference") {
            // x (1, 2), weight (3, 2), bias (3): out = x W^T + b, by hand.
            const VarF x(TensorF({1, 2}, {1, 2}));
            const VarF w(TensorF({3, 2}, {1, 0, 0, 1, 1, 1}));
            const VarF b(TensorF({3}, {0.5f, -1, 2}));
            CHECK(bitwise_equal(linear(x, w, b).value(), TensorF({1, 3}, {1.5f, 1, 5})));
            CHECK(bitwise_equal(linear(x, w, VarF()).value(), TensorF({1, 3}, {1, 2, 3})));

            for (const Shape& xs : {Shape{3, 100, 150}, Shape{7, 40}, Shape{40}}) {
                INFO("x " << xs.to_string());
                const std::int64_t in = xs.back(), out_features = 130;
                const TensorD xd = random_tensor<double>(xs, rng);
                const TensorD wd = random_tensor<double>({out_features, in}, rng);
                const TensorD bd = random_tensor<double>({out_features}, rng);
                const Shape out_shape = xs.with_dim(-1, out_features);
                for (bool with_bias : {true, false}) {
                    TensorD expected(out_shape);
                    linear_reference(xd.data(), wd.data(), with_bias ? bd.data() : nullptr,
                                     expected.data(), xs.rows(), in, out_features);
                    const VarD bias_d = with_bias ? VarD(bd) : VarD();
                    check_close(linear(VarD(xd), VarD(wd), bias_d).value(), expected, 1e-13, 1e-12);
                    const VarF bias_f = with_bias ? VarF(bd.cast<float>()) : VarF();
                    const VarF out_f =
                        linear(VarF(xd.cast<float>()), VarF(wd.cast<float>()), bias_f);
                    check_close(out_f.value().cast<double>(), expected, 1e-5, 1e-5);
                }
                // The kernels take a literal nullptr for "no bias".
                TensorD direct(out_shape), expected(out_shape);
                linear_forward(xd.data(), wd.data(), nullptr, direct.data(), xs.rows(), in,
                               out_features);
                linear_reference(xd.data(), wd.data(), nullptr, expected.data(), xs.rows(), in,
                                 out_features);
                check_close(direct, expected, 1e-13, 1e-12);
                // Without a bias, linear is exactly matmul with a transposed shared weight.
                if (xs.rank() >= 2) {
                    const VarF xf(xd.cast<float>()), wf(wd.cast<float>());
                    CHECK(bitwise_equal(linear(xf, wf, VarF()).value(),
                                        matmul(xf, wf, false, true).value()));
                }
            }
        }
        SUBCASE("backward matches the definition over several blocks") {
            // OUT = 300 gives five tiles of dweight and two column blocks of dbias.
            const std::int64_t rows = 300, in = 150, out_features = 300;
            const TensorF x = random_tensor<float>({3, 100, in}, rng);
            const TensorF w = random_tensor<float>({out_features, in}, rng);
            const TensorF b = random_tensor<float>({out_features}, rng);
            const TensorF seed = random_tensor<float>({3, 100, out_features}, rng);
            VarF vx(x, true), vw(w, true), vb(b, true);
            backward(linear(vx, vw, vb), seed);
            TensorD dx(x.shape()), dw(w.shape()), db(b.shape());
            for (std::int64_t r = 0; r < rows; ++r)
                for (std::int64_t o = 0; o < out_features; ++o) {
                    const double g = seed[r * out_features + o];
                    db[o] += g;
                    for (std::int64_t i = 0; i < in; ++i) {
                        dx[r * in + i] += g * double(w[o * in + i]);
                        dw[o * in + i] += g * double(x[r * in + i]);
                    }
                }
            check_close(vx.grad().cast<double>(), dx, 1e-4, 1e-4);
            check_close(vw.grad().cast<double>(), dw, 1e-4, 1e-4);
            check_close(vb.grad().cast<double>(), db, 1e-4, 1e-4);
        }
        SUBCASE("gradient matches finite differences") {
            for (const Shape& xs : {Shape{2, 3, 4}, Shape{3, 4}, Shape{4}}) {
                INFO("x " << xs.to_string());
                const TensorD x = random_tensor<double>(xs, rng);
                const TensorD w = random_tensor<double>({5, 4}, rng);
                const TensorD b = random_tensor<double>({5}, rng);
                const auto with_bias =
                    gradcheck([](const std::vector<VarD>& v) { return linear(v[0], v[1], v[2]); },
                              {x, w, b}, {.atol = 1e-8, .rtol = 1e-6});
                CHECK_MESSAGE(with_bias.ok, with_bias.message);
                const auto no_bias =
                    gradcheck([](const std::vector<VarD>& v) { return linear(v[0], v[1], VarD()); },
                              {x, w}, {.atol = 1e-8, .rtol = 1e-6});
                CHECK_MESSAGE(no_bias.ok, no_bias.message);
            }
        }
        SUBCASE("rejects bad shapes") {
            const VarF w(TensorF({3, 4}));
            CHECK_THROWS_WITH_AS(linear(VarF(TensorF(Shape{})), w, VarF()),
                                 "linear: input must have rank >= 1: x is ()", ShapeError);
            CHECK_THROWS_WITH_AS(linear(VarF(TensorF({2, 4})), VarF(TensorF({4})), VarF()),
                                 "linear: weight must have rank 2: weight is (4)", ShapeError);
            CHECK_THROWS_WITH_AS(linear(VarF(TensorF({2, 5})), w, VarF()),
                                 "linear: input features differ: x is (2, 5), weight is (3, 4)",
                                 ShapeError);
            CHECK_THROWS_WITH_AS(
                linear(VarF(TensorF({2, 4})), w, VarF(TensorF({4}))),
                "linear: bias does not match weight: bias is (4), weight is (3, 4)", ShapeError);
            CHECK_THROWS_WITH_AS(linear(VarF(TensorF({2, 4})), w, VarF(TensorF({1, 3}))),
                                 "linear: bias does not match weight: bias is (1, 3), weight is "
                                 "(3, 4)",
                                 ShapeError);
        }
        SUBCASE("bit-identical with 1 and 2 threads") {
            const TensorF x = random_tensor<float>({3, 100, 150}, rng);
            const TensorF w = random_tensor<float>({300, 150}, rng);
            const TensorF b = random_tensor<float>({300}, rng);
            const TensorF seed = random_tensor<float>({3, 100, 300}, rng);
            TensorF out[2], dx[2], dw[2], db[2];
            for (int threads : {1, 2}) {
                ThreadCountGuard guard(threads);
                VarF vx(x, true), vw(w, true), vb(b, true);
                const VarF z = linear(vx, vw, vb);
                out[threads - 1] = z.value();
                backward(z, seed);
                dx[threads - 1] = vx.grad();
                dw[threads - 1] = vw.grad();
                db[threads - 1] = vb.grad();
            }
            CHECK(bitwise_equal(out[0], out[1]));
            CHECK(bitwise_equal(dx[0], dx[1]));
            CHECK(bitwise_equal(dw[0], dw[1]));
            CHECK(bitwise_equal(db[0], db[1]));

            // Two rows (as when decoding): the output is split into column tiles.
            const TensorF x2 = random_tensor<float>({2, 150}, rng);
            TensorF out2[2];
            for (int threads : {1, 2}) {
                ThreadCountGuard guard(threads);
                out2[threads - 1] = linear(VarF(x2), VarF(w), VarF(b)).value();
            }
            CHECK(bitwise_equal(out2[0], out2[1]));
            TensorD expected({2, 300});
            const TensorD x2d = x2.cast<double>(), wd = w.cast<double>(), bd = b.cast<double>();
            linear_reference(x2d.data(), wd.data(), bd.data(), expected.data(), 2, 150, 300);
            check_close(out2[0].cast<double>(), expected, 1e-5, 1e-5);
        }
    }
}
