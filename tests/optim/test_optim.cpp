#include <ouro/core/parallel.hpp>
#include <ouro/optim/adamw.hpp>
#include <ouro/optim/clip.hpp>
#include <ouro/optim/lr_schedule.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <numbers>

using namespace ouro;
using namespace ouro::optim;

namespace {
void set_grad(VarD& v, std::initializer_list<double> g) {
    TensorD& t = v.node().ensure_grad();
    std::int64_t i = 0;
    for (double x : g)
        t[i++] = x;
}
} // namespace

TEST_SUITE("optim") {
    TEST_CASE("AdamW") {
        SUBCASE("two steps worked by hand") {
            // w (a matrix, decayed) and b (a bias, not decayed) start at 1 with gradient 0.5;
            // lr 0.1, weight decay 0.1, betas (0.9, 0.999), eps 1e-8.
            // Step 1: m = 0.05, v = 2.5e-4; m / (1 - 0.9) = 0.5 and sqrt(v / (1 - 0.999)) = 0.5,
            //   so the Adam step is lr * 1 = 0.1 (eps shifts it by ~2e-9).
            //   w = 1 * (1 - 0.1 * 0.1) - 0.1 = 0.89;  b = 1 - 0.1 = 0.9.
            // Step 2 with gradient -0.5: m = 0.045 - 0.05 = -0.005, m_hat = -0.005 / 0.19;
            //   v = 2.4975e-4 + 2.5e-4 = 4.9975e-4, v_hat = 4.9975e-4 / (1 - 0.999^2);
            //   step = 0.1 * m_hat / sqrt(v_hat) = -0.1 * 0.0263158 / 0.4999375... = -0.0052638.
            VarD w(TensorD({1, 1}, {1.0}), true), b(TensorD({1}, {1.0}), true);
            AdamW<double> opt({{"h.w", w}, {"h.bias", b}}, {.weight_decay = 0.1});
            CHECK(opt.decays(0));
            CHECK_FALSE(opt.decays(1));
            set_grad(w, {0.5});
            set_grad(b, {0.5});
            opt.step(0.1);
            CHECK(w.value()[0] == doctest::Approx(0.89).epsilon(1e-7));
            CHECK(b.value()[0] == doctest::Approx(0.9).epsilon(1e-7));
            set_grad(b, {-0.5});
            opt.step(0.1);
            const double m_hat = -0.005 / (1 - 0.81);
            const double v_hat = 4.9975e-4 / (1 - 0.999 * 0.999);
            CHECK(b.value()[0] ==
                  doctest::Approx(0.9 - 0.1 * m_hat / std::sqrt(v_hat)).epsilon(1e-7));
            CHECK(opt.steps() == 2);
        }
        SUBCASE("the default rule: no decay for biases, LayerNorm and embeddings") {
            CHECK(default_decay_rule("transformer.h.0.attn.c_attn.weight", Shape{24, 8}));
            CHECK_FALSE(default_decay_rule("transformer.h.0.attn.c_attn.bias", Shape{24}));
            CHECK_FALSE(default_decay_rule("transformer.h.0.ln_1.weight", Shape{8}));
            CHECK_FALSE(default_decay_rule("transformer.wte.weight", Shape{11, 8}));
            CHECK_FALSE(default_decay_rule("transformer.wpe.weight", Shape{8, 8}));
        }
        SUBCASE("rejects bad settings") {
            CHECK_THROWS_WITH_AS(AdamW<double>({}, {.beta1 = 1.0}),
                                 "AdamW: betas must be in [0, 1), got (1.000000, 0.999000)",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(AdamW<double>({}, {.eps = 0.0}),
                                 "AdamW: eps must be positive, got 0.000000", ConfigError);
        }
    }

    TEST_CASE("WarmupCosine") {
        const WarmupCosine s{.max_lr = 1.0, .min_lr = 0.1, .warmup_steps = 4, .decay_steps = 14};
        CHECK(s.at(0) == doctest::Approx(0.2)); // (0 + 1) / (4 + 1)
        CHECK(s.at(3) == doctest::Approx(0.8));
        CHECK(s.at(4) == doctest::Approx(1.0));  // cosine starts at max
        CHECK(s.at(9) == doctest::Approx(0.55)); // halfway: 0.1 + 0.5 * 0.9
        CHECK(s.at(14) == doctest::Approx(0.1));
        CHECK(s.at(100) == doctest::Approx(0.1));
        CHECK_THROWS_WITH_AS((WarmupCosine{.max_lr = 0.1, .min_lr = 1.0}.validate()),
                             "WarmupCosine: need 0 <= min_lr <= max_lr, got min_lr 1.000000, "
                             "max_lr 0.100000",
                             ConfigError);
    }

    TEST_CASE("clip_grad_norm") {
        SUBCASE("scales to the maximum norm, worked by hand") {
            // Gradients (3, 4) and (12): norm sqrt(9 + 16 + 144) = 13; clipped to 6.5 they halve
            // (up to the 1e-6 guard in the coefficient 6.5 / (13 + 1e-6)).
            VarD a(TensorD({2}), true), b(TensorD({1}), true);
            set_grad(a, {3.0, 4.0});
            set_grad(b, {12.0});
            CHECK(clip_grad_norm<double>({a, b}, 6.5) == doctest::Approx(13.0));
            CHECK(a.grad()[0] == doctest::Approx(1.5).epsilon(1e-6));
            CHECK(b.grad()[0] == doctest::Approx(6.0).epsilon(1e-6));
            // Under the maximum nothing changes.
            CHECK(clip_grad_norm<double>({a, b}, 100.0) == doctest::Approx(6.5).epsilon(1e-6));
            CHECK(b.grad()[0] == doctest::Approx(6.0).epsilon(1e-6));
        }
        SUBCASE("the norm does not depend on the thread count") {
            VarF a(TensorF({100003}), true);
            TensorF& g = a.node().ensure_grad();
            for (std::int64_t i = 0; i < g.numel(); ++i)
                g[i] = float(std::sin(double(i)));
            double n1, n2;
            {
                ThreadCountGuard one(1);
                n1 = grad_norm<float>({a});
            }
            {
                ThreadCountGuard two(2);
                n2 = grad_norm<float>({a});
            }
            CHECK(n1 == n2);
        }
    }
}
