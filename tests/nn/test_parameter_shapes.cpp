#include <ouro/nn/gpt.hpp>
#include <ouro/nn/parameter_shapes.hpp>

#include <doctest/doctest.h>

#include <cstdint>

using namespace ouro;
using namespace ouro::nn;

TEST_SUITE("nn") {
    TEST_CASE("parameter_shapes") {
        SUBCASE("equal to a built model's named_parameters for every block variant") {
            for (const PositionEncoding position :
                 {PositionEncoding::learned, PositionEncoding::rope, PositionEncoding::alibi})
                for (const bool bias : {true, false})
                    for (const bool llama : {false, true}) {
                        GPTConfig c = llama ? GPTConfig::llama(11, 8, 3, 2, 1, 8, 4)
                                            : GPTConfig::gpt2(11, 8, 3, 2, 8);
                        c.position = position;
                        c.bias = bias;
                        CAPTURE(to_string(position));
                        CAPTURE(bias);
                        CAPTURE(llama);
                        Rng rng(1);
                        const GPT<float> model(c, rng);
                        const auto named = model.named_parameters();
                        const auto shapes = parameter_shapes(c);
                        REQUIRE(shapes.size() == named.size());
                        CHECK(parameter_tensor_count(c) == std::int64_t(named.size()));
                        for (std::size_t i = 0; i < named.size(); ++i) {
                            CHECK(shapes[i].first == named[i].first);
                            CHECK(shapes[i].second == named[i].second.shape());
                        }
                    }
        }
        SUBCASE("counts without listing, and refuses configs whose sizes do not fit") {
            GPTConfig c;
            c.n_layer = std::int64_t(1) << 40;
            CHECK(parameter_tensor_count(c) == 12 * (std::int64_t(1) << 40) + 4);
            c.n_layer = std::int64_t(1) << 62;
            CHECK_THROWS_WITH_AS(parameter_tensor_count(c),
                                 "GPTConfig: n_layer = 4611686018427387904 implies more than 2^63 "
                                 "parameter tensors",
                                 ConfigError);
            c = GPTConfig::xs();
            c.block_size = 4611686018427387906;
            CHECK_THROWS_WITH_AS(parameter_shapes(c),
                                 "Shape: (4611686018427387906, 128) has more than 2^48 elements",
                                 ShapeError);
            c = GPTConfig::xs();
            c.n_head = 1;
            c.n_embd = std::int64_t(1) << 61;
            CHECK_THROWS_WITH_AS(parameter_shapes(c),
                                 "Shape: (512, 2305843009213693952) has more than 2^48 elements",
                                 ShapeError);
            c.vocab_size = 0;
            CHECK_THROWS_WITH_AS(parameter_shapes(c),
                                 "GPTConfig: vocab_size must be at least 1, got 0", ConfigError);
        }
    }
}
