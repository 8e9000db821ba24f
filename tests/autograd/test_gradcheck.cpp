// autograd/gradcheck.hpp: the full-Jacobian check passes correct gradients, catches a wrong one
// and names the worst entry, honours its tolerances, and refuses an undefined result.
#include <ouro/autograd/gradcheck.hpp>
#include <ouro/ops/elementwise.hpp>

#include <doctest/doctest.h>

using namespace ouro;
using namespace ouro::ops;

namespace {

// A deliberately wrong op: forward x^2, backward claims `factor` x (2 would be right).
VarD wrong_square(const VarD& x, double factor) {
    TensorD v = x.value();
    for (auto& e : v.values())
        e = e * e;
    return detail::make_result("wrong_square", std::move(v), {x}, [factor](Node<double>& self) {
        double* dx = detail::input_grad(self, 0);
        const TensorD& in = self.inputs[0]->value;
        for (std::int64_t i = 0; i < in.numel(); ++i)
            dx[i] += factor * in[i] * self.grad[i];
    });
}

} // namespace

TEST_SUITE("autograd") {
    TEST_CASE("gradcheck") {
        SUBCASE("passes a correct gradient") {
            const auto r = gradcheck([](const std::vector<VarD>& x) { return x[0] * x[1]; },
                                     {TensorD({2}, {0.5, -1.5}), TensorD({2}, {2.0, 3.0})});
            CHECK_MESSAGE(r.ok, r.message);
            CHECK(bool(r));
            CHECK(r.message.empty());
            CHECK(r.max_abs_error < 1e-8);
        }
        SUBCASE("catches a wrong gradient") {
            const auto r =
                gradcheck([](const std::vector<VarD>& x) { return wrong_square(x[0], 3.0); },
                          {TensorD({2}, {1.0, 2.0})});
            CHECK_FALSE(r.ok);
            CHECK_FALSE(bool(r));
            // The worst entry: element 1, analytic 3 * 2 = 6 against 2 * 2 = 4.
            CHECK(r.message.rfind("gradcheck: input 0 element 1, output element 1: analytic 6, "
                                  "numeric 4",
                                  0) == 0);
            CHECK(r.max_abs_error == doctest::Approx(2.0).epsilon(1e-6));
        }
        SUBCASE("checks off-diagonal entries: a gradient sent to the wrong element fails") {
            // out = sum(x * w) has Jacobian w for x; a backward that adds nothing into x[1]
            // leaves one zero where w[1] belongs.
            auto half_wrong = [](const std::vector<VarD>& x) {
                TensorD v({}, {x[0].value()[0] * 2.0 + x[0].value()[1] * 5.0});
                return detail::make_result("half_wrong", std::move(v), {x[0]},
                                           [](Node<double>& self) {
                                               detail::input_grad(self, 0)[0] += 2.0 * self.grad[0];
                                           });
            };
            const auto r = gradcheck(half_wrong, {TensorD({2}, {0.3, 0.7})});
            CHECK_FALSE(r.ok);
            CHECK(r.message.rfind("gradcheck: input 0 element 1, output element 0: analytic 0, "
                                  "numeric 5",
                                  0) == 0);
        }
        SUBCASE("tolerances are the caller's: a small error passes a loose check only") {
            // 2.001 x instead of 2 x: an error of 0.001 x.
            auto slightly_wrong = [](const std::vector<VarD>& x) {
                return wrong_square(x[0], 2.001);
            };
            const std::vector<TensorD> at = {TensorD({1}, {1.0})};
            CHECK_FALSE(gradcheck(slightly_wrong, at).ok);
            CHECK(gradcheck(slightly_wrong, at, {.atol = 0.0, .rtol = 1e-3}).ok);
        }
        SUBCASE("outputs that do not depend on the inputs have a zero Jacobian") {
            auto constant = [](const std::vector<VarD>&) { return VarD(TensorD({2}, {1.0, 2.0})); };
            const auto r = gradcheck(constant, {TensorD({3}, {1.0, 2.0, 3.0})});
            CHECK(r.ok);
            CHECK(r.max_abs_error == 0.0);
        }
        SUBCASE("rejects an undefined result") {
            CHECK_THROWS_WITH_AS(
                gradcheck([](const std::vector<VarD>&) { return VarD(); }, {TensorD({1}, {1.0})}),
                "gradcheck: the function returned an undefined Var", Error);
        }
    }
}
