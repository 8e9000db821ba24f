#include <ouro/autograd/backward.hpp>
#include <ouro/autograd/gradcheck.hpp>
#include <ouro/ops/elementwise.hpp>

#include <doctest/doctest.h>

using namespace ouro;
using namespace ouro::ops;

TEST_SUITE("autograd") {
    TEST_CASE("backward") {
        SUBCASE("chain and fan-out: y = (a * b + a), dy/da = b + 1, dy/db = a") {
            VarD a(TensorD({}, {3.0}), true);
            VarD b(TensorD({}, {-2.0}), true);
            VarD y = a * b + a;
            CHECK(y.item() == -3.0);
            CHECK(y.op() == "add");
            backward(y);
            CHECK(a.grad().item() == -1.0);
            CHECK(b.grad().item() == 3.0);
        }
        SUBCASE("gradients accumulate over passes until zero_grad") {
            VarD a(TensorD({}, {3.0}), true);
            backward(a * a);
            backward(a * a);
            CHECK(a.grad().item() == 12.0);
            a.zero_grad();
            CHECK(a.grad().item() == 0.0);
            backward(a * 5.0);
            CHECK(a.grad().item() == 5.0);
        }
        SUBCASE("a seed gradient gives the vector-Jacobian product") {
            VarD a(TensorD({3}, {1.0, 2.0, 3.0}), true);
            VarD y = a * a;
            backward(y, TensorD({3}, {1.0, 10.0, 100.0}));
            CHECK(a.grad()[0] == 2.0);
            CHECK(a.grad()[1] == 40.0);
            CHECK(a.grad()[2] == 600.0);
        }
        SUBCASE("the graph is freed after backward unless retained") {
            VarD a(TensorD({}, {2.0}), true);
            VarD h = a * a;
            VarD y = h * 3.0;
            backward(y, BackwardOptions{.retain_graph = true});
            CHECK(h.grad().item() == 3.0); // intermediate gradient kept for inspection
            backward(y);
            CHECK(a.grad().item() == 24.0);
            CHECK_FALSE(h.has_grad());
            CHECK_THROWS_WITH_AS(backward(y),
                                 "backward: the graph behind 'affine' was freed by an earlier "
                                 "backward; pass retain_graph to run it twice",
                                 Error);
        }
        SUBCASE("NoGradGuard records nothing") {
            VarD a(TensorD({}, {2.0}), true);
            {
                NoGradGuard guard;
                VarD y = a * a;
                CHECK_FALSE(y.requires_grad());
                CHECK(y.is_leaf());
                CHECK_THROWS_WITH_AS(backward(y),
                                     "backward: the output of 'mul' does not require a gradient "
                                     "(no input of its graph requires one, or it was computed "
                                     "under NoGradGuard)",
                                     Error);
            }
            CHECK(GradMode::is_enabled());
            CHECK((a * a).requires_grad());
        }
        SUBCASE("rejects non-scalar losses and mismatched seeds") {
            VarD a(TensorD({2}, {1.0, 2.0}), true);
            CHECK_THROWS_WITH_AS(backward(a * a),
                                 "backward: the output must hold one element, got shape (2); "
                                 "pass a seed gradient",
                                 ShapeError);
            CHECK_THROWS_WITH_AS(backward(a * a, TensorD({3})),
                                 "backward: seed gradient is (3), output is (2)", ShapeError);
            CHECK_THROWS_WITH_AS(VarD(TensorD({2}), true).grad(),
                                 "Var::grad: no gradient has been computed for this 'leaf' of "
                                 "shape (2)",
                                 Error);
        }
        SUBCASE("a deep chain does not overflow the stack") {
            VarD a(TensorD({}, {1.0}), true);
            VarD y = a;
            for (int i = 0; i < 100000; ++i)
                y = y * 1.0;
            backward(y);
            CHECK(a.grad().item() == 1.0);
        }
    }

    TEST_CASE("gradcheck") {
        SUBCASE("passes a correct gradient") {
            const auto r = gradcheck([](const std::vector<VarD>& x) { return x[0] * x[1]; },
                                     {TensorD({2}, {0.5, -1.5}), TensorD({2}, {2.0, 3.0})});
            CHECK_MESSAGE(r.ok, r.message);
            CHECK(r.max_abs_error < 1e-8);
        }
        SUBCASE("catches a wrong gradient") {
            // A deliberately wrong op: forward x^2, backward claims 3x.
            auto wrong_square = [](const std::vector<VarD>& x) {
                TensorD v = x[0].value();
                for (auto& e : v.values())
                    e = e * e;
                return detail::make_result("wrong_square", std::move(v), {x[0]},
                                           [](Node<double>& self) {
                                               double* dx = detail::input_grad(self, 0);
                                               const TensorD& in = self.inputs[0]->value;
                                               for (std::int64_t i = 0; i < in.numel(); ++i)
                                                   dx[i] += 3.0 * in[i] * self.grad[i];
                                           });
            };
            const auto r = gradcheck(wrong_square, {TensorD({2}, {1.0, 2.0})});
            CHECK_FALSE(r.ok);
            CHECK(r.message.rfind("gradcheck: input 0 element 1, output element 1: analytic 6, "
                                  "numeric 4",
                                  0) == 0);
        }
    }
}
