// decode() and teacher_force() over the threads: groups of sequences in sessions of their own give
// the same numbers, bit for bit, as one batch, for any thread count.
#include "gen/session_test_util.hpp"

#include <ouro/core/error.hpp>
#include <ouro/core/parallel.hpp>
#include <ouro/gen/decode.hpp>

#include <doctest/doctest.h>

#include <omp.h>

#include <string>

using namespace ouro;
using namespace ouro::gen;
using namespace ouro::gen::testing;
using nn::PositionEncoding;

namespace {

std::string token_text(std::int32_t token) {
    std::string text = std::to_string(token);
    text += ' ';
    return text;
}

void check_same(const std::vector<DecodedSequence>& got, const std::vector<DecodedSequence>& want) {
    REQUIRE(got.size() == want.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
        CAPTURE(i);
        CHECK(got[i].prompt_index == want[i].prompt_index);
        CHECK(got[i].tokens == want[i].tokens);
        CHECK(got[i].finish == want[i].finish);
        CHECK(got[i].text == want[i].text);
        CHECK(got[i].stop_index == want[i].stop_index);
        CHECK(got[i].log_prob == want[i].log_prob);
        CHECK(got[i].score == want[i].score);
        REQUIRE(got[i].trace.size() == want[i].trace.size());
        for (std::size_t t = 0; t < got[i].trace.size(); ++t) {
            const TraceRecord &a = got[i].trace[t], &b = want[i].trace[t];
            CHECK(a.sequence == std::int64_t(i));
            CHECK(a.sequence == b.sequence);
            CHECK(a.step == b.step);
            CHECK(a.position == b.position);
            CHECK(a.context == b.context);
            CHECK(a.token == b.token);
            CHECK(a.text == b.text);
            CHECK(a.repeats == b.repeats);
            CHECK(a.p_end == b.p_end);
            CHECK(a.decision.prob_raw == b.decision.prob_raw);
            CHECK(a.decision.prob_final == b.decision.prob_final);
            CHECK(a.decision.entropy_raw == b.decision.entropy_raw);
            CHECK(a.decision.top_raw == b.decision.top_raw);
            CHECK(a.decision.changed_by == b.decision.changed_by);
        }
    }
}

std::vector<Decoder> every_kind() {
    SamplerSettings top_k;
    top_k.top_k = 10;
    SamplerSettings greedy;
    greedy.greedy = true;
    Decoder beam = Decoder::beam("beam 3", 3);
    beam.hypotheses = 2;
    return {Decoder::chain("top-k 10", top_k), Decoder::chain("greedy", greedy), beam,
            Decoder::contrastive("contrastive", 3, 0.6)};
}

} // namespace

TEST_SUITE("gen") {
    TEST_CASE("decode over threads") {
        const auto model = make_model(small_config(PositionEncoding::rope, 16), 23);
        const std::vector<std::vector<std::int32_t>> prompts{{1, 2, 3}, {4, 5}, {6}, {7, 8}};
        DecodeOptions opt;
        opt.max_new_tokens = 12;
        opt.context.policy = ContextPolicy::slide;
        opt.end_token = 9; // sequences end at different steps
        opt.samples_per_prompt = 3;
        opt.seed = 99;
        opt.decode = token_text;

        SUBCASE("every decoder gives one batch's sequences with 1, 2 and 3 threads") {
            for (const Decoder& d : every_kind()) {
                CAPTURE(d.name);
                InferenceSession session =
                    decode_session(*model, d, opt, std::int64_t(prompts.size()));
                const std::vector<DecodedSequence> want = decode(session, d, prompts, opt);
                for (const int threads : {1, 2, 3}) {
                    CAPTURE(threads);
                    const ThreadCountGuard guard(threads);
                    check_same(decode(*model, d, prompts, opt), want);
                }
            }
        }
        SUBCASE("half weights: one batch's sequences with 1, 2 and 3 threads (one shared copy)") {
            DecodeOptions half = opt;
            half.half_weights = true;
            const Decoder d = every_kind()[0];
            InferenceSession session =
                decode_session(*model, d, half, std::int64_t(prompts.size()));
            REQUIRE(session.half_weights());
            const std::vector<DecodedSequence> want = decode(session, d, prompts, half);
            for (const int threads : {1, 2, 3}) {
                CAPTURE(threads);
                const ThreadCountGuard guard(threads);
                check_same(decode(*model, d, prompts, half), want);
            }
        }
        SUBCASE("on_token sees every record once, each sequence in order, sequences in order") {
            const ThreadCountGuard guard(2);
            for (const Decoder& d : every_kind()) {
                CAPTURE(d.name);
                std::vector<TraceRecord> seen;
                DecodeOptions o = opt;
                o.on_token = [&](const TraceRecord& r) { seen.push_back(r); };
                const std::vector<DecodedSequence> out = decode(*model, d, prompts, o);
                std::size_t total = 0;
                for (const DecodedSequence& s : out)
                    total += s.trace.size();
                REQUIRE(seen.size() == total);
                std::vector<std::size_t> next(out.size(), 0); // records of each sequence seen
                std::int64_t newest = -1;                     // the last sequence begun
                for (const TraceRecord& r : seen) {
                    REQUIRE(r.sequence >= 0);
                    REQUIRE(r.sequence < std::int64_t(out.size()));
                    std::size_t& k = next[std::size_t(r.sequence)];
                    if (k == 0) {
                        CHECK(r.sequence == newest + 1);
                        newest = r.sequence;
                    }
                    REQUIRE(k < out[std::size_t(r.sequence)].trace.size());
                    CHECK(r.token == out[std::size_t(r.sequence)].trace[k].token);
                    CHECK(r.step == out[std::size_t(r.sequence)].trace[k].step);
                    ++k;
                }
            }
        }
        SUBCASE("without a trace on_token still sees the chain's tokens") {
            const ThreadCountGuard guard(2);
            DecodeOptions o = opt;
            o.trace = false;
            std::size_t seen = 0;
            o.on_token = [&](const TraceRecord&) { ++seen; };
            const std::vector<DecodedSequence> out = decode(*model, every_kind()[0], prompts, o);
            std::size_t total = 0;
            for (const DecodedSequence& s : out) {
                CHECK(s.trace.empty());
                total += s.tokens.size();
            }
            CHECK(seen == total);
        }
        SUBCASE("a callback that throws ends the run with its exception") {
            const ThreadCountGuard guard(2);
            DecodeOptions o = opt;
            int calls = 0;
            o.decode = [&](std::int32_t token) -> std::string {
                if (++calls == 7)
                    throw IoError("decode callback failed");
                return token_text(token);
            };
            CHECK_THROWS_WITH_AS(decode(*model, every_kind()[0], prompts, o),
                                 "decode callback failed", IoError);
        }
        SUBCASE("inside a parallel region each caller decodes on its own thread") {
            const Decoder d = every_kind()[0];
            InferenceSession session = decode_session(*model, d, opt, std::int64_t(prompts.size()));
            const std::vector<DecodedSequence> want = decode(session, d, prompts, opt);
            const ThreadCountGuard guard(2);
            std::vector<std::vector<DecodedSequence>> got(2);
            std::vector<int> team(2, 0);
#pragma omp parallel num_threads(2)
            {
                const int t = omp_get_thread_num();
                // The inner passes run on one thread: no nested team.
                got[std::size_t(t)] = decode(*model, d, prompts, opt);
                team[std::size_t(t)] = omp_get_num_threads();
            }
            for (std::size_t t = 0; t < 2; ++t)
                if (team[t] > 0)
                    check_same(got[t], want);
        }
    }

    TEST_CASE("teacher_force over threads") {
        const auto model = make_model(small_config(PositionEncoding::alibi, 8), 31);
        const std::vector<std::vector<std::int32_t>> texts{
            {1, 2, 3, 4}, {5, 6}, {7, 8, 9, 10, 11}, {3, 3, 3}, {2, 4, 6, 8, 10, 12, 1}};
        const ContextOptions slide{.policy = ContextPolicy::slide, .context = 4};
        // logits[text][t - 1]: the prediction of token t.
        using Logits = std::vector<std::vector<std::vector<float>>>;
        InferenceSession session(*model, session_options(model->config, slide, 2));
        Logits want(texts.size());
        teacher_force(session, texts, slide, [&](std::size_t i, std::size_t, std::int64_t slot) {
            const std::span<const float> z = session.logits(slot);
            want[i].emplace_back(z.begin(), z.end());
        });

        SUBCASE("the session overload's logits, bit for bit, with 1, 2 and 3 threads") {
            for (const int threads : {1, 2, 3}) {
                for (const std::int64_t batch : {1, 2, 16}) {
                    CAPTURE(threads);
                    CAPTURE(batch);
                    const ThreadCountGuard guard(threads);
                    Logits got(texts.size());
                    std::vector<std::vector<std::size_t>> order(texts.size());
                    teacher_force(*model, texts, slide, batch,
                                  [&](const InferenceSession& s, std::size_t i, std::size_t t,
                                      std::int64_t slot) {
                                      const std::span<const float> z = s.logits(slot);
                                      got[i].emplace_back(z.begin(), z.end());
                                      order[i].push_back(t);
                                  });
                    for (std::size_t i = 0; i < texts.size(); ++i) {
                        REQUIRE(got[i].size() == want[i].size());
                        for (std::size_t t = 0; t < got[i].size(); ++t) {
                            CHECK(order[i][t] == t + 1);
                            CHECK(same_bits(got[i][t], want[i][t]));
                        }
                    }
                }
            }
        }
        SUBCASE("rejects a batch size below 1 and a short text") {
            const auto nothing = [](const InferenceSession&, std::size_t, std::size_t,
                                    std::int64_t) {};
            CHECK_THROWS_WITH_AS(teacher_force(*model, texts, slide, 0, nothing),
                                 "teacher_force: batch_size must be at least 1, got 0",
                                 ConfigError);
            const std::vector<std::vector<std::int32_t>> bad{{1, 2}, {3, 4}, {5}};
            CHECK_THROWS_WITH_AS(teacher_force(*model, bad, slide, 2, nothing),
                                 "teacher_force: text 2 has 1 token; need at least 2", ConfigError);
        }
    }
}
