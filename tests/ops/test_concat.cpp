#include "test_util.hpp"

#include <ouro/autograd/backward.hpp>
#include <ouro/autograd/gradcheck.hpp>
#include <ouro/core/parallel.hpp>
#include <ouro/ops/concat.hpp>
#include <ouro/ops/elementwise.hpp>

#include <doctest/doctest.h>

#include <vector>

using namespace ouro;
using namespace ouro::ops;
using ouro::testing::bitwise_equal;
using ouro::testing::random_tensor;

TEST_SUITE("ops") {
    TEST_CASE("concat") {
        Rng rng(13);

        SUBCASE("reference gives the textbook result") {
            const TensorF a({2, 2}, {1, 2, 3, 4}), b({2, 1}, {5, 6});
            TensorF out({2, 3});
            concat_reference<float>({a.data(), b.data()}, {a.shape(), b.shape()}, 1, out.data());
            CHECK(bitwise_equal(out, TensorF({2, 3}, {1, 2, 5, 3, 4, 6})));
            TensorF rows({4, 2});
            concat_reference<float>({a.data(), a.data()}, {a.shape(), a.shape()}, 0, rows.data());
            CHECK(bitwise_equal(rows, TensorF({4, 2}, {1, 2, 3, 4, 1, 2, 3, 4})));
        }
        SUBCASE("forward matches reference along every dimension") {
            // The last case has 2 x 40,000-element rows: long rows are cut into chunks.
            const Shape base[] = {Shape{3, 4, 5}, Shape{2, 200, 100}, Shape{2, 40000}};
            for (const Shape& s : base)
                for (int d = 0; d < s.rank(); ++d) {
                    INFO(s.to_string() << " along " << d);
                    std::vector<TensorF> ts;
                    for (std::int64_t n : {s[d], std::int64_t(1), std::int64_t(0), s[d] + 2})
                        ts.push_back(random_tensor<float>(s.with_dim(d, n), rng));
                    std::vector<VarF> vs;
                    std::vector<const float*> ptrs;
                    std::vector<Shape> shapes;
                    for (const TensorF& t : ts) {
                        vs.emplace_back(t);
                        ptrs.push_back(t.data());
                        shapes.push_back(t.shape());
                    }
                    const VarF out = concat(vs, d);
                    CHECK(out.shape() == s.with_dim(d, 2 * s[d] + 3));
                    TensorF expected(out.shape());
                    concat_reference(ptrs, shapes, d, expected.data());
                    CHECK(bitwise_equal(out.value(), expected));
                    CHECK(bitwise_equal(concat(vs, d - s.rank()).value(), expected));
                }
        }
        SUBCASE("backward adds each input's slice") {
            const TensorF a = random_tensor<float>({3, 2, 4}, rng);
            const TensorF b = random_tensor<float>({3, 5, 4}, rng);
            const TensorF dout = random_tensor<float>({3, 7, 4}, rng);
            TensorF da(a.shape(), 1.0f), db(b.shape(), 2.0f);
            concat_backward<float>(dout.data(), {a.shape(), b.shape()}, 1, {da.data(), db.data()});
            for (std::int64_t i = 0; i < 3; ++i)
                for (std::int64_t j = 0; j < 7; ++j)
                    for (std::int64_t k = 0; k < 4; ++k) {
                        const float g = dout.at({i, j, k});
                        if (j < 2)
                            CHECK(da.at({i, j, k}) == 1.0f + g);
                        else
                            CHECK(db.at({i, j - 2, k}) == 2.0f + g);
                    }
            // A null gradient (an input that needs none) is skipped.
            concat_backward<float>(dout.data(), {a.shape(), b.shape()}, 1, {nullptr, db.data()});
            CHECK(db.at({0, 0, 0}) == 2.0f + 2.0f * dout.at({0, 2, 0}));
        }
        SUBCASE("gradient matches finite differences") {
            const std::vector<TensorD> xs = {random_tensor<double>({2, 3, 2}, rng),
                                             random_tensor<double>({2, 1, 2}, rng),
                                             random_tensor<double>({2, 2, 2}, rng)};
            const auto r = gradcheck([](const std::vector<VarD>& v) { return concat(v, 1); }, xs,
                                     {.atol = 1e-9, .rtol = 1e-7});
            CHECK_MESSAGE(r.ok, r.message);
            const auto r0 = gradcheck(
                [](const std::vector<VarD>& v) { return concat(v, -3); },
                {random_tensor<double>({1, 2, 3}, rng), random_tensor<double>({2, 2, 3}, rng)},
                {.atol = 1e-9, .rtol = 1e-7});
            CHECK_MESSAGE(r0.ok, r0.message);
        }
        SUBCASE("rejects bad shapes") {
            CHECK_THROWS_WITH_AS(concat(std::vector<VarF>{}, 0),
                                 "concat: no tensors to concatenate", ShapeError);
            const VarF a(TensorF({2, 3})), b(TensorF({4, 3})), c(TensorF({2, 3, 1}));
            CHECK_THROWS_WITH_AS(
                concat({a, b}, 1),
                "concat: shapes differ outside dimension 1: xs[0] is (2, 3), xs[1] is (4, 3)",
                ShapeError);
            CHECK_THROWS_WITH_AS(
                concat({a, a, b}, -1),
                "concat: shapes differ outside dimension 1: xs[0] is (2, 3), xs[2] is (4, 3)",
                ShapeError);
            CHECK_THROWS_WITH_AS(concat({a, c}, 0),
                                 "concat: ranks differ: xs[0] is (2, 3), xs[1] is (2, 3, 1)",
                                 ShapeError);
            CHECK_THROWS_WITH_AS(concat({a, a}, 2), "concat: dimension 2 out of range for (2, 3)",
                                 ShapeError);
            CHECK_THROWS_WITH_AS(concat({VarF(TensorF(Shape{}))}, 0),
                                 "concat: dimension 0 out of range for ()", ShapeError);
        }
        SUBCASE("bit-identical with 1 and 2 threads") {
            const std::vector<TensorF> ts = {random_tensor<float>({8, 64, 128}, rng),
                                             random_tensor<float>({8, 64, 256}, rng)};
            const TensorF seed = random_tensor<float>({8, 64, 384}, rng);
            ouro::testing::check_same_bits_at_1_and_2_threads([&] {
                const std::vector<VarF> vs = {VarF(ts[0], true), VarF(ts[1], true)};
                const VarF y = concat(vs, 2);
                backward(y, seed);
                return std::vector<TensorF>{y.value(), vs[0].grad(), vs[1].grad()};
            });
        }
    }

    TEST_CASE("split") {
        Rng rng(14);

        SUBCASE("reference gives the textbook result") {
            const TensorF x({2, 3}, {1, 2, 3, 4, 5, 6});
            TensorF a({2, 1}), b({2, 2});
            split_reference<float>(x.data(), x.shape(), {1, 2}, 1, {a.data(), b.data()});
            CHECK(bitwise_equal(a, TensorF({2, 1}, {1, 4})));
            CHECK(bitwise_equal(b, TensorF({2, 2}, {2, 3, 5, 6})));
        }
        SUBCASE("forward matches reference") {
            // q, k, v from (B, T, 3C), then uneven pieces (one empty) along every dimension.
            const std::int64_t B = 4, T = 64, C = 96;
            const TensorF qkv = random_tensor<float>({B, T, 3 * C}, rng);
            const std::vector<VarF> parts = split(VarF(qkv), {C, C, C}, 2);
            REQUIRE(parts.size() == 3);
            for (std::size_t k = 0; k < 3; ++k) {
                CHECK(parts[k].shape() == Shape{B, T, C});
                CHECK(parts[k].value().at({3, 17, 5}) == qkv.at({3, 17, std::int64_t(k) * C + 5}));
            }
            const Shape s{6, 5, 7};
            const TensorF x = random_tensor<float>(s, rng);
            for (int d = 0; d < 3; ++d) {
                INFO("along " << d);
                const std::vector<std::int64_t> sizes = {2, 0, s[d] - 3, 1};
                const std::vector<VarF> pieces = split(VarF(x), sizes, d);
                std::vector<TensorF> expected;
                std::vector<float*> ptrs;
                for (std::int64_t n : sizes)
                    expected.emplace_back(s.with_dim(d, n));
                for (TensorF& e : expected)
                    ptrs.push_back(e.data());
                split_reference(x.data(), s, sizes, d, ptrs);
                REQUIRE(pieces.size() == sizes.size());
                for (std::size_t k = 0; k < sizes.size(); ++k)
                    CHECK(bitwise_equal(pieces[k].value(), expected[k]));
            }
        }
        SUBCASE("split then concat gives the input, and concat then split the inputs") {
            const TensorF x = random_tensor<float>({3, 50, 120}, rng);
            for (int d : {0, 1, 2, -1}) {
                const std::int64_t n = x.shape()[d];
                const auto pieces = split(VarF(x), {n / 3, n - n / 3}, d);
                CHECK(bitwise_equal(concat(pieces, d).value(), x));
            }
            const std::vector<VarF> xs = {VarF(random_tensor<float>({4, 3, 5}, rng)),
                                          VarF(random_tensor<float>({4, 9, 5}, rng))};
            const auto back = split(concat(xs, 1), {3, 9}, 1);
            CHECK(bitwise_equal(back[0].value(), xs[0].value()));
            CHECK(bitwise_equal(back[1].value(), xs[1].value()));
        }
        SUBCASE("backward adds into the piece's slice only") {
            const Shape s{3, 6, 2};
            const TensorF dpiece = random_tensor<float>({3, 2, 2}, rng);
            TensorF dx(s, 1.0f);
            split_backward(dpiece.data(), s, 1, 3, 2, dx.data());
            for (std::int64_t i = 0; i < 3; ++i)
                for (std::int64_t j = 0; j < 6; ++j)
                    for (std::int64_t k = 0; k < 2; ++k)
                        CHECK(dx.at({i, j, k}) ==
                              (j >= 3 && j < 5 ? 1.0f + dpiece.at({i, j - 3, k}) : 1.0f));
        }
        SUBCASE("gradient matches finite differences") {
            const TensorD x = random_tensor<double>({2, 6, 2}, rng);
            // Pieces recombined in another order and multiplied, so each slice's gradient is
            // distinct; a piece left out of the graph gets no gradient.
            const auto r = gradcheck(
                [](const std::vector<VarD>& v) {
                    const auto p = split(v[0], {2, 1, 3}, 1);
                    return concat({p[2], p[0]}, 1) * concat({p[1], p[2], p[1]}, 1);
                },
                {x}, {.atol = 1e-8, .rtol = 1e-6});
            CHECK_MESSAGE(r.ok, r.message);
            const auto r1 = gradcheck(
                [](const std::vector<VarD>& v) {
                    return split(v[0], {1, 1}, 0)[1];
                },
                {x}, {.atol = 1e-9, .rtol = 1e-7});
            CHECK_MESSAGE(r1.ok, r1.message);
        }
        SUBCASE("rejects bad shapes") {
            const VarF x(TensorF({2, 6}));
            CHECK_THROWS_WITH_AS(split(x, {2, 3}, 1),
                                 "split: sizes add up to 5, dimension 1 of (2, 6) is 6",
                                 ShapeError);
            CHECK_THROWS_WITH_AS(split(x, {3, 3, 1}, -1),
                                 "split: sizes add up to 7, dimension 1 of (2, 6) is 6",
                                 ShapeError);
            CHECK_THROWS_WITH_AS(split(x, {}, 0),
                                 "split: sizes add up to 0, dimension 0 of (2, 6) is 2",
                                 ShapeError);
            CHECK_THROWS_WITH_AS(split(x, {7, -1}, 1), "split: negative size -1", ShapeError);
            CHECK_THROWS_WITH_AS(split(x, {6}, 2), "split: dimension 2 out of range for (2, 6)",
                                 ShapeError);
        }
        SUBCASE("bit-identical with 1 and 2 threads") {
            const std::int64_t B = 4, T = 64, C = 128;
            const TensorF qkv = random_tensor<float>({B, T, 3 * C}, rng);
            const TensorF seed = random_tensor<float>({B, T, C}, rng);
            ouro::testing::check_same_bits_at_1_and_2_threads([&] {
                VarF v(qkv, true);
                const auto p = split(v, {C, C, C}, 2);
                std::vector<TensorF> results = {p[0].value(), p[1].value(), p[2].value()};
                // q * k + v: every piece's backward runs and adds into its slice.
                backward(p[0] * p[1] + p[2], seed);
                results.push_back(v.grad());
                return results;
            });
        }
    }
}
