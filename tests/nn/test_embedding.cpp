// nn/embedding.hpp: a (V, C) table looked up by id; gradients add into the rows used.
#include <ouro/autograd/backward.hpp>
#include <ouro/nn/embedding.hpp>
#include <ouro/ops/reduce.hpp>

#include <doctest/doctest.h>

using namespace ouro;
using namespace ouro::nn;

TEST_SUITE("nn") {
    TEST_CASE("Embedding") {
        SUBCASE("a (V, C) table drawn from the Rng in order, or zeros") {
            Rng rng(4), copy(4);
            const Embedding<double> e(5, 3, 0.02, rng);
            CHECK(e.type_name() == "Embedding");
            REQUIRE(e.named_parameters().size() == 1);
            CHECK(e.named_parameters()[0].first == "weight");
            CHECK(e.weight.shape() == Shape{5, 3});
            for (double w : e.weight.value().values())
                CHECK(w == 0.02 * copy.normal());
            const Embedding<float> zeros(5, 3, 1.0, Init::zeros());
            for (float w : zeros.weight.value().values())
                CHECK(w == 0.0f);
        }
        SUBCASE("forward matches reference: row ids[i] for every id, any shape of ids") {
            Rng rng(6);
            const Embedding<float> e(4, 2, 1.0, rng);
            const TensorI ids({2, 3}, std::vector<std::int32_t>{3, 0, 3, 1, 2, 0});
            const VarF y = e.forward(ids);
            REQUIRE(y.shape() == Shape{2, 3, 2});
            for (std::int64_t i = 0; i < 6; ++i)
                for (std::int64_t c = 0; c < 2; ++c)
                    CHECK(y.value()[i * 2 + c] == e.weight.value()[ids[i] * 2 + c]);
        }
        SUBCASE("gradient adds into the rows looked up, once per use") {
            Rng rng(7);
            const Embedding<double> e(4, 2, 1.0, rng);
            const TensorI ids({3}, std::vector<std::int32_t>{2, 0, 2});
            backward(ops::sum(e.forward(ids)));
            const double expected[4] = {1.0, 0.0, 2.0, 0.0}; // uses of each row
            for (std::int64_t v = 0; v < 4; ++v)
                for (std::int64_t c = 0; c < 2; ++c)
                    CHECK(e.weight.grad()[v * 2 + c] == expected[v]);
        }
        SUBCASE("rejects an id outside the table") {
            Rng rng(1);
            const Embedding<float> e(4, 2, 1.0, rng);
            CHECK_THROWS_WITH_AS(e.forward(TensorI({2}, std::vector<std::int32_t>{1, 4})),
                                 "embedding: id 4 at position 1 is outside [0, 4)", ConfigError);
            CHECK_THROWS_WITH_AS(e.forward(TensorI({1}, std::vector<std::int32_t>{-1})),
                                 "embedding: id -1 at position 0 is outside [0, 4)", ConfigError);
        }
    }
}
