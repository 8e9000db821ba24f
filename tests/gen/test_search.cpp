#include "gen/session_test_util.hpp"

#include <ouro/gen/search.hpp>

#include <doctest/doctest.h>

#include <Eigen/Eigenvalues>

#include <numeric>

using namespace ouro;
using namespace ouro::gen;
using namespace ouro::gen::testing;
using nn::PositionEncoding;

namespace {

// A GPT that is a bigram model with the symmetric logit table M: the logits after token t are
// row t of M, whatever came before. One block whose two c_proj are zero (the block is the
// identity), and embeddings e_v = [u_v, -u_v] of mean 0 and variance 1, so that ln_f leaves them
// alone: with ln_f's weight s * sign(lambda_i) on the eigen-directions i of M = Q diag(lambda)
// Q^T and u_v[i] = Q[v, i] sqrt(|lambda_i| / 2s), the tied LM head gives e_t . (w * e_v) = M[t, v].
// The other V channels of u pad each row to norm^2 = K and carry weight 0. Everything is then
// scaled by sigma = 100 (ln_f's weight divided by it), so that LayerNorm's eps changes nothing.
std::unique_ptr<nn::GPT<float>> bigram_model(const Eigen::MatrixXd& M) {
    const std::int64_t V = M.rows(), K = 2 * V, C = 2 * K;
    nn::GPTConfig c = nn::GPTConfig::gpt2(V, 16, 1, 2, C);
    c.position = PositionEncoding::alibi;
    Rng rng(1);
    auto model = std::make_unique<nn::GPT<float>>(c, rng);
    model->eval();
    for (auto& [name, p] : model->named_parameters())
        if (name.find("c_proj") != std::string::npos)
            p.value().zero();
    const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(M);
    const double s = 100.0, sigma = 100.0;
    TensorF& wte = model->wte->weight.value();
    TensorF& w = model->ln_f->weight.value();
    model->ln_f->bias.value().zero();
    w.zero();
    for (std::int64_t v = 0; v < V; ++v) {
        double norm2 = 0.0;
        for (std::int64_t i = 0; i < K; ++i) {
            double u = 0.0;
            if (i < V) {
                const double lambda = eig.eigenvalues()[i];
                u = eig.eigenvectors()(v, i) * std::sqrt(std::abs(lambda) / (2 * s));
                w[i] = w[K + i] = float((lambda < 0 ? -s : s) / sigma);
            }
            wte[v * C + i] = float(sigma * u);
            wte[v * C + K + i] = float(-sigma * u);
            norm2 += u * u;
        }
        REQUIRE(norm2 < double(K));
        const double pad = std::sqrt(double(K) - norm2);
        wte[v * C + V + v] = float(sigma * pad);
        wte[v * C + K + V + v] = float(-sigma * pad);
    }
    return model;
}

// Tokens: 0 start, 1 A, 2 B, 3 C. From the start A is a little more likely than B; after A
// everything is about equally likely; after B, C is almost certain. Greedy takes A and then
// ~0.27; beam search finds B, C.
Eigen::MatrixXd bigram_table() {
    Eigen::MatrixXd M(4, 4);
    M << -10.0, 0.1, -0.1, -10.0, //
        0.1, 0.0, 0.0, 0.0,       //
        -0.1, 0.0, -10.0, 5.0,    //
        -10.0, 0.0, 5.0, 0.0;
    return M;
}

double log_prob(const Eigen::MatrixXd& M, std::int64_t from, std::int64_t to) {
    const Eigen::VectorXd row = M.row(from).transpose();
    const double m = row.maxCoeff();
    return row[to] - m - std::log((row.array() - m).exp().sum());
}

// The total log-probability of `tokens` after `prompt`, from full recomputes.
double sequence_log_prob(const nn::GPT<float>& model, std::vector<std::int32_t> prompt,
                         const std::vector<std::int32_t>& tokens) {
    double total = 0.0;
    for (const std::int32_t t : tokens) {
        const std::vector<float> z = full_logits(model, prompt);
        const double m = *std::max_element(z.begin(), z.end());
        double sum = 0.0;
        for (float v : z)
            sum += std::exp(double(v) - m);
        total += double(z[std::size_t(t)]) - m - std::log(sum);
        prompt.push_back(t);
    }
    return total;
}

std::vector<std::int32_t> greedy_tokens(const nn::GPT<float>& model,
                                        const std::vector<std::int32_t>& prompt, std::int64_t n,
                                        std::int32_t end = -1) {
    Greedy greedy;
    GenerateOptions o;
    o.max_new_tokens = n;
    o.end_token = end;
    return generate(model, greedy, prompt, o).tokens;
}

} // namespace

TEST_SUITE("gen") {
    TEST_CASE("beam_search") {
        SUBCASE("the hand-made bigram model gives the table's logits") {
            const Eigen::MatrixXd M = bigram_table();
            const auto model = bigram_model(M);
            for (std::int32_t t = 0; t < 4; ++t) {
                const std::vector<float> z = full_logits(*model, std::vector<std::int32_t>{2, t});
                for (std::int64_t v = 0; v < 4; ++v)
                    CHECK(double(z[std::size_t(v)]) == doctest::Approx(M(t, v)).epsilon(1e-4));
            }
        }

        SUBCASE("beam search finds the path greedy decoding misses") {
            const Eigen::MatrixXd M = bigram_table();
            const auto model = bigram_model(M);
            const std::vector<std::int32_t> prompt = {0};
            CHECK(greedy_tokens(*model, prompt, 2) == std::vector<std::int32_t>{1, 0});
            const auto hyps = beam_search(*model, prompt, {.beams = 2, .max_new_tokens = 2});
            REQUIRE(hyps.size() == 2);
            CHECK(hyps[0].tokens == std::vector<std::int32_t>{2, 3});
            CHECK_FALSE(hyps[0].finished);
            const double best = log_prob(M, 0, 2) + log_prob(M, 2, 3);
            CHECK(hyps[0].log_prob == doctest::Approx(best).epsilon(1e-5));
            CHECK(hyps[0].score == doctest::Approx(best / 2).epsilon(1e-5));
            const double greedy = log_prob(M, 0, 1) + log_prob(M, 1, 0);
            CHECK(hyps[0].log_prob > greedy + 0.5);
            // The second beam is the best path through A.
            CHECK(hyps[1].tokens == std::vector<std::int32_t>{1, 0});
            CHECK(hyps[1].log_prob == doctest::Approx(greedy).epsilon(1e-5));
        }

        SUBCASE("an end token finishes a hypothesis, scored with its length") {
            const Eigen::MatrixXd M = bigram_table();
            const auto model = bigram_model(M);
            // C is the end of text: B then C is a finished story.
            const auto hyps = beam_search(*model, std::vector<std::int32_t>{0},
                                          {.beams = 2, .max_new_tokens = 4, .end_token = 3});
            REQUIRE(!hyps.empty());
            CHECK(hyps[0].tokens == std::vector<std::int32_t>{2, 3});
            CHECK(hyps[0].finished);
            const double lp = log_prob(M, 0, 2) + log_prob(M, 2, 3);
            CHECK(hyps[0].score == doctest::Approx(lp / 2).epsilon(1e-5));
            // length_penalty 0 ranks by total log-probability.
            const auto total = beam_search(
                *model, std::vector<std::int32_t>{0},
                {.beams = 2, .max_new_tokens = 4, .length_penalty = 0.0, .end_token = 3});
            CHECK(total[0].score == doctest::Approx(total[0].log_prob));
        }

        SUBCASE("one beam is greedy decoding") {
            for (const PositionEncoding pe : {PositionEncoding::learned, PositionEncoding::rope}) {
                const auto model = make_model(small_config(pe, 64), 41);
                const std::vector<std::int32_t> prompt = {7, 8, 9};
                const auto hyps = beam_search(*model, prompt, {.beams = 1, .max_new_tokens = 25});
                REQUIRE(hyps.size() == 1);
                CHECK(hyps[0].tokens == greedy_tokens(*model, prompt, 25));
                CHECK(hyps[0].log_prob ==
                      doctest::Approx(sequence_log_prob(*model, prompt, hyps[0].tokens))
                          .epsilon(1e-5));
                // With an end token that greedy decoding reaches at step 6.
                const std::int32_t end = greedy_tokens(*model, prompt, 25)[6];
                const auto ended = beam_search(
                    *model, prompt, {.beams = 1, .max_new_tokens = 25, .end_token = end});
                CHECK(ended[0].tokens == greedy_tokens(*model, prompt, 25, end));
                CHECK(ended[0].finished);
            }
        }

        SUBCASE("hypotheses are sorted, scored and have the log-probabilities of the model") {
            const auto model = make_model(small_config(PositionEncoding::alibi, 64), 42);
            const std::vector<std::int32_t> prompt = {1, 2};
            const std::int32_t end = greedy_tokens(*model, prompt, 10)[3];
            const auto hyps = beam_search(
                *model, prompt,
                {.beams = 4, .max_new_tokens = 12, .length_penalty = 0.7, .end_token = end});
            REQUIRE(hyps.size() == 4);
            for (std::size_t i = 0; i < hyps.size(); ++i) {
                const BeamHypothesis& h = hyps[i];
                if (i > 0)
                    CHECK(hyps[i - 1].score >= h.score);
                CHECK(h.finished == (h.tokens.back() == end));
                CHECK(std::count(h.tokens.begin(), h.tokens.end(), end) == (h.finished ? 1 : 0));
                CHECK(h.score ==
                      doctest::Approx(h.log_prob / std::pow(double(h.tokens.size()), 0.7)));
                CHECK(h.log_prob ==
                      doctest::Approx(sequence_log_prob(*model, prompt, h.tokens)).epsilon(1e-5));
            }
        }

        SUBCASE("rejects bad requests") {
            const auto model = make_model(small_config(PositionEncoding::learned, 16), 43);
            const std::vector<std::int32_t> prompt = {1};
            CHECK_THROWS_WITH_AS(beam_search(*model, prompt, {.beams = 0}),
                                 "beam_search: beams must be at least 1, got 0", ConfigError);
            CHECK_THROWS_WITH_AS(beam_search(*model, prompt, {.max_new_tokens = 0}),
                                 "beam_search: max_new_tokens must be at least 1, got 0",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(beam_search(*model, std::vector<std::int32_t>{}, {}),
                                 "beam_search: the prompt is empty", ConfigError);
            CHECK_THROWS_WITH_AS(beam_search(*model, std::vector<std::int32_t>(17, 1), {}),
                                 "beam_search: the prompt has 17 tokens, more than the context "
                                 "of 16 under the 'stop' policy (use crop, slide or sinks)",
                                 ConfigError);
            InferenceSession two(*model, {.batch_size = 2});
            CHECK_THROWS_WITH_AS(beam_search(two, prompt, {.beams = 3}),
                                 "beam_search: 3 beams need 3 session slots, the session has 2",
                                 ConfigError);
        }
    }

    TEST_CASE("contrastive_search") {
        SUBCASE("alpha = 0 is greedy decoding") {
            for (const PositionEncoding pe : {PositionEncoding::learned, PositionEncoding::alibi}) {
                const auto model = make_model(small_config(pe, 64), 51);
                const std::vector<std::int32_t> prompt = {3, 4};
                const GeneratedSequence out = contrastive_search(
                    *model, prompt, {.top_k = 4, .alpha = 0.0, .max_new_tokens = 30});
                CHECK(out.tokens == greedy_tokens(*model, prompt, 30));
                CHECK(out.finish == FinishReason::max_tokens);
                for (const TraceRecord& r : out.trace) {
                    CHECK(r.decision.rank_raw == 0);
                    CHECK(r.decision.changed_by.empty());
                }
            }
        }

        SUBCASE("each token maximises (1 - alpha) p(v) - alpha max cos(h_v, h_j)") {
            const auto model = make_model(small_config(PositionEncoding::rope, 64), 52);
            const std::vector<std::int32_t> prompt = {3, 4, 5};
            const double alpha = 0.9;
            const GeneratedSequence out = contrastive_search(
                *model, prompt, {.top_k = 5, .alpha = alpha, .max_new_tokens = 12});
            REQUIRE(out.tokens.size() == 12);
            // Recompute every choice with a fresh session per candidate.
            std::vector<std::int32_t> history = prompt;
            std::vector<std::vector<double>> hidden; // every token's hidden state so far
            ReferenceDecoder context(*model, 64, false, 0);
            for (const std::int32_t t : prompt) {
                context.feed(t);
                hidden.push_back(context.hidden());
            }
            bool any_changed = false;
            for (std::size_t step = 0; step < 12; ++step) {
                std::vector<float> z = full_logits(*model, history);
                std::vector<double> p(z.size());
                const double m = *std::max_element(z.begin(), z.end());
                double sum = 0.0;
                for (std::size_t v = 0; v < z.size(); ++v)
                    sum += p[v] = std::exp(double(z[v]) - m);
                std::vector<std::int32_t> order(z.size());
                std::iota(order.begin(), order.end(), 0);
                std::stable_sort(order.begin(), order.end(),
                                 [&](std::int32_t a, std::int32_t b) { return p[a] > p[b]; });
                double best = -1e300;
                std::int32_t chosen = -1;
                std::vector<double> chosen_hidden;
                for (std::size_t i = 0; i < 5; ++i) {
                    ReferenceDecoder r(*model, 64, false, 0);
                    for (const std::int32_t t : history)
                        r.feed(t);
                    r.feed(order[i]);
                    const std::vector<double>& h = r.hidden();
                    double penalty = -1.0;
                    for (const auto& hj : hidden) {
                        double dot = 0.0, n1 = 0.0, n2 = 0.0;
                        for (std::size_t c = 0; c < h.size(); ++c) {
                            dot += h[c] * hj[c];
                            n1 += h[c] * h[c];
                            n2 += hj[c] * hj[c];
                        }
                        penalty = std::max(penalty, dot / std::sqrt(n1 * n2));
                    }
                    const double score =
                        (1 - alpha) * p[std::size_t(order[i])] / sum - alpha * penalty;
                    if (score > best) {
                        best = score;
                        chosen = order[i];
                        chosen_hidden = h;
                    }
                }
                CHECK(out.tokens[step] == chosen);
                any_changed = any_changed || chosen != order[0];
                CHECK(out.trace[step].decision.changed_by ==
                      (chosen != order[0] ? "contrastive" : ""));
                history.push_back(out.tokens[step]);
                hidden.push_back(chosen_hidden);
            }
            CHECK(any_changed); // the penalty moved at least one choice
        }

        SUBCASE("stops at the end token and when the context is full") {
            const auto model = make_model(small_config(PositionEncoding::learned, 16), 53);
            const std::vector<std::int32_t> prompt = {3, 4};
            const std::vector<std::int32_t> greedy = greedy_tokens(*model, prompt, 10);
            const GeneratedSequence ended = contrastive_search(
                *model, prompt,
                {.top_k = 3, .alpha = 0.0, .max_new_tokens = 10, .end_token = greedy[2]});
            CHECK(ended.finish == FinishReason::end_of_text);
            CHECK(ended.tokens == greedy_tokens(*model, prompt, 10, greedy[2]));
            const GeneratedSequence full = contrastive_search(
                *model, prompt, {.top_k = 3, .alpha = 0.5, .max_new_tokens = 100});
            CHECK(full.finish == FinishReason::context_full);
            CHECK(full.tokens.size() == 14); // positions 2 .. 15 are fed with their candidates
            // No limit but the context: (fed + INT64_MAX) * C used to overflow in a reservation.
            CHECK(contrastive_search(*model, prompt,
                                     {.top_k = 3, .alpha = 0.5, .max_new_tokens = INT64_MAX})
                      .tokens == full.tokens);
        }

        SUBCASE("stop strings end the search and are cut from the text") {
            const auto model = make_model(small_config(PositionEncoding::rope, 64), 55);
            const std::vector<std::int32_t> prompt = {3, 4};
            ContrastiveOptions o{.top_k = 3, .alpha = 0.5, .max_new_tokens = 12};
            o.decode = [](std::int32_t id) {
                std::string text(1, '<');
                text += std::to_string(id);
                text += '>';
                return text;
            };
            const GeneratedSequence all = contrastive_search(*model, prompt, o);
            REQUIRE(all.tokens.size() == 12);
            CHECK(all.finish == FinishReason::max_tokens);
            CHECK(all.stop_index == -1);
            std::string text;
            for (const std::int32_t t : all.tokens)
                text += o.decode(t);
            CHECK(all.text == text);
            // A stop string from the end of token 3's text into token 4's: the search ends with
            // token 4 (unless the string occurs earlier), the text before its first occurrence.
            const std::size_t end3 = o.decode(all.tokens[0]).size() +
                                     o.decode(all.tokens[1]).size() +
                                     o.decode(all.tokens[2]).size();
            const std::string stop = text.substr(end3 - 2, 4);
            o.stop_strings = {"never", stop};
            const GeneratedSequence cut = contrastive_search(*model, prompt, o);
            const std::size_t at = text.find(stop);
            CHECK(cut.finish == FinishReason::stop_string);
            CHECK(cut.stop_index == 1);
            CHECK(cut.text == text.substr(0, at));
            CHECK(cut.tokens.size() <= 4);
            CHECK(cut.tokens ==
                  std::vector<std::int32_t>(
                      all.tokens.begin(), all.tokens.begin() + std::ptrdiff_t(cut.tokens.size())));
            CHECK(cut.trace.size() == cut.tokens.size());
            o.decode = nullptr;
            CHECK_THROWS_WITH_AS(contrastive_search(*model, prompt, o),
                                 "contrastive_search: stop strings need a decode function (the "
                                 "text of a token)",
                                 ConfigError);
        }

        SUBCASE("rejects bad requests") {
            const auto model = make_model(small_config(PositionEncoding::learned, 16), 54);
            const std::vector<std::int32_t> prompt = {1};
            CHECK_THROWS_WITH_AS(contrastive_search(*model, prompt, {.top_k = 0}),
                                 "contrastive_search: top_k must be at least 1, got 0",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(contrastive_search(*model, prompt, {.alpha = 1.5}),
                                 "contrastive_search: alpha must be in [0, 1], got 1.500000",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(contrastive_search(*model, std::vector<std::int32_t>{}, {}),
                                 "contrastive_search: the prompt is empty", ConfigError);
        }
    }
}
