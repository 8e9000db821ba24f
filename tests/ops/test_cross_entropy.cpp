#include "test_util.hpp"

#include <ouro/autograd/backward.hpp>
#include <ouro/autograd/gradcheck.hpp>
#include <ouro/core/parallel.hpp>
#include <ouro/ops/cross_entropy.hpp>
#include <ouro/ops/elementwise.hpp>
#include <ouro/ops/softmax.hpp>

#include <doctest/doctest.h>

#include <cmath>

using namespace ouro;
using namespace ouro::ops;
using ouro::testing::random_tensor;

namespace {

// Targets uniform in [0, V), with every `ignore_every`-th one set to ignore_index.
TensorI random_targets(const Shape& shape, std::int64_t V, Rng& rng, int ignore_every = 0,
                       int ignore_index = -1) {
    TensorI t(shape);
    for (std::int64_t i = 0; i < t.numel(); ++i)
        t[i] = ignore_every > 0 && i % ignore_every == 0
                   ? ignore_index
                   : std::int32_t(rng.below(std::uint64_t(V)));
    return t;
}

} // namespace

TEST_SUITE("ops") {
    TEST_CASE("cross_entropy") {
        Rng rng(5);

        SUBCASE("forward matches reference") {
            for (std::int64_t V : {1, 37, 300}) {
                INFO("V " << V);
                const TensorF logits = random_tensor<float>({3, 5, V}, rng, -4.0, 4.0);
                const TensorI targets = random_targets({3, 5}, V, rng, 4);
                TensorF expected_rows({3, 5});
                const float expected = cross_entropy_reference(logits.data(), targets.data(),
                                                               expected_rows.data(), 15, V, -1);
                const VarF loss = cross_entropy(VarF(logits), targets);
                CHECK(loss.shape() == Shape{});
                CHECK(loss.item() == doctest::Approx(expected).epsilon(1e-6));
                ouro::testing::check_close(cross_entropy_per_row(logits, targets), expected_rows,
                                           2e-6, 1e-6);
                const TensorD ld = logits.cast<double>();
                TensorD expected_d({3, 5});
                const double ed = cross_entropy_reference(ld.data(), targets.data(),
                                                          expected_d.data(), 15, V, -1);
                CHECK(cross_entropy(VarD(ld), targets).item() ==
                      doctest::Approx(ed).epsilon(1e-14));
                ouro::testing::check_close(cross_entropy_per_row(ld, targets), expected_d, 1e-14,
                                           1e-13);
            }
            // Large logits do not overflow: the row maximum is subtracted first.
            const VarF big(TensorF({1, 2}, {1000.0f, 1000.0f + std::log(3.0f)}));
            CHECK(cross_entropy(big, TensorI({1}, {1})).item() ==
                  doctest::Approx(std::log(4.0 / 3.0)).epsilon(1e-4));
        }
        SUBCASE("a row's loss is its negated log_softmax, bit for bit") {
            // One log-sum-exp rule (lib/numerics/rows.hpp) for both ops, float and double.
            for (std::int64_t V : {1, 17, 4099}) {
                INFO("V " << V);
                const TensorF logits = random_tensor<float>({4, V}, rng, -9.0, 9.0);
                const TensorI targets = random_targets({4}, V, rng);
                const TensorF rows = cross_entropy_per_row(logits, targets);
                const TensorF logp = log_softmax(VarF(logits)).value();
                const TensorD rows_d = cross_entropy_per_row(logits.cast<double>(), targets);
                const TensorD logp_d = log_softmax(VarD(logits.cast<double>())).value();
                for (std::int64_t i = 0; i < 4; ++i) {
                    CHECK(rows[i] == -logp[i * V + targets[i]]);
                    CHECK(rows_d[i] == -logp_d[i * V + targets[i]]);
                }
            }
        }
        SUBCASE("a case worked by hand") {
            // Row 0: softmax(0, ln 3) = (1/4, 3/4), target 1: loss ln(4/3), gradient
            // (1/4, 3/4 - 1). Row 1 is ignored: no loss, no gradient. The mean is over one row.
            VarD logits(TensorD({2, 2}, {0.0, std::log(3.0), 5.0, 1.0}), true);
            const VarD loss = cross_entropy(logits, TensorI({2}, {1, -1}));
            CHECK(loss.item() == doctest::Approx(std::log(4.0 / 3.0)).epsilon(1e-15));
            backward(loss);
            const TensorD& g = logits.grad();
            CHECK(g[0] == doctest::Approx(0.25).epsilon(1e-15));
            CHECK(g[1] == doctest::Approx(-0.25).epsilon(1e-15));
            CHECK(g[2] == 0.0);
            CHECK(g[3] == 0.0);
        }
        SUBCASE("ignore_index") {
            const TensorF logits = random_tensor<float>({6, 10}, rng);
            // A custom ignore_index (0, a real class) drops exactly the rows that name it.
            const TensorI targets({6}, {0, 3, 0, 9, 0, 4});
            const TensorI kept({3}, {3, 9, 4});
            TensorF kept_logits({3, 10});
            for (int r = 0; r < 3; ++r)
                for (int j = 0; j < 10; ++j)
                    kept_logits[r * 10 + j] = logits[(2 * r + 1) * 10 + j];
            CHECK(cross_entropy(VarF(logits), targets, 0).item() ==
                  cross_entropy(VarF(kept_logits), kept).item());
            const TensorF rows = cross_entropy_per_row(logits, targets, 0);
            CHECK(rows[0] == 0.0f);
            CHECK(rows[2] == 0.0f);
            CHECK(rows[4] == 0.0f);
            CHECK(rows[1] > 0.0f);
            // Every target ignored: loss 0 and gradient 0 (PyTorch gives NaN).
            VarF x(logits, true);
            const VarF loss = cross_entropy(x, TensorI({6}, std::vector<std::int32_t>(6, -1)));
            CHECK(loss.item() == 0.0f);
            backward(loss);
            CHECK(ouro::testing::bitwise_equal(x.grad(), TensorF({6, 10})));
        }
        SUBCASE("gradient matches finite differences") {
            const TensorI targets = random_targets({3, 4}, 6, rng, 5);
            const auto r = gradcheck(
                [&targets](const std::vector<VarD>& x) {
                    return cross_entropy(x[0], targets) * 3.0; // an upstream gradient of 3
                },
                {random_tensor<double>({3, 4, 6}, rng, -3.0, 3.0)}, {.atol = 1e-9, .rtol = 1e-6});
            CHECK_MESSAGE(r.ok, r.message);
        }
        SUBCASE("bit-identical with 1 and 2 threads") {
            const TensorF logits = random_tensor<float>({200, 300}, rng, -5.0, 5.0);
            const TensorI targets = random_targets({200}, 300, rng, 7);
            float loss[2];
            TensorF grad[2], rows[2];
            for (int threads : {1, 2}) {
                ThreadCountGuard guard(threads);
                VarF x(logits, true);
                const VarF l = cross_entropy(x, targets);
                backward(l);
                loss[threads - 1] = l.item();
                grad[threads - 1] = x.grad();
                rows[threads - 1] = cross_entropy_per_row(logits, targets);
            }
            CHECK(std::memcmp(&loss[0], &loss[1], sizeof(float)) == 0);
            CHECK(ouro::testing::bitwise_equal(grad[0], grad[1]));
            CHECK(ouro::testing::bitwise_equal(rows[0], rows[1]));
        }
        SUBCASE("rejects bad targets and shapes") {
            TensorI targets({2, 3}, {1, 2, 3, 70, 5, -1});
            const VarF logits(TensorF({2, 3, 64}));
            CHECK_THROWS_WITH_AS(cross_entropy(logits, targets),
                                 "cross_entropy: target 70 at row 3 is outside [0, 64)",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(cross_entropy_per_row(logits.value(), targets),
                                 "cross_entropy_per_row: target 70 at row 3 is outside [0, 64)",
                                 ConfigError);
            targets[3] = 7;
            // -1 is only ignored when it is the ignore_index.
            CHECK_THROWS_WITH_AS(cross_entropy(logits, targets, 5),
                                 "cross_entropy: target -1 at row 5 is outside [0, 64)",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(cross_entropy(logits, TensorI({2, 4})),
                                 "cross_entropy: targets must be the leading shape of logits: "
                                 "logits are (2, 3, 64), targets are (2, 4)",
                                 ShapeError);
            CHECK_THROWS_WITH_AS(cross_entropy(logits, TensorI({2, 3, 64})),
                                 "cross_entropy: targets must be the leading shape of logits: "
                                 "logits are (2, 3, 64), targets are (2, 3, 64)",
                                 ShapeError);
            CHECK_THROWS_WITH_AS(cross_entropy(VarF(TensorF(Shape{}, 1.0f)), TensorI(Shape{})),
                                 "cross_entropy: logits must be (..., V), got ()", ShapeError);
            CHECK_THROWS_WITH_AS(cross_entropy_per_row(logits.value(), TensorI({3})),
                                 "cross_entropy_per_row: targets must be the leading shape of "
                                 "logits: logits are (2, 3, 64), targets are (3)",
                                 ShapeError);
        }
    }
}
