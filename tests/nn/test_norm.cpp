// nn/norm.hpp: LayerNorm and RMSNorm modules: names, initial values, forward is the op.
#include <ouro/nn/norm.hpp>

#include "test_util.hpp"

#include <doctest/doctest.h>

#include <cmath>

using namespace ouro;
using namespace ouro::nn;

TEST_SUITE("nn") {
    TEST_CASE("Norm") {
        SUBCASE("LayerNorm: weight one, bias zero, optional bias") {
            const Norm<float> with(6, NormKind::layernorm, true);
            CHECK(with.type_name() == "LayerNorm");
            const auto named = with.named_parameters();
            REQUIRE(named.size() == 2);
            CHECK(named[0].first == "weight");
            CHECK(named[1].first == "bias");
            for (float w : with.weight.value().values())
                CHECK(w == 1.0f);
            for (float b : with.bias.value().values())
                CHECK(b == 0.0f);
            CHECK(with.eps == 1e-5);
            const Norm<float> without(6, NormKind::layernorm, false, 1e-6);
            CHECK_FALSE(without.bias.defined());
            CHECK(without.eps == 1e-6);
        }
        SUBCASE("RMSNorm never has a bias") {
            const Norm<float> n(6, NormKind::rmsnorm, true);
            CHECK(n.type_name() == "RMSNorm");
            CHECK_FALSE(n.bias.defined());
            CHECK(n.named_parameters().size() == 1);
        }
        SUBCASE("forward matches reference") {
            // Row (1, 2, 3, 6): mean 3, variance 3.5; mean square 12.5.
            const TensorD x({1, 4}, std::vector<double>{1.0, 2.0, 3.0, 6.0});
            Norm<double> ln(4, NormKind::layernorm, true, 0.0);
            ln.weight.value()[3] = 2.0;
            ln.bias.value()[0] = 0.25;
            const TensorD y = ln.forward(VarD(x)).value();
            const double r = 1.0 / std::sqrt(3.5);
            CHECK(y[0] == doctest::Approx(-2.0 * r + 0.25).epsilon(1e-14));
            CHECK(y[1] == doctest::Approx(-1.0 * r).epsilon(1e-14));
            CHECK(y[2] == doctest::Approx(0.0).epsilon(1e-14));
            CHECK(y[3] == doctest::Approx(2.0 * 3.0 * r).epsilon(1e-14));
            const Norm<double> rms(4, NormKind::rmsnorm, false, 0.5);
            const TensorD z = rms.forward(VarD(x)).value();
            const double rr = 1.0 / std::sqrt(12.5 + 0.5);
            for (std::int64_t i = 0; i < 4; ++i)
                CHECK(z[i] == doctest::Approx(x[i] * rr).epsilon(1e-14));
        }
        SUBCASE("rejects bad shapes") {
            const Norm<float> ln(8, NormKind::layernorm, true);
            CHECK_THROWS_WITH_AS(ln.forward(VarF(TensorF({2, 7}))),
                                 "layernorm: weight must be (C) = (7), got (8)", ShapeError);
            const Norm<float> rms(8, NormKind::rmsnorm, false);
            CHECK_THROWS_WITH_AS(rms.forward(VarF(TensorF({2, 7}))),
                                 "rmsnorm: weight must be (C) = (7), got (8)", ShapeError);
        }
    }
}
