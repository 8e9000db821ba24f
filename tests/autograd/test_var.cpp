// autograd/var.hpp: Var as a shared handle, the graph's lifetime and release as var.hpp's memory
// model states it, grad mode, and the errors a Var throws.
#include <ouro/autograd/backward.hpp>
#include <ouro/ops/elementwise.hpp>

#include <doctest/doctest.h>

#include <memory>
#include <thread>

using namespace ouro;
using namespace ouro::ops;

namespace {

// y = h * 3 with h = a * a held by nothing but y; `inner` watches h's node.
VarD three_squared(const VarD& a, std::weak_ptr<Node<double>>& inner) {
    const VarD h = a * a;
    inner = h.node_ptr();
    return h * 3.0;
}

} // namespace

TEST_SUITE("autograd") {
    TEST_CASE("Var") {
        SUBCASE("a Var is a handle: copies share the node, its value and its gradient") {
            VarD a(TensorD({2}, {1.0, 2.0}), true);
            VarD b = a;
            b.value()[0] = 7.0;
            CHECK(a.value()[0] == 7.0);
            CHECK(a.node_ptr() == b.node_ptr());
            backward(a * VarD(TensorD({2}, {1.0, 1.0})), TensorD({2}, {3.0, 4.0}));
            CHECK(b.grad()[1] == 4.0);
            CHECK(a.is_leaf());
            CHECK(a.op() == "leaf");
            CHECK(a.numel() == 2);
            CHECK(a.shape() == Shape{2});
        }
        SUBCASE("an op's result records its op and inputs only when a gradient is needed") {
            VarD a(TensorD({}, {2.0}), true);
            VarD c(TensorD({}, {3.0}));
            const VarD y = a * c;
            CHECK(y.op() == "mul");
            CHECK(y.requires_grad());
            CHECK_FALSE(y.is_leaf());
            CHECK(y.node().inputs.size() == 2);
            const VarD z = c * c; // no input requires a gradient: a plain leaf
            CHECK_FALSE(z.requires_grad());
            CHECK(z.is_leaf());
            CHECK(z.node().inputs.empty());
            CHECK(z.item() == 9.0);
        }
        SUBCASE("the graph lives exactly as long as its output is held") {
            VarD a(TensorD({}, {2.0}), true);
            std::weak_ptr<Node<double>> inner;
            {
                const VarD y = three_squared(a, inner);
                CHECK_FALSE(inner.expired()); // y holds h through its inputs
            }
            CHECK(inner.expired()); // y gone: h gone; the leaf stays with its owner
            CHECK(a.value().item() == 2.0);
        }
        SUBCASE("backward frees intermediate nodes' inputs and gradients; leaves keep theirs") {
            VarD a(TensorD({}, {2.0}), true);
            std::weak_ptr<Node<double>> inner;
            const VarD y = three_squared(a, inner);
            backward(y);
            CHECK(inner.expired()); // y dropped its inputs, so nothing holds h any more
            CHECK(y.node().graph_freed);
            CHECK(y.node().inputs.empty());
            CHECK_FALSE(y.has_grad());
            CHECK_FALSE(y.is_leaf()); // a freed output is not a leaf: it cannot start a new graph
            CHECK(a.grad().item() == 12.0);
        }
        SUBCASE("retain_graph keeps the inputs and the intermediate gradients") {
            VarD a(TensorD({}, {2.0}), true);
            const VarD h = a * a;
            const VarD y = h * 3.0;
            backward(y, BackwardOptions{.retain_graph = true});
            CHECK_FALSE(y.node().graph_freed);
            CHECK(y.node().inputs.size() == 1);
            CHECK(h.grad().item() == 3.0);
            // A second pass recomputes intermediate gradients and accumulates into the leaf.
            backward(y, BackwardOptions{.retain_graph = true});
            CHECK(h.grad().item() == 3.0);
            CHECK(a.grad().item() == 24.0);
        }
        SUBCASE("ensure_grad allocates a zeroed gradient once; zero_grad keeps the buffer") {
            VarD a(TensorD({3}, {1.0, 2.0, 3.0}), true);
            a.zero_grad(); // no gradient yet: nothing to do
            CHECK_FALSE(a.has_grad());
            TensorD& g = a.node().ensure_grad();
            CHECK(a.has_grad());
            CHECK(g.shape() == Shape{3});
            CHECK(g[2] == 0.0);
            g[2] = 5.0;
            const double* buffer = g.data();
            CHECK(&a.node().ensure_grad() == &g);
            a.zero_grad();
            CHECK(a.grad()[2] == 0.0);
            CHECK(a.grad().data() == buffer);
        }
        SUBCASE("detach copies the value into a new leaf outside the graph") {
            VarD a(TensorD({}, {2.0}), true);
            const VarD y = a * a;
            VarD d = y.detach();
            CHECK(d.is_leaf());
            CHECK_FALSE(d.requires_grad());
            CHECK(d.item() == 4.0);
            d.value()[0] = 1.0;
            CHECK(y.item() == 4.0);
        }
        SUBCASE("set_requires_grad only on leaves") {
            VarD a(TensorD({}, {2.0}));
            a.set_requires_grad(true);
            CHECK(a.requires_grad());
            const VarD y = a * a;
            CHECK_THROWS_WITH_AS(VarD(y).set_requires_grad(false),
                                 "Var::set_requires_grad: only leaves can change it; this Var is "
                                 "the output of 'mul'",
                                 Error);
        }
        SUBCASE("rejects use of an undefined Var and a missing gradient") {
            const VarD u;
            CHECK_FALSE(u.defined());
            CHECK_THROWS_WITH_AS(u.value(), "Var: use of an undefined Var", Error);
            CHECK_THROWS_WITH_AS(u.shape(), "Var: use of an undefined Var", Error);
            CHECK_THROWS_WITH_AS(VarD(TensorD({2, 3}), true).grad(),
                                 "Var::grad: no gradient has been computed for this 'leaf' of "
                                 "shape (2, 3)",
                                 Error);
            VarD a(TensorD({}, {1.0}), true);
            VarD y = a * a;
            CHECK_THROWS_WITH_AS(y.grad(),
                                 "Var::grad: no gradient has been computed for this 'mul' of "
                                 "shape ()",
                                 Error);
        }
    }

    TEST_CASE("NoGradGuard") {
        SUBCASE("records nothing while alive, nests, and restores the previous mode") {
            VarD a(TensorD({}, {2.0}), true);
            CHECK(GradMode::is_enabled());
            {
                NoGradGuard outer;
                CHECK_FALSE(GradMode::is_enabled());
                {
                    NoGradGuard inner;
                    CHECK_FALSE((a * a).requires_grad());
                }
                CHECK_FALSE(GradMode::is_enabled()); // inner restored outer's "off"
                const VarD y = a * a;
                CHECK(y.is_leaf());
                CHECK(y.item() == 4.0);
            }
            CHECK(GradMode::is_enabled());
            CHECK((a * a).requires_grad());
        }
        SUBCASE("grad mode is per thread") {
            NoGradGuard guard;
            bool other_thread_enabled = false;
            std::thread t([&] { other_thread_enabled = GradMode::is_enabled(); });
            t.join();
            CHECK(other_thread_enabled);
            CHECK_FALSE(GradMode::is_enabled());
        }
    }
}
