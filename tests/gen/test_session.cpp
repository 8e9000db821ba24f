#include "gen/session_test_util.hpp"

#include <ouro/core/error.hpp>
#include <ouro/core/parallel.hpp>
#include <ouro/gen/session.hpp>
#include <ouro/nn/context.hpp>

#include "alloc_counter.hpp"
#include "test_util.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <new>

using namespace ouro;
using namespace ouro::gen;
using namespace ouro::gen::testing;
using nn::PositionEncoding;

namespace {

// KV-cache logits against GPT::forward on the whole prefix: at most 1e-5 of the row's largest
// logit. Float sums in a different order differ by a few ulp per layer; a wrong position, a
// missing key or a stale value shows as 1e-2 or more.
constexpr double cache_tolerance = 1e-5;
// The naive decoder runs in double; float rounding through two layers stays far below this too.
constexpr double reference_tolerance = 1e-5;

const PositionEncoding encodings[] = {PositionEncoding::learned, PositionEncoding::rope,
                                      PositionEncoding::alibi};

} // namespace

TEST_SUITE("gen") {
    TEST_CASE("InferenceSession") {
        SUBCASE("KV-cache logits equal full recompute at every step for 300 steps") {
            // GPT-2 blocks with each position encoding; Llama blocks with plain, grouped-query and
            // multi-query attention, RoPE on interleaved pairs or ALiBi; GQA in a GPT-2 block.
            std::vector<std::pair<std::string, nn::GPTConfig>> configs;
            for (const PositionEncoding pe : encodings)
                configs.emplace_back(std::string("gpt2 ") + nn::to_string(pe),
                                     small_config(pe, 320));
            for (const std::int64_t kv : {4, 2, 1})
                configs.emplace_back("llama kv " + std::to_string(kv), small_llama_config(kv, 320));
            configs.emplace_back("llama alibi kv 2",
                                 small_llama_config(2, 320, PositionEncoding::alibi));
            nn::GPTConfig gqa = small_config(PositionEncoding::rope, 320);
            gqa.n_kv_head = 2;
            configs.emplace_back("gpt2 rope kv 2", gqa);
            for (const auto& entry : configs) {
                // Named references, not a structured binding: clang 14 cannot capture one.
                const std::string& label = entry.first;
                const nn::GPTConfig& config = entry.second;
                CAPTURE(label);
                const auto model = make_model(config, 11);
                Rng rng(5);
                const std::vector<std::int32_t> tokens = random_tokens(306, 67, rng);
                InferenceSession session(*model);
                session.prefill(0, std::span(tokens).first(6));
                double worst = scaled_error(session.logits(0),
                                            full_logits(*model, std::span(tokens).first(6)));
                for (std::int64_t t = 6; t < 306; ++t) {
                    const std::int32_t next = tokens[std::size_t(t)];
                    session.step({&next, 1});
                    worst =
                        std::max(worst, scaled_error(session.logits(0),
                                                     full_logits(*model, std::span(tokens).first(
                                                                             std::size_t(t + 1)))));
                }
                CHECK(session.length(0) == 306);
                CHECK(worst < cache_tolerance);
            }
        }

        SUBCASE("a sliding cache past block_size equals a recompute over the same window") {
            // One layer: each cached key and value depends on its own token and position only,
            // so a sliding window of 24 equals GPT::forward over the last 24 tokens (RoPE and
            // ALiBi see only distances).
            for (const PositionEncoding pe : {PositionEncoding::rope, PositionEncoding::alibi}) {
                CAPTURE(std::string(nn::to_string(pe)));
                const auto model = make_model(small_config(pe, 24, 1), 12);
                Rng rng(6);
                const std::vector<std::int32_t> tokens = random_tokens(300, 67, rng);
                InferenceSession session(*model, {.sliding = true});
                session.prefill(0, std::span(tokens).first(1));
                double worst = 0.0;
                for (std::int64_t t = 1; t < 300; ++t) {
                    const std::int32_t next = tokens[std::size_t(t)];
                    session.step({&next, 1});
                    const std::int64_t from = std::max<std::int64_t>(0, t + 1 - 24);
                    const std::vector<std::int32_t> window(tokens.begin() + from,
                                                           tokens.begin() + t + 1);
                    worst = std::max(worst,
                                     scaled_error(session.logits(0), full_logits(*model, window)));
                }
                CHECK(session.cached(0) == 24);
                CHECK(worst < cache_tolerance);
            }
        }

        SUBCASE("sliding windows and sinks match the naive decoder for 300 steps") {
            // Two layers: a cached key now depends on the tokens that were in the window when it
            // was computed, which a recompute over the window no longer sees; the naive decoder
            // keeps the same cache as the session, in double, with unrotated keys.
            for (const PositionEncoding pe : {PositionEncoding::rope, PositionEncoding::alibi})
                for (const std::int64_t sinks : {0, 4}) {
                    CAPTURE(std::string(nn::to_string(pe)));
                    CAPTURE(sinks);
                    const auto model = make_model(small_config(pe, 32), 13);
                    Rng rng(7);
                    const std::vector<std::int32_t> tokens = random_tokens(300, 67, rng);
                    InferenceSession session(*model, {.sliding = true, .sink_tokens = sinks});
                    ReferenceDecoder reference(*model, 32, true, sinks);
                    double worst = 0.0, worst_attention = 0.0;
                    for (std::int64_t t = 0; t < 300; ++t) {
                        const std::int32_t next = tokens[std::size_t(t)];
                        session.step({&next, 1});
                        const std::vector<float> expected = to_float(reference.feed(next));
                        worst = std::max(worst, scaled_error(session.logits(0), expected));
                        for (std::int64_t l = 0; l < 2; ++l)
                            for (std::int64_t h = 0; h < 4; ++h) {
                                const auto& w =
                                    reference.attention()[std::size_t(l)][std::size_t(h)];
                                const std::span<const float> got = session.attention(0, l).subspan(
                                    std::size_t(h) * w.size(), w.size());
                                worst_attention =
                                    std::max(worst_attention, scaled_error(got, to_float(w)));
                            }
                    }
                    CHECK(worst < reference_tolerance);
                    CHECK(worst_attention < reference_tolerance);
                    // The last token saw the sinks, then the 32 - sinks most recent positions.
                    const auto keys = session.key_positions(0);
                    REQUIRE(keys.size() == 32);
                    for (std::int64_t j = 0; j < sinks; ++j)
                        CHECK(keys[std::size_t(j)] == j);
                    CHECK(keys[std::size_t(sinks)] == 300 - (32 - sinks));
                    CHECK(keys.back() == 299);
                }
        }

        SUBCASE("sinks with one layer equal a recompute over the sinks and the window") {
            // StreamingLLM's positions are cache positions: with one layer the last token's
            // logits are those of GPT::forward over [first 4 tokens] + [last 20 tokens].
            for (const PositionEncoding pe : {PositionEncoding::rope, PositionEncoding::alibi}) {
                CAPTURE(std::string(nn::to_string(pe)));
                const auto model = make_model(small_config(pe, 24, 1), 14);
                Rng rng(8);
                const std::vector<std::int32_t> tokens = random_tokens(100, 67, rng);
                InferenceSession session(*model, {.sliding = true, .sink_tokens = 4});
                session.prefill(0, tokens);
                std::vector<std::int32_t> kept(tokens.begin(), tokens.begin() + 4);
                kept.insert(kept.end(), tokens.end() - 20, tokens.end());
                CHECK(scaled_error(session.logits(0), full_logits(*model, kept)) < cache_tolerance);
            }
        }

        SUBCASE("the last hidden state is the output of ln_f") {
            const auto model = make_model(small_config(PositionEncoding::rope, 64), 15);
            Rng rng(9);
            const std::vector<std::int32_t> tokens = random_tokens(20, 67, rng);
            InferenceSession session(*model);
            std::vector<float> all(20 * 32);
            session.prefill(0, tokens, all);
            std::vector<std::pair<std::string, VarF>> acts;
            NoGradGuard no_grad;
            TensorI idx({1, 20});
            std::copy(tokens.begin(), tokens.end(), idx.data());
            model->forward(idx, nn::ForwardContext<float>{.activations = &acts});
            const auto it = std::find_if(acts.begin(), acts.end(), [](const auto& a) {
                return a.first == "transformer.ln_f";
            });
            REQUIRE(it != acts.end());
            const std::span<const float> expected = it->second.value().values();
            CHECK(scaled_error(all, expected) < cache_tolerance);
            CHECK(same_bits(session.hidden(0), std::span(all).last(32)));
        }

        SUBCASE("prefill gives the same bits as one token at a time") {
            for (const PositionEncoding pe : encodings) {
                const auto model = make_model(small_config(pe, 80), 16);
                Rng rng(10);
                const std::vector<std::int32_t> tokens = random_tokens(75, 67, rng);
                // Chunks of 16 rows, the last one partial; and a prefill after a prefill.
                InferenceSession chunked(*model, {.prefill_chunk = 16});
                chunked.prefill(0, std::span(tokens).first(40));
                chunked.prefill(0, std::span(tokens).subspan(40));
                InferenceSession single(*model);
                for (const std::int32_t t : tokens)
                    single.step({&t, 1});
                CHECK(same_bits(chunked.logits(0), single.logits(0)));
                CHECK(same_bits(chunked.hidden(0), single.hidden(0)));
                CHECK(same_bits(chunked.attention(0, 1), single.attention(0, 1)));
            }
        }

        SUBCASE("a batch of 3 sequences at different lengths gives each one's logits alone") {
            for (const PositionEncoding pe : encodings) {
                CAPTURE(std::string(nn::to_string(pe)));
                const auto model = make_model(small_config(pe, 64), 17);
                Rng rng(11);
                const std::int64_t lengths[3] = {3, 17, 40};
                std::vector<std::vector<std::int32_t>> seqs;
                for (const std::int64_t n : lengths)
                    seqs.push_back(random_tokens(n + 5, 67, rng));
                InferenceSession batch(*model, {.batch_size = 3});
                for (std::int64_t b = 0; b < 3; ++b)
                    batch.prefill(b,
                                  std::span(seqs[std::size_t(b)]).first(std::size_t(lengths[b])));
                // Five steps; slot 1 skips the third.
                for (std::int64_t s = 0; s < 5; ++s) {
                    std::vector<std::int32_t> next(3);
                    for (std::int64_t b = 0; b < 3; ++b)
                        next[std::size_t(b)] = seqs[std::size_t(b)][std::size_t(batch.length(b))];
                    if (s == 2)
                        next[1] = InferenceSession::skip;
                    batch.step(next);
                }
                for (std::int64_t b = 0; b < 3; ++b) {
                    InferenceSession alone(*model);
                    const std::vector<std::int32_t>& seq = seqs[std::size_t(b)];
                    alone.prefill(0, std::span(seq).first(std::size_t(batch.length(b))));
                    CHECK(batch.length(b) == lengths[b] + (b == 1 ? 4 : 5));
                    CHECK(same_bits(batch.logits(b), alone.logits(0)));
                    CHECK(same_bits(batch.hidden(b), alone.hidden(0)));
                }
            }
        }

        SUBCASE("half-precision weights: close to float, same bits in any batch") {
            for (const PositionEncoding pe : encodings) {
                CAPTURE(std::string(nn::to_string(pe)));
                const auto model = make_model(small_config(pe, 64), 22);
                Rng rng(15);
                const std::vector<std::int32_t> a = random_tokens(40, 67, rng);
                const std::vector<std::int32_t> b = random_tokens(30, 67, rng);
                InferenceSession f32(*model);
                InferenceSession f16(*model, {.batch_size = 2, .half_weights = true});
                CHECK(f16.half_weights());
                f32.prefill(0, a);
                f16.prefill(1, b);
                f16.prefill(0, a);
                const double err = scaled_error(f16.logits(0), f32.logits(0));
                CHECK(err < 1e-2);
                CHECK(err > 1e-6); // the weights really are rounded
                InferenceSession alone(*model, {.half_weights = true});
                alone.prefill(0, b);
                CHECK(same_bits(alone.logits(0), f16.logits(1)));
                // A session that reads f16's copy: the same copy, the same bits.
                InferenceSession shared(*model, {.half_weights = true}, f16);
                CHECK(shared.half_copy() == f16.half_copy());
                CHECK(alone.half_copy() != f16.half_copy());
                shared.prefill(0, b);
                CHECK(same_bits(shared.logits(0), f16.logits(1)));
                // Without half weights the other session's copy is not read.
                const InferenceSession plain(*model, {}, f16);
                CHECK_FALSE(plain.half_weights());
                CHECK(plain.half_copy() == nullptr);
            }
        }

        SUBCASE("rejects sharing half weights with a session without them or of another model") {
            const auto model = make_model(small_config(PositionEncoding::rope, 64), 22);
            const auto other = make_model(small_config(PositionEncoding::rope, 64), 23);
            const InferenceSession f32(*model);
            const InferenceSession f16(*other, {.half_weights = true});
            CHECK_THROWS_WITH_AS(InferenceSession(*model, {.half_weights = true}, f32),
                                 "InferenceSession: the session to share half weights with has "
                                 "none",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(InferenceSession(*model, {.half_weights = true}, f16),
                                 "InferenceSession: the session to share half weights with was "
                                 "built from another model",
                                 ConfigError);
        }

        SUBCASE("bit-identical with 1 and 2 threads") {
            for (const PositionEncoding pe : encodings) {
                const auto model = make_model(small_config(pe, 64), 18);
                Rng rng(12);
                const std::vector<std::int32_t> tokens = random_tokens(60, 67, rng);
                auto run = [&](int threads, bool half) {
                    ThreadCountGuard guard(threads);
                    InferenceSession session(
                        *model, {.batch_size = 2, .prefill_chunk = 8, .half_weights = half});
                    session.prefill(0, std::span(tokens).first(30));
                    session.prefill(1, std::span(tokens).first(11));
                    for (std::int64_t t = 30; t < 60; ++t)
                        session.step(std::vector<std::int32_t>{tokens[std::size_t(t)],
                                                               tokens[std::size_t(t - 19)]});
                    std::vector<float> out(session.logits(0).begin(), session.logits(0).end());
                    out.insert(out.end(), session.logits(1).begin(), session.logits(1).end());
                    out.insert(out.end(), session.attention(1, 1).begin(),
                               session.attention(1, 1).end());
                    return out;
                };
                CHECK(same_bits(run(1, false), run(2, false)));
                CHECK(same_bits(run(1, true), run(2, true)));
            }
        }

        SUBCASE("attention weights and key positions of the new token") {
            const auto model = make_model(small_config(PositionEncoding::alibi, 64), 19);
            Rng rng(13);
            const std::vector<std::int32_t> tokens = random_tokens(10, 67, rng);
            InferenceSession session(*model);
            session.prefill(0, tokens);
            ReferenceDecoder reference(*model, 64, false, 0);
            for (const std::int32_t t : tokens)
                reference.feed(t);
            CHECK(session.cached(0) == 10);
            const auto keys = session.key_positions(0);
            CHECK(std::vector<std::int64_t>(keys.begin(), keys.end()) ==
                  std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
            for (std::int64_t l = 0; l < 2; ++l) {
                const std::span<const float> w = session.attention(0, l);
                REQUIRE(w.size() == 4 * 10);
                for (std::int64_t h = 0; h < 4; ++h) {
                    double sum = 0.0;
                    for (std::int64_t j = 0; j < 10; ++j)
                        sum += w[std::size_t(h * 10 + j)];
                    CHECK(sum == doctest::Approx(1.0).epsilon(1e-6));
                    CHECK(scaled_error(
                              w.subspan(std::size_t(h * 10), 10),
                              to_float(reference.attention()[std::size_t(l)][std::size_t(h)])) <
                          reference_tolerance);
                }
            }
        }

        SUBCASE("copy_slot forks a sequence; a partial copy resyncs slots in lockstep") {
            const auto model = make_model(small_config(PositionEncoding::rope, 16), 20);
            Rng rng(14);
            const std::vector<std::int32_t> tokens = random_tokens(30, 67, rng);
            InferenceSession session(*model, {.batch_size = 3, .sliding = true, .sink_tokens = 2});
            session.prefill(0, std::span(tokens).first(20)); // wrapped: 20 > 16
            session.copy_slot(0, 1);
            session.copy_slot(0, 2);
            // Slots 1 and 2 take different tokens; slot 2 then takes slot 1's entry.
            session.step(std::vector<std::int32_t>{InferenceSession::skip, 5, 6});
            session.copy_slot(1, 2, 1);
            session.step(std::vector<std::int32_t>{InferenceSession::skip, 7, 7});
            CHECK(same_bits(session.logits(1), session.logits(2)));
            InferenceSession alone(*model, {.sliding = true, .sink_tokens = 2});
            alone.prefill(0, std::span(tokens).first(20));
            alone.prefill(0, std::vector<std::int32_t>{5, 7});
            CHECK(same_bits(session.logits(2), alone.logits(0)));
            CHECK_THROWS_WITH_AS(session.copy_slot(0, 1, 1),
                                 "InferenceSession::copy_slot: slot 1 has length 22 and slot 0 "
                                 "has 20; copying the last tokens needs slots in lockstep",
                                 ConfigError);
        }

        SUBCASE("decoding a token allocates nothing") {
            for (const bool half : {false, true}) {
                const auto model = make_model(small_config(PositionEncoding::rope, 32), 23);
                InferenceSession session(
                    *model,
                    {.batch_size = 2, .sliding = true, .sink_tokens = 2, .half_weights = half});
                session.prefill(0, std::vector<std::int32_t>{1, 2, 3});
                const std::vector<std::int32_t> next = {4, 5};
                ThreadCountGuard threads(2);
                session.step(next); // the thread pool starts here
                const std::int64_t before = ouro::testing::allocations_so_far();
                for (int i = 0; i < 50; ++i) // past the context: the ring wraps
                    session.step(next);
                const std::int64_t during = ouro::testing::allocations_so_far() - before;
                CHECK(during == 0);
                const std::vector<int> counted(3); // the counter does count
                CHECK(ouro::testing::allocations_so_far() > before);
                CHECK(session.length(0) == 54);
            }
        }

        SUBCASE("rejects bad requests") {
            const auto learned = make_model(small_config(PositionEncoding::learned, 64), 21);
            const auto rope = make_model(small_config(PositionEncoding::rope, 64), 21);
            CHECK_THROWS_WITH_AS(InferenceSession(*learned, {.batch_size = 0}),
                                 "InferenceSession: batch_size must be at least 1, got 0",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(InferenceSession(*learned, {.context = 65}),
                                 "InferenceSession: context 65 is longer than block_size 64, and "
                                 "learned positions have no embedding past it",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(InferenceSession(*learned, {.sliding = true}),
                                 "InferenceSession: a sliding cache needs RoPE or ALiBi "
                                 "positions; this model has learned positions (use 'crop' or "
                                 "'stop')",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(
                InferenceSession(*rope, {.context = 8, .sliding = true, .sink_tokens = 8}),
                "InferenceSession: sink_tokens = 8 leaves no room for a sliding window in a "
                "context of 8",
                ConfigError);
            CHECK_THROWS_WITH_AS(InferenceSession(*rope, {.sink_tokens = 2}),
                                 "InferenceSession: sink_tokens = 2 needs a sliding cache",
                                 ConfigError);
            CHECK_NOTHROW(InferenceSession(*rope, {.context = 200})); // RoPE extrapolates

            InferenceSession s(*learned, {.batch_size = 2, .context = 8});
            const std::vector<std::int32_t> nine(9, 1), eight(8, 1);
            CHECK_THROWS_WITH_AS(s.prefill(0, std::span<const std::int32_t>()),
                                 "InferenceSession::prefill: no tokens for slot 0", ConfigError);
            CHECK_THROWS_WITH_AS(s.prefill(1, nine),
                                 "InferenceSession: slot 1 cannot take 9 tokens at position 0: "
                                 "its context holds 8 (use a sliding cache or crop the context)",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(s.prefill(0, std::vector<std::int32_t>{3, 67}),
                                 "InferenceSession: token 67 for slot 0 is outside the vocabulary "
                                 "[0, 67)",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(s.prefill(2, eight),
                                 "InferenceSession::prefill: slot 2 is outside [0, 2)",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(s.logits(0), "InferenceSession::logits: slot 0 holds no tokens",
                                 ConfigError);
            s.prefill(0, eight);
            CHECK_FALSE(s.can_feed(0));
            CHECK_THROWS_WITH_AS(s.step(std::vector<std::int32_t>{1, 1}),
                                 "InferenceSession: slot 0 is full: position 8 does not fit a "
                                 "context of 8 (use a sliding cache or crop the context)",
                                 ConfigError);
            CHECK(s.length(1) == 0); // nothing was fed
            CHECK_THROWS_WITH_AS(s.step(std::vector<std::int32_t>{1}),
                                 "InferenceSession::step: expected 2 tokens, one per slot (skip "
                                 "for none), got 1",
                                 ShapeError);
        }
    }
}
