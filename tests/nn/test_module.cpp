// nn/module.hpp: named parameter trees, registration rules, train/eval, ModuleGroup.
#include <ouro/autograd/backward.hpp>
#include <ouro/nn/module.hpp>
#include <ouro/ops/reduce.hpp>

#include <doctest/doctest.h>

#include <memory>
#include <string>

using namespace ouro;
using namespace ouro::nn;

namespace {

// A module with two parameters, to test registration rules.
struct Pair : Module<float> {
    Pair() : Module<float>("Pair") {
        register_parameter("a", TensorF({2}));
        register_parameter("b", TensorF({3}));
    }
    void add(const std::string& name) { register_parameter(name, TensorF({1})); }
    template <typename M> M& add_child(const std::string& name, std::unique_ptr<M> m) {
        return register_module(name, std::move(m));
    }
};

// A parameter w, then two Pairs: "left" and "right".
struct Tree : Module<float> {
    Tree() : Module<float>("Tree") {
        w = register_parameter("w", TensorF({4}, 1.5f));
        left = &register_module("left", std::make_unique<Pair>());
        right = &register_module("right", std::make_unique<Pair>());
    }
    VarF w;
    Pair* left;
    Pair* right;
};

} // namespace

TEST_SUITE("nn") {
    TEST_CASE("Module") {
        SUBCASE("names are ordered and dotted") {
            Pair p;
            const auto named = p.named_parameters();
            REQUIRE(named.size() == 2);
            CHECK(named[0].first == "a");
            CHECK(named[1].first == "b");
            CHECK(p.num_parameters() == 5);
            CHECK(p.type_name() == "Pair");
            CHECK(p.path().empty());
            CHECK(p.name_of("a") == "a");
        }
        SUBCASE("a tree: own parameters first, then children depth first, with dotted paths") {
            Tree t;
            const auto named = t.named_parameters();
            REQUIRE(named.size() == 5);
            const char* names[] = {"w", "left.a", "left.b", "right.a", "right.b"};
            for (std::size_t i = 0; i < 5; ++i)
                CHECK(named[i].first == names[i]);
            CHECK(t.num_parameters() == 4 + 2 * 5);
            CHECK(t.left->path() == "left");
            CHECK(t.right->name_of("b") == "right.b");
            // parameter() returns the handle the module holds, not a copy.
            VarF w = t.parameter("w");
            w.value()[0] = 7.0f;
            CHECK(t.w.value()[0] == 7.0f);
            CHECK(t.parameter("right.a").shape() == Shape{2});
            CHECK(t.parameters().size() == 5);
            // A child registered below a child: paths are rebuilt from the root.
            Pair& deep = t.left->add_child("inner", std::make_unique<Pair>());
            CHECK(deep.path() == "left.inner");
            CHECK(t.named_parameters()[3].first == "left.inner.a");
        }
        SUBCASE("train and eval reach every module; zero_grad clears every gradient") {
            Tree t;
            CHECK(t.training());
            t.eval();
            CHECK_FALSE(t.training());
            CHECK_FALSE(t.left->training());
            CHECK_FALSE(t.right->training());
            t.train();
            CHECK(t.right->training());
            t.zero_grad(); // no gradient yet: nothing to clear
            for (auto& [name, p] : t.named_parameters()) {
                CHECK(p.requires_grad());
                CHECK_FALSE(p.has_grad());
                backward(ops::sum(p)); // d sum / dp = 1 everywhere
                CHECK(p.grad().values()[0] == 1.0f);
            }
            t.zero_grad();
            for (auto& [name, p] : t.named_parameters()) {
                CHECK(p.has_grad()); // the buffer is kept
                for (float g : p.grad().values())
                    CHECK(g == 0.0f);
            }
        }
        SUBCASE("rejects invalid and duplicate names") {
            Pair p;
            CHECK_THROWS_WITH_AS(p.add("a"), "Pair::register_parameter: 'a' is already registered",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(p.add("x.y"),
                                 "Pair::register_parameter: invalid name 'x.y' (use letters, "
                                 "digits and '_')",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(p.add(""),
                                 "Pair::register_parameter: invalid name '' (use letters, digits "
                                 "and '_')",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(p.parameter("c"), "Pair: no parameter named 'c'", ConfigError);
            // A child's name clashes with parameters and children alike.
            CHECK_THROWS_WITH_AS(p.add_child("b", std::make_unique<Pair>()),
                                 "Pair::register_module: 'b' is already registered", ConfigError);
            p.add_child("kid", std::make_unique<Pair>());
            CHECK_THROWS_WITH_AS(
                p.add("kid"), "Pair::register_parameter: 'kid' is already registered", ConfigError);
            CHECK_THROWS_WITH_AS(p.add_child("a-b", std::make_unique<Pair>()),
                                 "Pair::register_module: invalid name 'a-b' (use letters, digits "
                                 "and '_')",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(p.parameter("kid"), "Pair: no parameter named 'kid'", ConfigError);
        }
    }

    TEST_CASE("ModuleGroup") {
        ModuleGroup<float> h("ModuleList");
        Pair& first = h.add("0", std::make_unique<Pair>());
        h.add("1", std::make_unique<Pair>());
        CHECK(first.path() == "0");
        const auto named = h.named_parameters();
        REQUIRE(named.size() == 4);
        CHECK(named[2].first == "1.a");
        CHECK(h.type_name() == "ModuleList");
        CHECK_THROWS_WITH_AS(h.add("1", std::make_unique<Pair>()),
                             "ModuleList::register_module: '1' is already registered", ConfigError);
    }
}
