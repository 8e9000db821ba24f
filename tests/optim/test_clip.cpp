// optim/clip.hpp: the global gradient norm against a naive sum of squares, clipping's scale, the
// same norm at any thread count, and the max_norm it refuses.
#include <ouro/core/parallel.hpp>
#include <ouro/optim/clip.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <vector>

using namespace ouro;
using namespace ouro::optim;

namespace {
template <typename T> void set_grad(Var<T>& v, std::initializer_list<double> g) {
    Tensor<T>& t = v.node().ensure_grad();
    std::int64_t i = 0;
    for (double x : g)
        t[i++] = T(x);
}
} // namespace

TEST_SUITE("optim") {
    TEST_CASE("clip_grad_norm") {
        SUBCASE("scales to the maximum norm, worked by hand") {
            // Gradients (3, 4) and (12): norm sqrt(9 + 16 + 144) = 13; clipped to 6.5 they halve
            // (up to the 1e-6 guard in the coefficient 6.5 / (13 + 1e-6)).
            VarD a(TensorD({2}), true), b(TensorD({1}), true);
            set_grad(a, {3.0, 4.0});
            set_grad(b, {12.0});
            CHECK(clip_grad_norm<double>({a, b}, 6.5) == doctest::Approx(13.0));
            const double coef = 6.5 / (13.0 + 1e-6);
            CHECK(a.grad()[0] == doctest::Approx(3.0 * coef).epsilon(1e-14));
            CHECK(a.grad()[1] == doctest::Approx(4.0 * coef).epsilon(1e-14));
            CHECK(b.grad()[0] == doctest::Approx(12.0 * coef).epsilon(1e-14));
            // Under the maximum nothing changes.
            CHECK(clip_grad_norm<double>({a, b}, 100.0) == doctest::Approx(6.5).epsilon(1e-6));
            CHECK(b.grad()[0] == doctest::Approx(12.0 * coef).epsilon(1e-14));
        }
        SUBCASE("forward matches reference: the norm is the naive global L2 norm") {
            // Several parameters over more than one reduction chunk, one without a gradient.
            std::vector<VarF> params;
            double naive = 0.0;
            for (std::int64_t n : {5, 4097, 10000}) {
                VarF p(TensorF({n}), true);
                TensorF& g = p.node().ensure_grad();
                for (std::int64_t i = 0; i < n; ++i) {
                    g[i] = float(std::cos(0.37 * double(i + n)));
                    naive += double(g[i]) * double(g[i]);
                }
                params.push_back(p);
            }
            params.emplace_back(TensorF({7}), true); // no gradient: counts as zero
            CHECK(grad_norm<float>(params) == doctest::Approx(std::sqrt(naive)).epsilon(1e-12));
            CHECK(grad_norm<float>({}) == 0.0);
            const double before = clip_grad_norm<float>(params, 1.0);
            CHECK(before == doctest::Approx(std::sqrt(naive)).epsilon(1e-12));
            CHECK(grad_norm<float>(params) == doctest::Approx(1.0).epsilon(1e-5));
            CHECK_FALSE(params.back().has_grad());
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
        SUBCASE("rejects a max_norm that is not positive") {
            VarD a(TensorD({1}), true);
            CHECK_THROWS_WITH_AS(clip_grad_norm<double>({a}, 0.0),
                                 "clip_grad_norm: max_norm must be positive, got 0.000000",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(clip_grad_norm<double>({a}, -2.5),
                                 "clip_grad_norm: max_norm must be positive, got -2.500000",
                                 ConfigError);
        }
    }
}
