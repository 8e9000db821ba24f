// nn/linear.hpp: parameter names, shapes and initialisation; forward is ops::linear.
#include <ouro/autograd/backward.hpp>
#include <ouro/nn/linear.hpp>
#include <ouro/ops/reduce.hpp>

#include "test_util.hpp"

#include <doctest/doctest.h>

using namespace ouro;
using namespace ouro::nn;

TEST_SUITE("nn") {
    TEST_CASE("Linear") {
        SUBCASE("weight (out, in) drawn from the Rng in order, bias zero") {
            Rng rng(3), copy(3);
            const Linear<double> layer(4, 3, true, 0.02, rng);
            const auto named = layer.named_parameters();
            REQUIRE(named.size() == 2);
            CHECK(named[0].first == "weight");
            CHECK(named[1].first == "bias");
            CHECK(layer.weight.shape() == Shape{3, 4});
            CHECK(layer.bias.shape() == Shape{3});
            for (double w : layer.weight.value().values())
                CHECK(w == 0.02 * copy.normal());
            for (double b : layer.bias.value().values())
                CHECK(b == 0.0);
            CHECK(layer.type_name() == "Linear");
        }
        SUBCASE("without a bias, and with zeros for a loader") {
            const Linear<float> layer(5, 2, false, 1.0, Init::zeros());
            CHECK_FALSE(layer.bias.defined());
            CHECK(layer.named_parameters().size() == 1);
            for (float w : layer.weight.value().values())
                CHECK(w == 0.0f);
        }
        SUBCASE("forward matches reference: y = x W^T + b, over leading dimensions") {
            Rng rng(8);
            Linear<double> layer(3, 2, true, 1.0, rng);
            layer.bias.value()[0] = 0.5;
            layer.bias.value()[1] = -1.0;
            const TensorD x = ouro::testing::random_tensor<double>({2, 2, 3}, rng);
            const VarD y = layer.forward(VarD(x));
            REQUIRE(y.shape() == Shape{2, 2, 2});
            for (std::int64_t r = 0; r < 4; ++r)
                for (std::int64_t o = 0; o < 2; ++o) {
                    double expected = layer.bias.value()[o];
                    for (std::int64_t i = 0; i < 3; ++i)
                        expected += x[r * 3 + i] * layer.weight.value()[o * 3 + i];
                    CHECK(y.value()[r * 2 + o] == doctest::Approx(expected).epsilon(1e-14));
                }
        }
        SUBCASE("gradients reach the weight and the bias") {
            Rng rng(9);
            Linear<double> layer(3, 2, true, 1.0, rng);
            const TensorD x({1, 3}, std::vector<double>{1.0, 2.0, -1.0});
            backward(ops::sum(layer.forward(VarD(x))));
            // d sum / dW[o][i] = x[i], d sum / db[o] = 1.
            for (std::int64_t o = 0; o < 2; ++o) {
                for (std::int64_t i = 0; i < 3; ++i)
                    CHECK(layer.weight.grad()[o * 3 + i] == x[i]);
                CHECK(layer.bias.grad()[o] == 1.0);
            }
        }
        SUBCASE("rejects bad shapes") {
            Rng rng(1);
            const Linear<float> layer(4, 3, true, 1.0, rng);
            CHECK_THROWS_WITH_AS(layer.forward(VarF(TensorF({2, 5}))),
                                 "linear: input features differ: x is (2, 5), weight is (3, 4)",
                                 ShapeError);
            CHECK_THROWS_WITH_AS(layer.forward(VarF(TensorF(Shape{}))),
                                 "linear: input must have rank >= 1: x is ()", ShapeError);
        }
    }
}
