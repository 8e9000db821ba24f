// run_concurrently: pieces side by side on one team, the decodes and teacher forcing inside them
// sharing it, with the numbers of one thread, bit for bit, for any thread count.
#include "gen/session_test_util.hpp"

#include <ouro/core/error.hpp>
#include <ouro/core/parallel.hpp>
#include <ouro/gen/concurrent.hpp>
#include <ouro/gen/decode.hpp>

#include <doctest/doctest.h>

#include <omp.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <vector>

using namespace ouro;
using namespace ouro::gen;
using namespace ouro::gen::testing;
using nn::PositionEncoding;

namespace {

// What a test needs of a decode to compare: tokens and the raw probability of each.
struct Decoded {
    std::vector<std::vector<std::int32_t>> tokens;
    std::vector<std::vector<double>> prob;
    bool operator==(const Decoded&) const = default;
};

Decoded summary(const std::vector<DecodedSequence>& out) {
    Decoded d;
    for (const DecodedSequence& s : out) {
        d.tokens.push_back(s.tokens);
        std::vector<double> p;
        for (const TraceRecord& r : s.trace)
            p.push_back(r.decision.prob_raw);
        d.prob.push_back(std::move(p));
    }
    return d;
}

std::vector<Decoder> decoders() {
    SamplerSettings top_k;
    top_k.top_k = 10;
    SamplerSettings greedy;
    greedy.greedy = true;
    return {Decoder::chain("top-k 10", top_k), Decoder::chain("greedy", greedy),
            Decoder::beam("beam 3", 3), Decoder::contrastive("contrastive", 3, 0.6)};
}

} // namespace

TEST_SUITE("gen") {
    TEST_CASE("run_concurrently") {
        const auto model = make_model(small_config(PositionEncoding::rope, 16), 41);
        const std::vector<std::vector<std::int32_t>> prompts{{1, 2, 3}, {4, 5},      {6},
                                                             {7, 8},    {9, 10, 11}, {12}};
        DecodeOptions opt;
        opt.max_new_tokens = 10;
        opt.context.policy = ContextPolicy::slide;
        opt.end_token = 9;
        opt.samples_per_prompt = 2;
        opt.seed = 5;
        const std::vector<std::vector<std::int32_t>> texts{
            {1, 2, 3, 4}, {5, 6}, {7, 8, 9, 10, 11}, {3, 3, 3}, {2, 4, 6, 8, 10, 12, 1}};
        const ContextOptions slide{.policy = ContextPolicy::slide, .context = 4};
        // One thread, one call after another: what every thread count must give.
        std::vector<Decoded> want;
        std::vector<std::vector<float>> want_logits(texts.size());
        {
            const ThreadCountGuard one(1);
            for (const Decoder& d : decoders())
                want.push_back(summary(decode(*model, d, prompts, opt)));
            teacher_force(
                *model, texts, slide, 2,
                [&](const InferenceSession& s, std::size_t i, std::size_t, std::int64_t slot) {
                    const std::span<const float> z = s.logits(slot);
                    want_logits[i].insert(want_logits[i].end(), z.begin(), z.end());
                });
        }

        SUBCASE("decode and teacher_force inside the pieces give one thread's numbers") {
            for (const int threads : {1, 2, 3}) {
                CAPTURE(threads);
                const ThreadCountGuard guard(threads);
                std::vector<Decoded> got(decoders().size());
                std::vector<std::vector<float>> logits(texts.size());
                std::vector<std::function<void()>> pieces;
                for (std::size_t k = 0; k < decoders().size(); ++k)
                    pieces.push_back(
                        [&, k] { got[k] = summary(decode(*model, decoders()[k], prompts, opt)); });
                pieces.push_back([&] {
                    teacher_force(*model, texts, slide, 2,
                                  [&](const InferenceSession& s, std::size_t i, std::size_t,
                                      std::int64_t slot) {
                                      const std::span<const float> z = s.logits(slot);
                                      logits[i].insert(logits[i].end(), z.begin(), z.end());
                                  });
                });
                run_concurrently(pieces);
                for (std::size_t k = 0; k < want.size(); ++k) {
                    CAPTURE(decoders()[k].name);
                    CHECK(got[k] == want[k]);
                }
                for (std::size_t i = 0; i < texts.size(); ++i)
                    CHECK(same_bits(logits[i], want_logits[i]));
            }
        }
        SUBCASE("every piece runs once, on the team's threads") {
            const ThreadCountGuard guard(2);
            std::vector<std::atomic<int>> runs(20);
            std::vector<std::function<void()>> pieces;
            std::mutex mutex;
            std::set<int> team_sizes;
            for (std::size_t k = 0; k < runs.size(); ++k)
                pieces.push_back([&, k] {
                    ++runs[k];
                    const std::lock_guard lock(mutex);
                    team_sizes.insert(omp_get_num_threads());
                });
            run_concurrently(pieces);
            for (std::size_t k = 0; k < runs.size(); ++k)
                CHECK(runs[k] == 1);
            CHECK(team_sizes == std::set<int>{2});
        }
        SUBCASE("a team of all the threads, however few the pieces") {
            // Two pieces on 4 threads: the other two threads take the pieces' groups of sequences.
            const ThreadCountGuard guard(4);
            std::vector<Decoded> got(2);
            std::set<int> team_sizes;
            std::mutex mutex;
            std::vector<std::function<void()>> pieces;
            for (std::size_t k = 0; k < 2; ++k)
                pieces.push_back([&, k] {
                    {
                        const std::lock_guard lock(mutex);
                        team_sizes.insert(omp_get_num_threads());
                    }
                    got[k] = summary(decode(*model, decoders()[k], prompts, opt));
                });
            run_concurrently(pieces);
            CHECK(team_sizes == std::set<int>{4});
            for (std::size_t k = 0; k < 2; ++k)
                CHECK(got[k] == want[k]);
        }
        SUBCASE("a piece's own pieces join the team") {
            const ThreadCountGuard guard(3);
            std::vector<Decoded> got(decoders().size());
            run_concurrently(
                {[&] {
                     run_concurrently(
                         {[&] { got[0] = summary(decode(*model, decoders()[0], prompts, opt)); },
                          [&] { got[1] = summary(decode(*model, decoders()[1], prompts, opt)); }});
                 },
                 [&] { got[2] = summary(decode(*model, decoders()[2], prompts, opt)); }});
            for (std::size_t k = 0; k < 3; ++k)
                CHECK(got[k] == want[k]);
        }
        SUBCASE("one thread, or inside another parallel region: the pieces in order") {
            for (const bool region : {false, true}) {
                CAPTURE(region);
                const ThreadCountGuard guard(region ? 2 : 1);
                std::vector<std::vector<int>> order(2);
#pragma omp parallel num_threads(2) if (region)
                {
                    std::vector<int>& mine = order[std::size_t(omp_get_thread_num())];
                    run_concurrently({[&] { mine.push_back(0); }, [&] { mine.push_back(1); },
                                      [&] { mine.push_back(2); }});
                }
                CHECK(order[0] == std::vector<int>{0, 1, 2});
                if (!order[1].empty())
                    CHECK(order[1] == std::vector<int>{0, 1, 2});
            }
        }
        SUBCASE("the exception of a piece, or of a decode inside one, comes out") {
            for (const int threads : {1, 2}) {
                CAPTURE(threads);
                const ThreadCountGuard guard(threads);
                std::atomic<int> ran{0};
                CHECK_THROWS_WITH_AS(
                    run_concurrently({[&] { ++ran; }, [] { throw IoError("piece 1 failed"); }}),
                    "piece 1 failed", IoError);
                DecodeOptions bad = opt;
                bad.decode = [](std::int32_t) -> std::string {
                    throw FormatError("no text for this token");
                };
                CHECK_THROWS_WITH_AS(
                    run_concurrently(
                        {[&] { decode(*model, decoders()[0], prompts, bad); }, [&] { ++ran; }}),
                    "no text for this token", FormatError);
                // The team is usable afterwards.
                std::vector<Decoded> got(1);
                run_concurrently(
                    {[&] { got[0] = summary(decode(*model, decoders()[1], prompts, opt)); }});
                CHECK(got[0] == want[1]);
            }
        }
    }
}
