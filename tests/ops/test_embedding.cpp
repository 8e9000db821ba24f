#include "test_util.hpp"

#include <ouro/autograd/backward.hpp>
#include <ouro/autograd/gradcheck.hpp>
#include <ouro/core/parallel.hpp>
#include <ouro/ops/embedding.hpp>

#include <doctest/doctest.h>

using namespace ouro;
using namespace ouro::ops;
using ouro::testing::random_tensor;

namespace {

TensorI random_ids(const Shape& shape, std::int64_t V, Rng& rng) {
    TensorI ids(shape);
    for (std::int64_t i = 0; i < ids.numel(); ++i)
        ids[i] = std::int32_t(rng.below(std::uint64_t(V)));
    return ids;
}

} // namespace

TEST_SUITE("ops") {
    TEST_CASE("embedding") {
        Rng rng(3);

        SUBCASE("forward matches reference") {
            const TensorF table = random_tensor<float>({7, 12}, rng);
            const TensorI ids = random_ids({2, 5}, 7, rng);
            const VarF out = embedding(ids, VarF(table));
            TensorF expected({2, 5, 12});
            embedding_reference(ids.data(), table.data(), expected.data(), 10, 12);
            CHECK(ouro::testing::bitwise_equal(out.value(), expected));
            // A scalar id gives one row of shape (C).
            CHECK(embedding(TensorI(Shape{}, 4), VarF(table)).shape() == Shape{12});
        }
        SUBCASE("a case worked by hand") {
            VarF table(TensorF({3, 2}, {1, 2, 3, 4, 5, 6}), true);
            const VarF out = embedding(TensorI({3}, {2, 0, 2}), table);
            CHECK(ouro::testing::bitwise_equal(out.value(), TensorF({3, 2}, {5, 6, 1, 2, 5, 6})));
            // Row 2 is used twice and collects both gradients; row 1 is unused.
            backward(out, TensorF({3, 2}, {1, 1, 10, 10, 100, 100}));
            CHECK(ouro::testing::bitwise_equal(table.grad(),
                                               TensorF({3, 2}, {10, 10, 0, 0, 101, 101})));
        }
        SUBCASE("gradient matches finite differences") {
            const TensorI ids({2, 4}, {1, 4, 1, 0, 3, 1, 4, 4});
            const auto r =
                gradcheck([&ids](const std::vector<VarD>& x) { return embedding(ids, x[0]); },
                          {random_tensor<double>({5, 3}, rng)}, {.atol = 1e-9, .rtol = 1e-7});
            CHECK_MESSAGE(r.ok, r.message);
        }
        SUBCASE("bit-identical with 1 and 2 threads") {
            // Many repeats of few ids, and a width that is not a multiple of the channel block.
            const TensorF table = random_tensor<float>({10, 100}, rng);
            const TensorI ids = random_ids({300}, 10, rng);
            const TensorF seed = random_tensor<float>({300, 100}, rng);
            ouro::testing::check_same_bits_at_1_and_2_threads([&] {
                VarF t(table, true);
                const VarF o = embedding(ids, t);
                backward(o, seed);
                return std::vector<TensorF>{o.value(), t.grad()};
            });
        }
        SUBCASE("rejects bad ids and shapes") {
            const VarF table(TensorF({64, 4}));
            CHECK_THROWS_WITH_AS(embedding(TensorI({5}, {1, 2, 3, 70, 5}), table),
                                 "embedding: id 70 at position 3 is outside [0, 64)", ConfigError);
            CHECK_THROWS_WITH_AS(embedding(TensorI({2, 2}, {0, 0, 0, -1}), table),
                                 "embedding: id -1 at position 3 is outside [0, 64)", ConfigError);
            CHECK_THROWS_WITH_AS(embedding(TensorI({2}), VarF(TensorF({64}))),
                                 "embedding: table must be (V, C), got (64)", ShapeError);
        }
    }
}
