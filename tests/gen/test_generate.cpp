#include "gen/session_test_util.hpp"

#include <ouro/core/parallel.hpp>
#include <ouro/gen/generate.hpp>

#include "test_util.hpp"

#include <doctest/doctest.h>

#include <fstream>

using namespace ouro;
using namespace ouro::gen;
using namespace ouro::gen::testing;
using nn::PositionEncoding;

namespace {

std::int32_t argmax(std::span<const float> logits) {
    return std::int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

// Greedy decoding the nanoGPT way: a full forward pass over the last `context` tokens per token.
std::vector<std::int32_t> naive_greedy(const nn::GPT<float>& model,
                                       std::vector<std::int32_t> tokens, std::int64_t n,
                                       std::int64_t context) {
    std::vector<std::int32_t> out;
    for (std::int64_t i = 0; i < n; ++i) {
        const std::int64_t from = std::max<std::int64_t>(0, std::int64_t(tokens.size()) - context);
        const std::vector<std::int32_t> window(tokens.begin() + from, tokens.end());
        out.push_back(argmax(full_logits(model, window)));
        tokens.push_back(out.back());
    }
    return out;
}

// Returns the tokens of a script, one per call, whatever the logits (reset() restarts it).
struct Scripted {
    std::vector<std::int32_t> script;
    std::size_t next = 0;
    void reset() { next = 0; }
    std::int32_t sample(std::span<const float>, std::span<const std::int32_t>, Rng&,
                        TokenDecision* d) {
        const std::int32_t token = script[next++ % script.size()];
        if (d)
            d->token = token;
        return token;
    }
};

// Token texts for the stop-string tests; ids past the table decode to "".
std::string story_piece(std::int32_t id) {
    static const char* pieces[] = {"Once",    " up",  "on a", " time",        ".", "\n", "\n",
                                   "The end", "\xC3", "\xA9", "<|endoftext|>"};
    return id < 11 ? pieces[id] : "";
}

GenerateOptions options(std::int64_t max_new, ContextPolicy policy = ContextPolicy::stop) {
    GenerateOptions o;
    o.max_new_tokens = max_new;
    o.context.policy = policy;
    return o;
}

} // namespace

TEST_SUITE("gen") {
    TEST_CASE("generate") {
        SUBCASE("greedy tokens equal the argmax of full recomputes") {
            const auto model = make_model(small_config(PositionEncoding::learned, 64), 31);
            const std::vector<std::int32_t> prompt = {3, 1, 4, 1, 5};
            Greedy greedy;
            const GeneratedSequence out = generate(*model, greedy, prompt, options(40));
            CHECK(out.tokens == naive_greedy(*model, prompt, 40, 64));
            CHECK(out.finish == FinishReason::max_tokens);
            CHECK(greedy.resets == 1);
            REQUIRE(out.trace.size() == 40);
            for (std::int64_t i = 0; i < 40; ++i) {
                const TraceRecord& r = out.trace[std::size_t(i)];
                CHECK(r.step == i);
                CHECK(r.position == 5 + i);
                CHECK(r.context == 5 + i);
                CHECK(r.token == out.tokens[std::size_t(i)]);
                CHECK(r.decision.token == r.token);
                CHECK(std::isnan(r.p_end));
            }
        }

        SUBCASE("same seed and settings give the same tokens with 1 and 2 threads, alone or "
                "batched") {
            const auto model = make_model(small_config(PositionEncoding::rope, 64), 32);
            const std::vector<std::vector<std::int32_t>> prompts = {{1, 2, 3}, {9}, {4, 4, 4, 4}};
            GenerateOptions o = options(30);
            o.seed = 77;
            auto run = [&](int threads) {
                ThreadCountGuard guard(threads);
                InferenceSession session(*model, session_options(model->config, o.context, 3));
                std::vector<Sampler> samplers(3);
                return generate(session, std::span<Sampler>(samplers), prompts, o);
            };
            const auto one = run(1), two = run(2);
            for (std::size_t i = 0; i < 3; ++i)
                CHECK(one[i].tokens == two[i].tokens);
            // Sequence 2 alone draws from the same Rng stream as in the batch.
            InferenceSession alone(*model, session_options(model->config, o.context, 1));
            Sampler sampler;
            const auto single = generate(alone, std::span<Sampler>(&sampler, 1), {prompts[0]}, o);
            CHECK(single[0].tokens == one[0].tokens);
            // A different seed gives a different sample.
            o.seed = 78;
            InferenceSession other(*model, session_options(model->config, o.context, 1));
            CHECK(generate(other, std::span<Sampler>(&sampler, 1), {prompts[0]}, o)[0].tokens !=
                  one[0].tokens);
        }

        SUBCASE("stop: the last token sits at position context") {
            const auto model = make_model(small_config(PositionEncoding::learned, 16), 33);
            const std::vector<std::int32_t> prompt = {1, 2, 3, 4, 5, 6};
            Greedy greedy;
            const GeneratedSequence out = generate(*model, greedy, prompt, options(100));
            // Positions 6 .. 16: the token at 16 is predicted from positions 0 .. 15.
            CHECK(out.tokens.size() == 11);
            CHECK(out.finish == FinishReason::context_full);
            CHECK(out.trace.back().position == 16);
            CHECK(out.trace.back().context == 16);
            CHECK(out.tokens == naive_greedy(*model, prompt, 11, 16));
            // No limit but the context: the reservation for INT64_MAX tokens used to throw
            // std::length_error before the first token.
            CHECK(generate(*model, greedy, prompt, options(INT64_MAX)).tokens == out.tokens);
            // A prompt that fills the context still gives one token.
            const std::vector<std::int32_t> full(16, 7);
            CHECK(generate(*model, greedy, full, options(5)).tokens.size() == 1);
        }

        SUBCASE("crop: every token past the context is a recompute over the last block_size") {
            const auto model = make_model(small_config(PositionEncoding::learned, 16), 34);
            const std::vector<std::int32_t> prompt = {1, 2, 3, 4, 5, 6};
            Greedy greedy;
            const GeneratedSequence out =
                generate(*model, greedy, prompt, options(30, ContextPolicy::crop));
            CHECK(out.tokens == naive_greedy(*model, prompt, 30, 16));
            CHECK(out.finish == FinishReason::max_tokens);
            CHECK(out.trace[9].context == 15);
            CHECK(out.trace[10].context == 16);
            CHECK(out.trace[29].context == 16);
            CHECK(out.trace[29].position == 35);
            // A prompt longer than the context is cropped to its last 16 tokens.
            std::vector<std::int32_t> long_prompt(20);
            for (std::size_t i = 0; i < 20; ++i)
                long_prompt[i] = std::int32_t(i * 3 % 67);
            const GeneratedSequence cropped =
                generate(*model, greedy, long_prompt, options(5, ContextPolicy::crop));
            CHECK(cropped.tokens == naive_greedy(*model, long_prompt, 5, 16));
        }

        SUBCASE("slide and sinks: the loop feeds a sliding session past block_size") {
            const auto model = make_model(small_config(PositionEncoding::alibi, 16), 35);
            const std::vector<std::int32_t> prompt = {1, 2, 3};
            for (const ContextPolicy policy : {ContextPolicy::slide, ContextPolicy::sinks}) {
                CAPTURE(std::string(to_string(policy)));
                GenerateOptions o = options(40, policy);
                o.context.sink_tokens = 2;
                InferenceSession session(*model, session_options(model->config, o.context, 1));
                Greedy greedy;
                const auto out = generate(session, std::span<Greedy>(&greedy, 1), {prompt}, o);
                CHECK(out[0].tokens.size() == 40);
                CHECK(out[0].trace.back().context == 16);
                // The same tokens fed by hand into a session with the same cache.
                InferenceSession manual(
                    *model,
                    {.sliding = true, .sink_tokens = policy == ContextPolicy::sinks ? 2 : 0});
                manual.prefill(0, prompt);
                std::vector<std::int32_t> expected;
                for (int i = 0; i < 40; ++i) {
                    expected.push_back(argmax(manual.logits(0)));
                    manual.step({&expected.back(), 1});
                }
                CHECK(out[0].tokens == expected);
                // The last token fed saw the sinks (if any) and the most recent positions.
                const auto keys = session.key_positions(0);
                CHECK(keys.size() == 16);
                CHECK(keys.back() == 3 + 38);
                CHECK(keys.front() == (policy == ContextPolicy::sinks ? 0 : 3 + 38 - 15));
            }
        }

        SUBCASE("end of text: stop, ignore and new_story") {
            const auto model = make_model(small_config(PositionEncoding::rope, 64), 36);
            const std::vector<std::int32_t> prompt = {5, 6, 7};
            Greedy greedy;
            const GeneratedSequence plain = generate(*model, greedy, prompt, options(30));
            // Call the token greedy decoding picks at step 4 the end of text (its first use).
            const std::int32_t end = plain.tokens[4];
            const auto first =
                std::find(plain.tokens.begin(), plain.tokens.end(), end) - plain.tokens.begin();
            GenerateOptions o = options(30);
            o.end_token = end;

            const GeneratedSequence stopped = generate(*model, greedy, prompt, o);
            CHECK(stopped.finish == FinishReason::end_of_text);
            CHECK(std::int64_t(stopped.tokens.size()) == first + 1);
            CHECK(stopped.tokens.back() == end);
            CHECK(std::vector<std::int32_t>(plain.tokens.begin(),
                                            plain.tokens.begin() + first + 1) == stopped.tokens);
            // p_end is the raw probability of the end token.
            const std::vector<float> raw = full_logits(*model, prompt);
            double sum = 0.0, m = *std::max_element(raw.begin(), raw.end());
            for (float z : raw)
                sum += std::exp(double(z) - m);
            CHECK(stopped.trace[0].p_end ==
                  doctest::Approx(std::exp(double(raw[std::size_t(end)]) - m) / sum).epsilon(1e-5));

            o.end_of_text = EndOfText::ignore;
            const GeneratedSequence ignored = generate(*model, greedy, prompt, o);
            CHECK(ignored.tokens.size() == 30);
            CHECK(std::find(ignored.tokens.begin(), ignored.tokens.end(), end) ==
                  ignored.tokens.end());
            CHECK(ignored.trace[std::size_t(first)].p_end > 0.0);
            CHECK(ignored.tokens[std::size_t(first)] != end);

            // new_story feeds the end token like any other: the tokens of plain decoding.
            o.end_of_text = EndOfText::new_story;
            const GeneratedSequence stories = generate(*model, greedy, prompt, o);
            CHECK(stories.tokens == plain.tokens);
            CHECK(stories.finish == FinishReason::max_tokens);
            CHECK(stories.trace[std::size_t(first)].story == 0);
            CHECK(stories.trace[std::size_t(first) + 1].story == 1);
        }

        SUBCASE("n-gram flags, text and the callback") {
            const auto model = make_model(small_config(PositionEncoding::alibi, 64), 37);
            GenerateOptions o = options(3);
            o.decode = [](std::int32_t t) { return std::to_string(t).append("!"); };
            std::vector<std::int64_t> streamed;
            o.on_token = [&](const TraceRecord& r) { streamed.push_back(r.token); };
            o.trace = false;
            Greedy greedy;
            const GeneratedSequence out = generate(*model, greedy, std::vector<std::int32_t>{1}, o);
            CHECK(out.trace.empty());
            CHECK(std::vector<std::int64_t>(out.tokens.begin(), out.tokens.end()) == streamed);

            // repeats[n - 1]: the n-gram ending at the last token occurred before.
            TraceRecord r;
            r.token = 2;
            const std::vector<std::int32_t> history = {1, 2, 3, 9, 1, 2, 3, 1, 2};
            gen::detail::fill_record(r, std::vector<float>(67, 0.0f), history, o);
            CHECK(r.text == "2!");
            CHECK(r.repeats == std::array<bool, 4>{true, true, false, false});
            const std::vector<std::int32_t> fresh = {1, 2, 3, 9, 1, 2, 3, 9, 1, 2, 3};
            gen::detail::fill_record(r, std::vector<float>(67, 0.0f), fresh, o);
            CHECK(r.repeats == std::array<bool, 4>{true, true, true, true});
            gen::detail::fill_record(r, std::vector<float>(67, 0.0f), std::vector<std::int32_t>{4},
                                     o);
            CHECK(r.repeats == std::array<bool, 4>{false, false, false, false});
        }

        SUBCASE("stop strings: across tokens, several, the earliest wins, not in the prompt") {
            const auto model = make_model(small_config(PositionEncoding::rope, 64), 39);
            GenerateOptions o = options(20);
            o.decode = story_piece;
            std::vector<std::int32_t> streamed;
            o.on_token = [&](const TraceRecord& r) { streamed.push_back(r.token); };
            const std::vector<std::int32_t> prompt = {4};
            auto run = [&](std::vector<std::int32_t> script,
                           const std::vector<std::string>& stops) {
                Scripted chooser{std::move(script)};
                o.stop_strings = stops;
                streamed.clear();
                return generate(*model, chooser, prompt, o);
            };

            // "upon" spans " up" and "on a": the third token ends the sequence.
            GeneratedSequence out = run({0, 1, 2, 3, 4}, {"upon"});
            CHECK(out.finish == FinishReason::stop_string);
            CHECK(out.tokens == std::vector<std::int32_t>{0, 1, 2});
            CHECK(out.text == "Once ");
            CHECK(out.stop_index == 0);
            CHECK(streamed == out.tokens); // the callback saw the token that completed it
            REQUIRE(out.trace.size() == 3);
            CHECK(out.trace[2].text == "on a");

            // Both complete with "on a"; "upon" starts first.
            out = run({0, 1, 2, 3, 4}, {"n a", "upon", "time"});
            CHECK(out.tokens.size() == 3);
            CHECK(out.stop_index == 1);
            CHECK(out.text == "Once ");
            // "time" completes first, however early the others would start.
            out = run({0, 3, 1, 2}, {"upon", "time"});
            CHECK(out.tokens == std::vector<std::int32_t>{0, 3});
            CHECK(out.text == "Once ");
            CHECK(out.stop_index == 1);

            // A blank line out of two "\n" tokens; a character split over two byte tokens.
            out = run({7, 5, 6, 0}, {"\n\n"});
            CHECK(out.text == "The end");
            CHECK(out.tokens.size() == 3);
            out = run({0, 8, 9, 3}, {"\xC3\xA9"});
            CHECK(out.text == "Once");
            CHECK(out.tokens.size() == 3);

            // Only the generated text counts: "upon" in the prompt, or begun in it, does not.
            Scripted chooser{{2, 3, 4}};
            o.stop_strings = {"upon", "."};
            out = generate(*model, chooser, std::vector<std::int32_t>{0, 1, 2, 1}, o);
            CHECK(out.tokens == std::vector<std::int32_t>{2, 3, 4});
            CHECK(out.text == "on a time");
            CHECK(out.stop_index == 1);

            // No stop string found: max_tokens, and the whole text.
            out = run({0, 1, 3}, {"The end"});
            CHECK(out.finish == FinishReason::max_tokens);
            CHECK(out.tokens.size() == 20);
            CHECK(out.stop_index == -1);
            CHECK(out.text.substr(0, 16) == "Once up timeOnce");

            // An end token that completes a stop string ends with stop_string.
            o.end_token = 10;
            out = run({0, 10}, {"Once<|end"});
            CHECK(out.finish == FinishReason::stop_string);
            CHECK(out.text == "");
            out = run({0, 10}, {"upon"});
            CHECK(out.finish == FinishReason::end_of_text);
            CHECK(out.text == "Once<|endoftext|>");
            o.end_token = -1;

            // Batched: each sequence stops on its own, with its own text.
            InferenceSession session(*model, session_options(model->config, o.context, 2));
            std::vector<Scripted> choosers{{{0, 1, 2, 3}}, {{3, 4, 7}}};
            o.stop_strings = {"The end", "on a"};
            const std::vector<GeneratedSequence> both =
                generate(session, std::span<Scripted>(choosers), {{4}, {4}}, o);
            CHECK(both[0].tokens.size() == 3);
            CHECK(both[0].text == "Once up");
            CHECK(both[0].stop_index == 1);
            CHECK(both[1].tokens.size() == 3);
            CHECK(both[1].text == " time.");
            CHECK(both[1].stop_index == 0);
            const std::vector<TraceRecord> records = all_records(both);
            CHECK(records.size() == 6);
        }

        SUBCASE("rejects bad requests") {
            const auto learned = make_model(small_config(PositionEncoding::learned, 16), 38);
            Greedy greedy;
            const std::vector<std::int32_t> seventeen(17, 1);
            CHECK_THROWS_WITH_AS(
                generate(*learned, greedy, std::vector<std::int32_t>{}, options(5)),
                "generate: prompt 0 is empty", ConfigError);
            CHECK_THROWS_WITH_AS(generate(*learned, greedy, seventeen, options(5)),
                                 "generate: prompt 0 has 17 tokens, more than the context of 16 "
                                 "under the 'stop' policy (use crop, slide or sinks)",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(
                generate(*learned, greedy, seventeen, options(5, ContextPolicy::slide)),
                "generate: the 'slide' policy needs RoPE or ALiBi positions; this model has "
                "learned positions (use 'crop' or 'stop')",
                ConfigError);
            CHECK_THROWS_WITH_AS(
                generate(*learned, greedy, seventeen, options(5, ContextPolicy::sinks)),
                "generate: the 'sinks' policy needs RoPE or ALiBi positions; this model has "
                "learned positions (use 'crop' or 'stop')",
                ConfigError);
            CHECK_THROWS_WITH_AS(
                InferenceSession(*learned, session_options(learned->config, {}, 0)),
                "InferenceSession: batch_size must be at least 1, got 0", ConfigError);
            GenerateOptions o = options(-1);
            CHECK_THROWS_WITH_AS(generate(*learned, greedy, std::vector<std::int32_t>{1}, o),
                                 "generate: max_new_tokens must be at least 0, got -1",
                                 ConfigError);
            o = options(5);
            o.end_token = 67;
            CHECK_THROWS_WITH_AS(generate(*learned, greedy, std::vector<std::int32_t>{1}, o),
                                 "generate: end_token 67 is outside the vocabulary [0, 67) (-1 "
                                 "for none)",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(
                generate(*learned, greedy, std::vector<std::int32_t>{1, 99}, options(5)),
                "generate: prompt 0 has token 99 at index 1, outside the "
                "vocabulary [0, 67)",
                ConfigError);
            InferenceSession two(*learned, session_options(learned->config, {}, 2));
            std::vector<Greedy> choosers(2);
            CHECK_THROWS_WITH_AS(generate(two, std::span<Greedy>(choosers), {}, options(5)),
                                 "generate: no prompts", ConfigError);
            CHECK_THROWS_WITH_AS(
                generate(two, std::span<Greedy>(choosers), {{1}, {2}, {3}}, options(5)),
                "generate: 2 choosers for 3 prompts (one per prompt)", ConfigError);
            std::vector<Greedy> three(3);
            CHECK_THROWS_WITH_AS(
                generate(two, std::span<Greedy>(three), {{1}, {2}, {3}}, options(5)),
                "generate: 3 prompts for a session of 2 slots", ConfigError);
            CHECK_THROWS_WITH_AS(generate(two, std::span<Greedy>(choosers), {{1}, {}}, options(5)),
                                 "generate: prompt 1 is empty", ConfigError);
            const auto rope = make_model(small_config(PositionEncoding::rope, 16), 38);
            InferenceSession fixed(*rope, {.batch_size = 2});
            CHECK_THROWS_WITH_AS(generate(fixed, std::span<Greedy>(choosers), {{1}, {2}},
                                          options(5, ContextPolicy::slide)),
                                 "generate: the session does not fit the 'slide' policy (build it "
                                 "with gen::session_options)",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(parse_context_policy("window"),
                                 "context policy: unknown value 'window' (expected stop, crop, "
                                 "slide or sinks)",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(parse_end_of_text("skip"),
                                 "end of text: unknown value 'skip' (expected stop, ignore or "
                                 "new_story)",
                                 ConfigError);
            o = options(5);
            o.stop_strings = {"a", ""};
            o.decode = story_piece;
            CHECK_THROWS_WITH_AS(generate(*learned, greedy, std::vector<std::int32_t>{1}, o),
                                 "stop strings: string 1 is empty", ConfigError);
            o.stop_strings = {"a"};
            o.decode = nullptr;
            CHECK_THROWS_WITH_AS(generate(*learned, greedy, std::vector<std::int32_t>{1}, o),
                                 "generate: stop strings need a decode function (the text of a "
                                 "token)",
                                 ConfigError);
            CHECK(std::string(to_string(FinishReason::stop_string)) == "stop_string");
            CHECK(parse_context_policy("sinks") == ContextPolicy::sinks);
            CHECK(parse_end_of_text("new_story") == EndOfText::new_story);
        }
    }
}
