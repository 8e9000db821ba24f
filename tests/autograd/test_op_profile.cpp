#include <ouro/autograd/backward.hpp>
#include <ouro/autograd/op_profile.hpp>
#include <ouro/ops/elementwise.hpp>

#include <doctest/doctest.h>

using namespace ouro;
using namespace ouro::ops;

TEST_SUITE("autograd") {
    TEST_CASE("OpProfile") {
        VarD a(TensorD({4}, {1.0, 2.0, 3.0, 4.0}), true);
        VarD b(TensorD({4}, {0.5, 0.5, 0.5, 0.5}), true);

        SUBCASE("counts each op's forward and backward calls by name while installed") {
            OpProfile profile;
            {
                OpProfile::Install install(profile);
                profile.start_forward();
                VarD y = a * b + a * a; // mul, mul, add
                backward(y, TensorD({4}, 1.0));
            }
            REQUIRE(profile.forward().count("mul") == 1);
            CHECK(profile.forward().at("mul").calls == 2);
            CHECK(profile.forward().at("add").calls == 1);
            CHECK(profile.backward().at("mul").calls == 2);
            CHECK(profile.backward().at("add").calls == 1);
            CHECK(profile.forward().size() == 2);
            for (const auto& [op, time] : profile.forward())
                CHECK(time.seconds >= 0.0);
            CHECK(a.grad()[1] == doctest::Approx(0.5 + 4.0));
        }
        SUBCASE("records nothing once uninstalled, and nesting restores the outer profile") {
            OpProfile outer, inner;
            {
                OpProfile::Install install_outer(outer);
                {
                    OpProfile::Install install_inner(inner);
                    CHECK(OpProfile::current() == &inner);
                    VarD y = a * b;
                }
                CHECK(OpProfile::current() == &outer);
                VarD z = a + b;
            }
            CHECK(OpProfile::current() == nullptr);
            VarD w = a * b;
            CHECK(inner.forward().size() == 1);
            CHECK(inner.forward().count("mul") == 1);
            CHECK(outer.forward().size() == 1);
            CHECK(outer.forward().count("add") == 1);
            outer.clear();
            CHECK(outer.forward().empty());
        }
    }
}
