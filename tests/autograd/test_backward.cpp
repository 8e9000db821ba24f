// autograd/backward.hpp: reverse topological order, gradient accumulation (shared nodes and
// repeated passes), seeds, the graph's release, and the errors backward throws.
#include <ouro/autograd/backward.hpp>
#include <ouro/ops/elementwise.hpp>
#include <ouro/ops/reduce.hpp>

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace ouro;
using namespace ouro::ops;

namespace {

// y = sum of inputs (elementwise), whose backward appends `name` and the gradient it saw to `log`:
// the order in which backward runs the rules, and what each node had accumulated by then.
VarD logged_sum(const char* name, std::vector<VarD> inputs,
                std::vector<std::pair<std::string, double>>& log) {
    TensorD v = inputs[0].value();
    for (std::size_t i = 1; i < inputs.size(); ++i)
        for (std::int64_t j = 0; j < v.numel(); ++j)
            v[j] += inputs[i].value()[j];
    return detail::make_result(name, std::move(v), inputs,
                               [name, &log, n = inputs.size()](Node<double>& self) {
                                   log.emplace_back(name, self.grad[0]);
                                   for (std::size_t i = 0; i < n; ++i)
                                       if (double* dx = detail::input_grad(self, i))
                                           for (std::int64_t j = 0; j < self.grad.numel(); ++j)
                                               dx[j] += self.grad[j];
                               });
}

} // namespace

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
        SUBCASE("rules run in reverse topological order, each node after all its users") {
            // a -> h -> {u, w} -> y, and y also reads h directly: h's rule must wait for u, w and
            // y to have added into h's gradient (3 = one from each path), and runs once.
            std::vector<std::pair<std::string, double>> log;
            VarD a(TensorD({}, {1.0}), true);
            VarD h = logged_sum("h", {a}, log);
            VarD u = logged_sum("u", {h}, log);
            VarD w = logged_sum("w", {h}, log);
            VarD y = logged_sum("y", {u, w, h}, log);
            backward(y);
            REQUIRE(log.size() == 4);
            CHECK(log[0] == std::pair<std::string, double>("y", 1.0));
            CHECK(log[3] == std::pair<std::string, double>("h", 3.0));
            // u and w in either order, between y and h.
            CHECK(((log[1].first == "u" && log[2].first == "w") ||
                   (log[1].first == "w" && log[2].first == "u")));
            CHECK(a.grad().item() == 3.0);
        }
        SUBCASE("a node used twice by one op gets both contributions") {
            VarD a(TensorD({2}, {1.5, -2.0}), true);
            backward(sum(a * a)); // d/da sum(a^2) = 2a: the two inputs of mul are one node
            CHECK(a.grad()[0] == 3.0);
            CHECK(a.grad()[1] == -4.0);
        }
        SUBCASE("leaves that do not require a gradient get none") {
            VarD a(TensorD({}, {2.0}), true);
            VarD c(TensorD({}, {5.0}), false);
            backward(a * c);
            CHECK(a.grad().item() == 5.0);
            CHECK_FALSE(c.has_grad());
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
}
