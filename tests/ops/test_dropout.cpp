#include "test_util.hpp"

#include <ouro/autograd/backward.hpp>
#include <ouro/autograd/gradcheck.hpp>
#include <ouro/core/parallel.hpp>
#include <ouro/ops/dropout.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <utility>

using namespace ouro;
using namespace ouro::ops;
using ouro::testing::bitwise_equal;
using ouro::testing::random_tensor;

namespace {

std::int64_t count_zeros(const TensorF& t) {
    std::int64_t zeros = 0;
    for (std::int64_t i = 0; i < t.numel(); ++i)
        zeros += t[i] == 0.0f;
    return zeros;
}

} // namespace

TEST_SUITE("ops") {
    TEST_CASE("dropout") {
        Rng data_rng(15);
        // Inputs away from zero, so that a zero output always means a dropped element. 100,003
        // elements: several parallel blocks and a short last one.
        const TensorF x = random_tensor<float>({100003}, data_rng, 0.5, 1.5);

        SUBCASE("forward matches reference") {
            for (double p : {0.1, 0.5, 0.9}) {
                Rng rng(42);
                const VarF out = dropout(VarF(x), p, rng);
                TensorF expected(x.shape());
                dropout_reference(x.data(), x.numel(), p, Rng(42).next_u64(), expected.data());
                CHECK(bitwise_equal(out.value(), expected));
                // Kept elements are scaled by exactly 1 / (1 - p).
                const float scale = float(1.0 / (1.0 - p));
                for (std::int64_t i : {0, 1, 2, 50000, 100002})
                    CHECK((out.value()[i] == 0.0f || out.value()[i] == x[i] * scale));
            }
        }
        SUBCASE("an element is dropped exactly when stream_uniform(key, i) < p") {
            // p set at and just past element 0's uniform draw u: kept at p = u, dropped above.
            const std::uint64_t key = 0x1234567;
            const double u = double(Rng::stream_uniform(key, 0));
            REQUIRE(u > 0.0);
            for (const auto& pk :
                 {std::pair{u, true}, std::pair{u + 0x1.0p-26, false},
                  std::pair{u + 0x1.0p-24, false}, std::pair{u - 0x1.0p-26, true}}) {
                // Not a structured binding: INFO captures `p`, which clang 14 refuses.
                const double p = pk.first;
                const bool kept = pk.second;
                INFO("p = " << p);
                float out = -1.0f, ref = -1.0f;
                std::uint8_t mask = 2;
                const float one = 1.0f;
                dropout_forward(&one, 1, p, key, &out, &mask);
                dropout_reference(&one, 1, p, key, &ref);
                CHECK(mask == std::uint8_t(kept));
                CHECK((out != 0.0f) == kept);
                CHECK(out == ref);
            }
        }
        SUBCASE("the same seed gives the same mask, and each call draws one key") {
            Rng a(7), b(7);
            const TensorF first = dropout(VarF(x), 0.3, a).value();
            CHECK(bitwise_equal(first, dropout(VarF(x), 0.3, b).value()));
            Rng one_draw(7);
            one_draw.next_u64();
            CHECK(a.state() == one_draw.state());
            // The next call, and another seed, give other masks.
            CHECK_FALSE(bitwise_equal(first, dropout(VarF(x), 0.3, a).value()));
            Rng c(8);
            CHECK_FALSE(bitwise_equal(first, dropout(VarF(x), 0.3, c).value()));
        }
        SUBCASE("the fraction dropped is p") {
            for (double p : {0.05, 0.1, 0.5, 0.9}) {
                Rng rng(123);
                const double dropped =
                    double(count_zeros(dropout(VarF(x), p, rng).value())) / double(x.numel());
                // Five standard deviations of a binomial proportion.
                INFO("p = " << p << ", dropped " << dropped);
                CHECK(std::abs(dropped - p) < 5.0 * std::sqrt(p * (1 - p) / double(x.numel())));
            }
        }
        SUBCASE("p = 0 or evaluation returns the input and draws nothing") {
            const VarF v(x, true);
            Rng rng(9);
            const VarF zero = dropout(v, 0.0, rng);
            const VarF eval = dropout(v, 0.5, rng, /*training=*/false);
            CHECK(zero.node_ptr() == v.node_ptr());
            CHECK(eval.node_ptr() == v.node_ptr());
            CHECK(rng.state() == Rng(9).state());
        }
        SUBCASE("the gradient is the scale through kept elements and 0 elsewhere") {
            const double p = 0.25;
            Rng rng(5);
            VarF v(x, true);
            const VarF y = dropout(v, p, rng);
            const TensorF out = y.value();
            backward(y, TensorF(x.shape(), 1.0f));
            const float scale = float(1.0 / (1.0 - p));
            std::int64_t wrong = 0;
            for (std::int64_t i = 0; i < x.numel(); ++i)
                wrong += v.grad()[i] != (out[i] == 0.0f ? 0.0f : scale);
            CHECK(wrong == 0);
            // dropout_backward adds.
            TensorF dx(Shape{4}, 1.0f);
            const TensorF dout({4}, {1.0f, 2.0f, 3.0f, 4.0f});
            const std::uint8_t mask[4] = {1, 0, 0, 1};
            dropout_backward(dout.data(), mask, 4, 0.5, dx.data());
            CHECK(bitwise_equal(dx, TensorF({4}, {3.0f, 1.0f, 1.0f, 9.0f})));
        }
        SUBCASE("gradient matches finite differences") {
            // The Rng is made inside f, so the analytic and numeric passes share one mask.
            auto f = [](const std::vector<VarD>& v) {
                Rng rng(2024);
                return dropout(v[0], 0.4, rng);
            };
            const TensorD xd = random_tensor<double>({4, 6}, data_rng);
            // The check means something only if the mask both keeps and drops.
            const TensorD out = f({VarD(xd)}).value();
            std::int64_t zeros = 0;
            for (std::int64_t i = 0; i < out.numel(); ++i)
                zeros += out[i] == 0.0;
            CHECK(zeros > 0);
            CHECK(zeros < out.numel());
            const auto r = gradcheck(f, {xd}, {.atol = 1e-9, .rtol = 1e-7});
            CHECK_MESSAGE(r.ok, r.message);
        }
        SUBCASE("rejects bad probabilities") {
            Rng rng(1);
            const VarF v(x);
            CHECK_THROWS_WITH_AS(dropout(v, 1.5, rng),
                                 "dropout: probability must be in [0, 1), got 1.5", ConfigError);
            CHECK_THROWS_WITH_AS(dropout(v, 1.0, rng),
                                 "dropout: probability must be in [0, 1), got 1", ConfigError);
            CHECK_THROWS_WITH_AS(dropout(v, -0.25, rng, /*training=*/false),
                                 "dropout: probability must be in [0, 1), got -0.25", ConfigError);
            CHECK_THROWS_WITH_AS(dropout(v, std::numeric_limits<double>::quiet_NaN(), rng),
                                 "dropout: probability must be in [0, 1), got nan", ConfigError);
            CHECK(rng.state() == Rng(1).state());
        }
        SUBCASE("bit-identical with 1 and 2 threads") {
            const TensorF seed = random_tensor<float>(x.shape(), data_rng);
            TensorF out[2], grad[2];
            for (int threads : {1, 2}) {
                ThreadCountGuard guard(threads);
                Rng rng(77);
                VarF v(x, true);
                const VarF y = dropout(v, 0.2, rng);
                out[threads - 1] = y.value();
                backward(y, seed);
                grad[threads - 1] = v.grad();
            }
            CHECK(bitwise_equal(out[0], out[1]));
            CHECK(bitwise_equal(grad[0], grad[1]));
        }
    }
}
