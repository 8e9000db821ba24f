#include "data/data_test_util.hpp"

#include <ouro/core/error.hpp>
#include <ouro/data/batch_loader.hpp>

#include <doctest/doctest.h>

#include <numeric>
#include <set>

using namespace ouro;
using namespace ouro::data;
using ouro::testing::TempDir;

namespace {

// A shard whose tokens are first, first + 1, ..., so a window shows where it came from.
std::filesystem::path counting_shard(const TempDir& dir, const std::string& name,
                                     std::int32_t first, std::int32_t count) {
    std::vector<std::int32_t> tokens(static_cast<std::size_t>(count));
    std::iota(tokens.begin(), tokens.end(), first);
    write_shard(dir / name, tokens);
    return dir / name;
}

std::vector<std::int32_t> values(const TensorI& t) {
    return {t.data(), t.data() + t.numel()};
}

} // namespace

TEST_SUITE("data") {
    TEST_CASE("BatchLoader") {
        TempDir dir;
        const auto a = counting_shard(dir, "a.bin", 0, 21);
        const auto b = counting_shard(dir, "b.bin", 1000, 30);

        SUBCASE("sequential batches walk the shards in order and wrap around") {
            BatchLoader loader({a, b}, 2, 4, Sampling::sequential);
            CHECK(loader.num_tokens() == 51);
            // a: (21 - 1) / 8 = 2 batches; b: (30 - 1) / 8 = 3 batches.
            CHECK(loader.batches_per_epoch() == 5);
            TensorI x, y;
            loader.next(x, y);
            CHECK(x.shape() == Shape{2, 4});
            CHECK(values(x) == std::vector<std::int32_t>{0, 1, 2, 3, 4, 5, 6, 7});
            CHECK(values(y) == std::vector<std::int32_t>{1, 2, 3, 4, 5, 6, 7, 8});
            loader.next(x, y);
            CHECK(values(x) == std::vector<std::int32_t>{8, 9, 10, 11, 12, 13, 14, 15});
            CHECK(values(y).back() == 16);
            // The 4 tokens left in a (17..20) do not make a batch: on to b.
            loader.next(x, y);
            CHECK(values(x).front() == 1000);
            loader.next(x, y);
            CHECK(loader.position().epoch == 0);
            loader.next(x, y);
            CHECK(values(x).front() == 1016);
            CHECK(values(y).back() == 1024);
            // Back to the start of a: a new epoch.
            const LoaderPosition p = loader.position();
            CHECK(p.shard == 0);
            CHECK(p.offset == 0);
            CHECK(p.epoch == 1);
            CHECK(p.batches == 5);
            loader.next(x, y);
            CHECK(values(x).front() == 0);
        }
        SUBCASE("batches reuse the caller's tensors") {
            BatchLoader loader({a}, 2, 4, Sampling::sequential);
            TensorI x({2, 4}), y({2, 4});
            const std::int32_t* px = x.data();
            loader.next(x, y);
            CHECK(x.data() == px);
            const auto batch = loader.next();
            CHECK(values(batch.inputs).front() == 8);
        }
        SUBCASE("random windows: whole windows of one shard, deterministic for a seed") {
            BatchLoader loader({a, b}, 8, 5, Sampling::random, 42);
            std::set<std::int32_t> starts;
            std::vector<std::vector<std::int32_t>> first_run;
            for (int step = 0; step < 50; ++step) {
                const auto batch = loader.next();
                CHECK(batch.inputs.shape() == Shape{8, 5});
                const auto x = values(batch.inputs), y = values(batch.targets);
                for (std::size_t row = 0; row < 8; ++row) {
                    const std::int32_t s = x[row * 5];
                    starts.insert(s);
                    // Consecutive tokens of one shard, and the targets one further.
                    for (std::size_t t = 0; t < 5; ++t) {
                        CHECK(x[row * 5 + t] == s + std::int32_t(t));
                        CHECK(y[row * 5 + t] == s + std::int32_t(t) + 1);
                    }
                    CHECK(((s >= 0 && s + 5 <= 20) || (s >= 1000 && s + 5 <= 1029)));
                }
                first_run.push_back(x);
            }
            // 16 windows in a and 25 in b: after 400 draws every one has come up.
            CHECK(starts.size() == 41);
            BatchLoader same({a, b}, 8, 5, Sampling::random, 42);
            BatchLoader other({a, b}, 8, 5, Sampling::random, 43);
            CHECK(values(same.next().inputs) == first_run[0]);
            CHECK(values(other.next().inputs) != first_run[0]);
            loader.reset();
            CHECK(values(loader.next().inputs) == first_run[0]);
        }
        SUBCASE("a saved position continues with the same batches") {
            for (Sampling sampling : {Sampling::sequential, Sampling::random}) {
                BatchLoader loader({a, b}, 2, 4, sampling, 7);
                for (int i = 0; i < 3; ++i)
                    loader.next();
                const LoaderPosition saved = loader.position();
                std::vector<std::vector<std::int32_t>> expected;
                for (int i = 0; i < 6; ++i)
                    expected.push_back(values(loader.next().targets));
                BatchLoader resumed({a, b}, 2, 4, sampling, 7);
                resumed.set_position(saved);
                CHECK(resumed.position() == saved);
                for (int i = 0; i < 6; ++i)
                    CHECK(values(resumed.next().targets) == expected[std::size_t(i)]);
                CHECK(resumed.position() == loader.position());
            }
        }
        SUBCASE("rejects bad settings and positions") {
            CHECK_THROWS_WITH_AS(BatchLoader({}, 2, 4, Sampling::random),
                                 "BatchLoader: no shards given", ConfigError);
            CHECK_THROWS_WITH_AS(BatchLoader({a}, 0, 4, Sampling::random),
                                 "BatchLoader: B and T must be positive, got B = 0, T = 4",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(BatchLoader({b, a}, 2, 11, Sampling::sequential),
                                 ("BatchLoader: " + a.string() +
                                  " holds 21 tokens, fewer than the B*T+1 = 23 of one batch")
                                     .c_str(),
                                 ConfigError);
            CHECK_THROWS_WITH_AS(BatchLoader({a, b}, 1, 30, Sampling::random),
                                 "BatchLoader: no shard holds the T+1 = 31 tokens of one sequence",
                                 ConfigError);
            BatchLoader loader({a, b}, 2, 4, Sampling::sequential);
            CHECK_THROWS_WITH_AS(loader.set_position({.shard = 2}),
                                 "BatchLoader::set_position: shard 2 out of range (2 shards)",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(loader.set_position({.shard = 0, .offset = 13}),
                                 ("BatchLoader::set_position: offset 13 in " + a.string() +
                                  " (21 tokens) leaves no room for a batch of B*T+1 = 9 tokens")
                                     .c_str(),
                                 ConfigError);
            CHECK_THROWS_AS(BatchLoader({dir / "missing.bin"}, 2, 4, Sampling::random), IoError);
        }
    }
}
