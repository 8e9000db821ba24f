// autograd/backward.hpp: reverse topological order, gradient accumulation (shared nodes and
// repeated passes), seeds, the graph's release, and the errors backward throws.
#include <ouro/autograd/backward.hpp>
#include <ouro/ops/elementwise.hpp>
#include <ouro/ops/reduce.hpp>

#include <doctest/doctest.h>

#include <memory>
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
        SUBCASE("each node is released as soon as its rule has run") {
            // a -> h -> y -> loss: when h's rule runs, y and loss have run and nothing outside
            // the graph holds y, so backward has dropped it (gradient, value, node); with
            // retain_graph it is still there.
            for (bool retain : {false, true}) {
                VarD a(TensorD({2}, {1.0, 2.0}), true);
                std::weak_ptr<Node<double>> y_node;
                bool y_alive_in_h_rule = false;
                VarD loss;
                {
                    VarD h =
                        detail::make_result("h", TensorD(a.value()), {a}, [&](Node<double>& self) {
                            y_alive_in_h_rule = !y_node.expired();
                            for (std::int64_t j = 0; j < 2; ++j)
                                detail::input_grad(self, 0)[j] += self.grad[j];
                        });
                    VarD y = h * 3.0;
                    y_node = y.node_ptr();
                    loss = sum(y);
                }
                backward(loss, BackwardOptions{.retain_graph = retain});
                CHECK(y_alive_in_h_rule == retain);
                CHECK(a.grad()[0] == 3.0);
                CHECK(a.grad()[1] == 3.0);
            }
        }
        SUBCASE("a gradient handed over equals one added into zeros") {
            // add passes dout on (moved to a, copied to b) when their gradients do not exist
            // yet, and adds when they do: here b already has one from b * b, and a + a gets both.
            VarD a(TensorD({3}, {1.0, -2.0, 0.5}), true);
            VarD b(TensorD({3}, {2.0, 3.0, -1.0}), true);
            backward(sum((a + b) * 2.0 + b * b + (a + a)));
            CHECK(a.grad()[0] == 4.0);
            CHECK(b.grad()[1] == 8.0); // 2 + 2b
            CHECK(b.grad()[2] == 0.0); // 2 + 2b
            for (bool retain : {false, true}) {
                VarD c(TensorD({2}, {1.0, 2.0}), true);
                VarD d(TensorD({2}, {5.0, 7.0}), true);
                VarD s = c + d;
                backward(s, TensorD({2}, {10.0, 20.0}), BackwardOptions{.retain_graph = retain});
                CHECK(c.grad()[1] == 20.0);
                CHECK(d.grad()[0] == 10.0);
                if (retain) // the retained output keeps its own gradient: it was copied, not moved
                    CHECK(s.grad()[1] == 20.0);
            }
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
