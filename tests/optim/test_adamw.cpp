// optim/adamw.hpp: AdamW against a naive double update (bias correction, decoupled weight decay),
// the decay groups, skipped parameters, resumed step counts, and the settings it refuses.
#include "test_util.hpp"

#include <ouro/optim/adamw.hpp>
#include <ouro/optim/clip.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <vector>

using namespace ouro;
using namespace ouro::optim;

namespace {

template <typename T> void set_grad(Var<T>& v, const std::vector<double>& g) {
    Tensor<T>& t = v.node().ensure_grad();
    for (std::size_t i = 0; i < g.size(); ++i)
        t[std::int64_t(i)] = T(g[i]);
}

// The AdamW update written out in double, straight from Loshchilov & Hutter with PyTorch's bias
// correction: decay first, then the moments, then the corrected step.
struct NaiveAdamW {
    double b1, b2, eps, wd;
    std::vector<double> m, v;
    int t = 0;
    void step(std::vector<double>& w, const std::vector<double>& g, double lr, bool decay) {
        if (m.empty()) {
            m.assign(w.size(), 0.0);
            v.assign(w.size(), 0.0);
        }
        ++t;
        for (std::size_t i = 0; i < w.size(); ++i) {
            if (decay)
                w[i] -= lr * wd * w[i];
            m[i] = b1 * m[i] + (1 - b1) * g[i];
            v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
            const double m_hat = m[i] / (1 - std::pow(b1, t));
            const double v_hat = v[i] / (1 - std::pow(b2, t));
            w[i] -= lr * m_hat / (std::sqrt(v_hat) + eps);
        }
    }
};

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
        SUBCASE("forward matches reference: five steps against the naive double update") {
            const AdamWConfig config{.beta1 = 0.8, .beta2 = 0.95, .eps = 1e-6, .weight_decay = 0.3};
            std::vector<double> w0 = {0.5, -1.25, 2.0, 0.0, -0.75, 1.5};
            VarD wd(TensorD({2, 3}, {0.5, -1.25, 2.0, 0.0, -0.75, 1.5}), true);
            VarF wf(TensorF({2, 3}, {0.5f, -1.25f, 2.0f, 0.0f, -0.75f, 1.5f}), true);
            AdamW<double> opt_d({{"h.0.mlp.c_fc.weight", wd}}, config);
            AdamW<float> opt_f({{"h.0.mlp.c_fc.weight", wf}}, config);
            NaiveAdamW naive{0.8, 0.95, 1e-6, 0.3, {}, {}};
            for (int s = 0; s < 5; ++s) {
                std::vector<double> g(6);
                for (std::size_t i = 0; i < 6; ++i) // element 3's gradient is tiny: eps matters
                    g[i] = std::sin(double(3 * s) + double(i)) * (i == 3 ? 1e-5 : 1.0);
                const double lr = 0.05 * (s + 1);
                set_grad(wd, g);
                set_grad(wf, g);
                opt_d.step(lr);
                opt_f.step(lr);
                naive.step(w0, g, lr, true);
            }
            for (std::size_t i = 0; i < 6; ++i) {
                const auto j = std::int64_t(i);
                CHECK(wd.value()[j] == doctest::Approx(w0[i]).epsilon(1e-12));
                CHECK(double(wf.value()[j]) == doctest::Approx(w0[i]).epsilon(1e-5));
                CHECK(opt_d.exp_avg(0)[j] == doctest::Approx(naive.m[i]).epsilon(1e-12));
                CHECK(opt_d.exp_avg_sq(0)[j] == doctest::Approx(naive.v[i]).epsilon(1e-12));
            }
        }
        SUBCASE("weight decay is decoupled: a zero gradient still shrinks a decayed weight") {
            // m = v = 0, so the Adam step is 0 / (0 + eps) = 0 and only the decay acts.
            VarD w(TensorD({1, 2}, {2.0, -4.0}), true), b(TensorD({2}, {2.0, -4.0}), true);
            AdamW<double> opt({{"w", w}, {"b", b}}, {.weight_decay = 0.5});
            set_grad(w, {0.0, 0.0});
            set_grad(b, {0.0, 0.0});
            opt.step(0.1);
            CHECK(w.value()[0] == 2.0 * (1 - 0.1 * 0.5));
            CHECK(w.value()[1] == -4.0 * (1 - 0.1 * 0.5));
            CHECK(b.value()[0] == 2.0);
        }
        SUBCASE("parameters without a gradient are left alone; zero_grad zeroes the others") {
            VarD w(TensorD({1, 1}, {1.0}), true), untouched(TensorD({1, 1}, {1.0}), true);
            AdamW<double> opt({{"w", w}, {"u", untouched}}, {});
            set_grad(w, {1.0});
            opt.step(0.1);
            CHECK(w.value()[0] != 1.0);
            CHECK(untouched.value()[0] == 1.0);
            CHECK(opt.exp_avg(1)[0] == 0.0);
            CHECK(opt.parameters().size() == 2);
            CHECK(opt.parameters()[1].first == "u");
            opt.zero_grad();
            CHECK(w.grad()[0] == 0.0);
            CHECK_FALSE(untouched.has_grad());
        }
        SUBCASE("set_steps resumes the bias correction where a checkpoint left it") {
            // From m = 0.1, v = 0.01 and g = 1 at t = 1001 the corrections are almost 1.
            VarD w(TensorD({1}, {0.0}), true);
            AdamW<double> opt({{"w", w}}, {.weight_decay = 0.0});
            opt.set_steps(1000);
            opt.exp_avg(0)[0] = 0.1;
            opt.exp_avg_sq(0)[0] = 0.01;
            set_grad(w, {1.0});
            opt.step(1.0);
            CHECK(opt.steps() == 1001);
            const double m = 0.9 * 0.1 + 0.1, v = 0.999 * 0.01 + 0.001;
            const double m_hat = m / (1 - std::pow(0.9, 1001));
            const double v_hat = v / (1 - std::pow(0.999, 1001));
            CHECK(w.value()[0] ==
                  doctest::Approx(-m_hat / (std::sqrt(v_hat) + 1e-8)).epsilon(1e-12));
        }
        SUBCASE("the default rule: no decay for biases, LayerNorm and embeddings") {
            CHECK(default_decay_rule("transformer.h.0.attn.c_attn.weight", Shape{24, 8}));
            CHECK_FALSE(default_decay_rule("transformer.h.0.attn.c_attn.bias", Shape{24}));
            CHECK_FALSE(default_decay_rule("transformer.h.0.ln_1.weight", Shape{8}));
            CHECK_FALSE(default_decay_rule("transformer.wte.weight", Shape{11, 8}));
            CHECK_FALSE(default_decay_rule("transformer.wpe.weight", Shape{8, 8}));
        }
        SUBCASE("a custom decay rule picks the group") {
            VarD a(TensorD({2}), true), b(TensorD({2, 2}), true);
            AdamW<double> opt({{"a", a}, {"b", b}}, {},
                              [](const std::string& name, const Shape&) { return name == "a"; });
            CHECK(opt.decays(0));
            CHECK_FALSE(opt.decays(1));
        }
        SUBCASE("the same bits for any team, over parameters of very different sizes") {
            // AdamW and clipping hand each thread the blocks in its share of the elements (not
            // of the blocks): a block skipped or updated twice by a team would show here.
            const auto run = [] {
                std::vector<std::pair<std::string, VarF>> named;
                std::vector<VarF> params;
                std::int64_t k = 0;
                for (const std::int64_t n : {300, 40000, 7, 16384, 16385, 100000, 64, 33000}) {
                    TensorF w({n});
                    for (std::int64_t i = 0; i < n; ++i)
                        w[i] = float(std::cos(0.01 * double(i + k)));
                    VarF p(w, true);
                    TensorF& g = p.node().ensure_grad();
                    for (std::int64_t i = 0; i < n; ++i)
                        g[i] = float(std::sin(0.37 * double(i + 3 * k)));
                    std::string name("p");
                    name += std::to_string(k++);
                    name += n < 1000 ? ".bias" : ".w"; // biases are not decayed
                    named.emplace_back(name, p);
                    params.push_back(p);
                }
                AdamW<float> opt(named, {.weight_decay = 0.1});
                for (int step = 0; step < 2; ++step) {
                    clip_grad_norm<float>(params, 0.5);
                    opt.step(1e-2);
                }
                std::vector<TensorF> out;
                for (std::size_t i = 0; i < params.size(); ++i)
                    out.insert(out.end(), {params[i].value(), params[i].grad(), opt.exp_avg(i),
                                           opt.exp_avg_sq(i)});
                return out;
            };
            ouro::testing::check_same_bits_for_teams(run);
        }
        SUBCASE("rejects bad settings") {
            CHECK_THROWS_WITH_AS(AdamW<double>({}, {.beta1 = 1.0}),
                                 "AdamW: betas must be in [0, 1), got (1.000000, 0.999000)",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(AdamW<double>({}, {.beta2 = -0.5}),
                                 "AdamW: betas must be in [0, 1), got (0.900000, -0.500000)",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(AdamW<double>({}, {.eps = 0.0}),
                                 "AdamW: eps must be positive, got 0.000000", ConfigError);
            CHECK_THROWS_WITH_AS(AdamW<double>({}, {.weight_decay = -0.1}),
                                 "AdamW: weight_decay must be >= 0, got -0.100000", ConfigError);
            CHECK_NOTHROW(AdamW<double>({}, {.beta1 = 0.0, .weight_decay = 0.0}));
        }
    }
}
