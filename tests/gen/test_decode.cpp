#include "gen/session_test_util.hpp"

#include <ouro/core/error.hpp>
#include <ouro/gen/decode.hpp>
#include <ouro/gen/search.hpp>

#include <doctest/doctest.h>

#include <cmath>

using namespace ouro;
using namespace ouro::gen;
using namespace ouro::gen::testing;
using nn::PositionEncoding;

namespace {

// The raw probability of every generated token by a full forward pass over prompt + tokens.
std::vector<double> recomputed_probs(const nn::GPT<float>& model,
                                     const std::vector<std::int32_t>& prompt,
                                     const std::vector<std::int32_t>& tokens) {
    std::vector<std::int32_t> text = prompt;
    std::vector<double> out;
    for (const std::int32_t t : tokens) {
        const std::vector<float> z = full_logits(model, text);
        double zmax = -INFINITY, s = 0.0;
        for (const float v : z)
            zmax = std::max(zmax, double(v));
        for (const float v : z)
            s += std::exp(double(v) - zmax);
        out.push_back(std::exp(double(z[std::size_t(t)]) - zmax) / s);
        text.push_back(t);
    }
    return out;
}

} // namespace

TEST_SUITE("gen") {
    TEST_CASE("decode") {
        const auto model = make_model(small_config(PositionEncoding::rope, 16), 11);
        const std::vector<std::vector<std::int32_t>> prompts{{1, 2, 3}, {4, 5}};
        DecodeOptions opt;
        opt.max_new_tokens = 10;
        opt.context.policy = ContextPolicy::crop;
        opt.seed = 7;

        SUBCASE("a sampler chain: generate()'s tokens and trace, copy c of prompt p is c*P+p") {
            SamplerSettings s;
            s.top_k = 10;
            const Decoder d = Decoder::chain("top-k 10", s);
            opt.samples_per_prompt = 2;
            const std::vector<DecodedSequence> out = decode(*model, d, prompts, opt);
            REQUIRE(out.size() == 4);
            std::vector<std::vector<std::int32_t>> batch{prompts[0], prompts[1], prompts[0],
                                                         prompts[1]};
            std::vector<SamplerChain> chains(4, SamplerChain::from_settings(s));
            GenerateOptions g;
            g.max_new_tokens = 10;
            g.context = opt.context;
            g.seed = 7;
            InferenceSession session(*model, session_options(model->config, g.context, 4));
            const std::vector<GeneratedSequence> want =
                generate(session, std::span(chains), batch, g);
            for (std::size_t i = 0; i < 4; ++i) {
                CHECK(out[i].prompt_index == std::int64_t(i % 2));
                CHECK(out[i].tokens == want[i].tokens);
                REQUIRE(out[i].trace.size() == want[i].trace.size());
                for (std::size_t t = 0; t < out[i].trace.size(); ++t) {
                    CHECK(out[i].trace[t].decision.prob_raw == want[i].trace[t].decision.prob_raw);
                    CHECK(out[i].trace[t].decision.top_raw == want[i].trace[t].decision.top_raw);
                    CHECK(out[i].trace[t].sequence == std::int64_t(i));
                }
            }
            // A second run repeats the first.
            CHECK(decode(*model, d, prompts, opt)[3].tokens == out[3].tokens);
        }
        SUBCASE("temperature 0 is greedy: one sequence per prompt whatever samples_per_prompt") {
            SamplerSettings s;
            s.temperature = 0.0;
            const Decoder t0 = Decoder::chain("T=0", s);
            CHECK(!t0.samples());
            CHECK(is_greedy(s));
            s.temperature = 0.5;
            CHECK(!is_greedy(s));
            CHECK(Decoder::chain("T=0.5", s).samples());
            s.greedy = true;
            CHECK(is_greedy(s));
            opt.samples_per_prompt = 3;
            const std::vector<DecodedSequence> out = decode(*model, t0, prompts, opt);
            REQUIRE(out.size() == 2);
            const std::vector<DecodedSequence> greedy =
                decode(*model, Decoder::chain("greedy", s), prompts, opt);
            CHECK(out[0].tokens == greedy[0].tokens);
            CHECK(out[1].tokens == greedy[1].tokens);
            CHECK(t0.slots(2, 3) == 2);
            CHECK(Decoder::chain("T=1", {}).slots(2, 3) == 6);
            CHECK(Decoder::beam("b", 5).slots(2, 3) == 5);
            CHECK(Decoder::contrastive("c", 3, 0.5).slots(2, 3) == 3);
        }
        SUBCASE("beam search: the hypotheses, every token scored by teacher forcing") {
            Decoder d = Decoder::beam("beam 3", 3);
            d.hypotheses = 2;
            opt.end_token = 0;
            const std::vector<DecodedSequence> out = decode(*model, d, prompts, opt);
            REQUIRE(out.size() == 4);
            const BeamSearchOptions b{
                .beams = 3, .max_new_tokens = 10, .end_token = 0, .context = opt.context};
            for (std::size_t p = 0; p < 2; ++p) {
                const std::vector<BeamHypothesis> hyps = beam_search(*model, prompts[p], b);
                for (std::size_t h = 0; h < 2; ++h) {
                    const DecodedSequence& s = out[p * 2 + h];
                    CHECK(s.prompt_index == std::int64_t(p));
                    CHECK(s.tokens == hyps[h].tokens);
                    CHECK(s.log_prob == hyps[h].log_prob);
                    CHECK(s.score == hyps[h].score);
                    REQUIRE(s.trace.size() == s.tokens.size());
                    const std::vector<double> want = recomputed_probs(*model, prompts[p], s.tokens);
                    double log_prob = 0.0;
                    for (std::size_t t = 0; t < s.trace.size(); ++t) {
                        const TraceRecord& r = s.trace[t];
                        CHECK(r.token == s.tokens[t]);
                        CHECK(r.step == std::int64_t(t));
                        CHECK(r.position == std::int64_t(prompts[p].size() + t));
                        CHECK(r.decision.prob_raw == doctest::Approx(want[t]).epsilon(1e-4));
                        CHECK(r.decision.prob_final == r.decision.prob_raw);
                        CHECK(r.decision.top_raw.size() == 5);
                        CHECK(std::isfinite(r.p_end));
                        log_prob += std::log(r.decision.prob_raw);
                    }
                    CHECK(log_prob == doctest::Approx(s.log_prob).epsilon(1e-6));
                }
            }
        }
        SUBCASE("contrastive search: its tokens, changed_by and text; statistics as the search's") {
            const Decoder d = Decoder::contrastive("contrastive", 4, 0.6);
            const auto bracketed = [](std::int32_t id) {
                std::string s = "<";
                s += std::to_string(id);
                s += '>';
                return s;
            };
            opt.decode = bracketed;
            std::vector<std::int32_t> seen;
            opt.on_token = [&](const TraceRecord& r) { seen.push_back(r.token); };
            const std::vector<DecodedSequence> out = decode(*model, d, prompts, opt);
            REQUIRE(out.size() == 2);
            const ContrastiveOptions c{
                .top_k = 4, .alpha = 0.6, .max_new_tokens = 10, .context = opt.context};
            std::vector<std::int32_t> all;
            for (std::size_t p = 0; p < 2; ++p) {
                const GeneratedSequence want = contrastive_search(*model, prompts[p], c);
                CHECK(out[p].tokens == want.tokens);
                REQUIRE(out[p].trace.size() == want.trace.size());
                std::string text;
                for (std::size_t t = 0; t < want.trace.size(); ++t) {
                    const TraceRecord& r = out[p].trace[t];
                    CHECK(r.decision.changed_by == want.trace[t].decision.changed_by);
                    CHECK(r.decision.prob_raw ==
                          doctest::Approx(want.trace[t].decision.prob_raw).epsilon(1e-5));
                    CHECK(r.decision.rank_raw == want.trace[t].decision.rank_raw);
                    CHECK(r.text == bracketed(r.token));
                    text += r.text;
                }
                CHECK(out[p].text == text);
                all.insert(all.end(), want.tokens.begin(), want.tokens.end());
            }
            CHECK(seen == all); // on_token saw every token, in order
        }
        SUBCASE("without the trace: the same tokens, no records") {
            opt.trace = false;
            opt.decode = [](std::int32_t id) { return std::to_string(id) + " "; };
            DecodeOptions with = opt;
            with.trace = true;
            for (const Decoder& d : {Decoder::chain("T=1", {}), Decoder::beam("beam 2", 2),
                                     Decoder::contrastive("contrastive", 3, 0.5)}) {
                const std::vector<DecodedSequence> out = decode(*model, d, prompts, opt);
                const std::vector<DecodedSequence> want = decode(*model, d, prompts, with);
                REQUIRE(out.size() == want.size());
                for (std::size_t i = 0; i < out.size(); ++i) {
                    CHECK(out[i].trace.empty());
                    CHECK(out[i].tokens == want[i].tokens);
                    CHECK(out[i].text == want[i].text);
                    CHECK(want[i].trace.size() == want[i].tokens.size());
                }
            }
        }
        SUBCASE("alternatives: how many top tokens every record lists") {
            for (const std::int64_t n : {0, 1, 9}) {
                opt.alternatives = n;
                for (const Decoder& d : {Decoder::chain("T=1", {}), Decoder::beam("beam 2", 2),
                                         Decoder::contrastive("contrastive", 3, 0.5)}) {
                    const std::vector<DecodedSequence> out = decode(*model, d, prompts, opt);
                    for (const DecodedSequence& s : out)
                        for (const TraceRecord& r : s.trace)
                            CHECK(r.decision.top_raw.size() == std::size_t(n));
                }
            }
        }
        SUBCASE("the session is built from the options' context policy, or reused") {
            SamplerSettings greedy;
            greedy.greedy = true;
            const Decoder d = Decoder::chain("greedy", greedy);
            InferenceSession session = decode_session(*model, d, opt, 2);
            CHECK(session.batch_size() == 2);
            CHECK(!session.sliding());
            CHECK(decode(session, d, prompts, opt)[1].tokens ==
                  decode(*model, d, prompts, opt)[1].tokens);
            DecodeOptions slide = opt;
            slide.context.policy = ContextPolicy::slide;
            slide.half_weights = true;
            const InferenceSession s2 = decode_session(*model, d, slide, 2);
            CHECK(s2.sliding());
            CHECK(s2.half_weights());
            // A session for another policy is refused.
            CHECK_THROWS_WITH_AS(decode(session, d, prompts, slide),
                                 "generate: the session does not fit the 'slide' policy (build it "
                                 "with gen::session_options)",
                                 ConfigError);
        }
        SUBCASE("rejects bad requests") {
            const Decoder chain = Decoder::chain("T=1", {});
            CHECK_THROWS_WITH_AS(decode(*model, chain, {}, opt), "decode: no prompts", ConfigError);
            DecodeOptions o = opt;
            o.samples_per_prompt = 0;
            CHECK_THROWS_WITH_AS(decode(*model, chain, prompts, o),
                                 "decode: samples_per_prompt must be at least 1, got 0",
                                 ConfigError);
            o = opt;
            o.alternatives = -1;
            CHECK_THROWS_WITH_AS(decode(*model, chain, prompts, o),
                                 "decode: alternatives must be at least 0, got -1", ConfigError);
            Decoder beam = Decoder::beam("beam 4", 4);
            beam.hypotheses = 5;
            CHECK_THROWS_WITH_AS(decode(*model, beam, prompts, opt),
                                 "decode: hypotheses must be in [1, 4] (the beams), got 5",
                                 ConfigError);
            beam.hypotheses = 1;
            o = opt;
            o.stop_strings = {"x"};
            o.decode = [](std::int32_t) { return std::string("a"); };
            CHECK_THROWS_WITH_AS(decode(*model, beam, prompts, o),
                                 "decode: stop strings are not available with beam search (it "
                                 "ranks whole hypotheses)",
                                 ConfigError);
            o = opt;
            o.end_of_text = EndOfText::new_story;
            CHECK_THROWS_WITH_AS(decode(*model, Decoder::contrastive("c", 2, 0.5), prompts, o),
                                 "decode: end of text 'new_story' is not available with "
                                 "contrastive search",
                                 ConfigError);
            o = opt;
            o.context.policy = ContextPolicy::stop;
            const std::vector<std::vector<std::int32_t>> long_prompt{
                {1}, std::vector<std::int32_t>(17, 3)};
            CHECK_THROWS_WITH_AS(decode(*model, beam, long_prompt, o),
                                 "decode: prompt 1 has 17 tokens, more than the context of 16 "
                                 "under the 'stop' policy (use crop, slide or sinks)",
                                 ConfigError);
            const auto learned = make_model(small_config(PositionEncoding::learned, 16), 3);
            o = opt;
            o.context.policy = ContextPolicy::sinks;
            CHECK_THROWS_WITH_AS(decode(*learned, chain, prompts, o),
                                 "generate: the 'sinks' policy needs RoPE or ALiBi positions; this "
                                 "model has learned positions (use 'crop' or 'stop')",
                                 ConfigError);
            SamplerChain chain_of = SamplerChain::from_settings({});
            CHECK(chain_of.alternatives() == 5);
            CHECK_THROWS_WITH_AS(chain_of.set_alternatives(-1),
                                 "sampler: alternatives must be >= 0, got -1", ConfigError);
            SamplerSettings bad;
            bad.top_p = 1.5;
            CHECK_THROWS_WITH_AS(decode(*model, Decoder::chain("bad", bad), prompts, opt),
                                 "sampler: top_p must be in (0, 1], got 1.5", ConfigError);
        }
    }

    TEST_CASE("teacher_force") {
        const auto model = make_model(small_config(PositionEncoding::alibi, 8), 5);
        const std::vector<std::vector<std::int32_t>> texts{{1, 2, 3, 4}, {5, 6}, {7, 8, 9}};
        SUBCASE("calls score once per predicted token, in order, with the model's logits") {
            InferenceSession session(*model, session_options(model->config, {}, 2));
            std::vector<std::vector<std::size_t>> calls(texts.size());
            teacher_force(session, texts, {}, [&](std::size_t i, std::size_t t, std::int64_t slot) {
                calls[i].push_back(t);
                const std::vector<float> want = full_logits(*model, std::span(texts[i]).first(t));
                CHECK(scaled_error(session.logits(slot), want) < 1e-5);
            });
            CHECK(calls[0] == std::vector<std::size_t>{1, 2, 3});
            CHECK(calls[1] == std::vector<std::size_t>{1});
            CHECK(calls[2] == std::vector<std::size_t>{1, 2});
        }
        SUBCASE("rejects a text shorter than 2 tokens") {
            InferenceSession session(*model, session_options(model->config, {}, 1));
            const std::vector<std::vector<std::int32_t>> bad{{1, 2}, {3}};
            CHECK_THROWS_WITH_AS(
                teacher_force(session, bad, {}, [](std::size_t, std::size_t, std::int64_t) {}),
                "teacher_force: text 1 has 1 token; need at least 2", ConfigError);
        }
    }

    TEST_CASE("context rules") {
        SUBCASE("a prompt longer than the context under stop") {
            CHECK_NOTHROW(check_prompt_fits(ContextPolicy::stop, 16, 16, "x"));
            for (const ContextPolicy p :
                 {ContextPolicy::crop, ContextPolicy::slide, ContextPolicy::sinks})
                CHECK_NOTHROW(check_prompt_fits(p, 100, 16, "x"));
            CHECK_THROWS_WITH_AS(check_prompt_fits(ContextPolicy::stop, 17, 16, "prompt 2"),
                                 "prompt 2 has 17 tokens, more than the context of 16 under the "
                                 "'stop' policy (use crop, slide or sinks)",
                                 ConfigError);
        }
        SUBCASE("sliding needs RoPE or ALiBi") {
            CHECK(can_slide(small_config(PositionEncoding::rope, 8)));
            CHECK(can_slide(small_config(PositionEncoding::alibi, 8)));
            CHECK(!can_slide(small_config(PositionEncoding::learned, 8)));
            CHECK_NOTHROW(require_sliding_positions(small_config(PositionEncoding::rope, 8), "x"));
            CHECK_THROWS_WITH_AS(
                require_sliding_positions(small_config(PositionEncoding::learned, 8),
                                          "a sliding thing"),
                "a sliding thing needs RoPE or ALiBi positions; this model has learned positions "
                "(use 'crop' or 'stop')",
                ConfigError);
        }
    }
}
