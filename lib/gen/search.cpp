// Beam search and contrastive search on the inference session; the rules are in search.hpp.
#include "ouro/gen/search.hpp"

#include "numerics/logit_stats.hpp"
#include "numerics/sum.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

namespace ouro::gen {
namespace {

std::string str(std::int64_t v) {
    return std::to_string(v);
}

// The indices of the k largest values, best first, ties to the lower index.
std::vector<std::int32_t> top_indices(std::span<const double> values, std::int64_t k) {
    std::vector<std::int32_t> idx(values.size());
    std::iota(idx.begin(), idx.end(), 0);
    const auto better = [&](std::int32_t a, std::int32_t b) {
        return values[std::size_t(a)] > values[std::size_t(b)] ||
               (values[std::size_t(a)] == values[std::size_t(b)] && a < b);
    };
    const std::size_t n = std::min(idx.size(), std::size_t(k));
    std::partial_sort(idx.begin(), idx.begin() + std::ptrdiff_t(n), idx.end(), better);
    idx.resize(n);
    return idx;
}

void check_common(const InferenceSession& session, std::span<const std::int32_t> prompt,
                  std::int32_t end_token, const ContextOptions& context, const char* who) {
    const std::int64_t V = session.config().vocab_size;
    if (end_token < -1 || end_token >= V)
        throw ConfigError(std::string(who) + ": end_token " + str(end_token) +
                          " is outside the vocabulary [0, " + str(V) + ") (-1 for none)");
    if (prompt.empty())
        throw ConfigError(std::string(who) + ": the prompt is empty");
    check_prompt_fits(context.policy, std::int64_t(prompt.size()), session.context(),
                      std::string(who) + ": the prompt");
}

struct Beam {
    std::int64_t slot;
    std::vector<std::int32_t> history; // prompt + generated
    double log_prob;
};

struct Candidate {
    double log_prob;
    std::int64_t beam;
    std::int32_t token;
};

double score_of(double log_prob, std::int64_t length, double length_penalty) {
    return log_prob / std::pow(double(length), length_penalty);
}

} // namespace

void fill_raw_decision(std::span<const float> logits, std::int32_t token, TokenDecision& d,
                       std::int64_t top_n) {
    if (top_n < 0)
        throw ConfigError("fill_raw_decision: top_n must be at least 0, got " + str(top_n));
    const numerics::LogitStats st = numerics::logit_stats(logits, token, -1, top_n, d.top_raw);
    d.token = token;
    d.prob_raw = d.prob_final = st.prob;
    d.entropy_raw = d.entropy_final = st.entropy;
    d.rank_raw = st.rank;
    d.p_max_raw = st.p_max;
}

std::vector<BeamHypothesis> beam_search(InferenceSession& session,
                                        std::span<const std::int32_t> prompt,
                                        const BeamSearchOptions& options) {
    const std::int64_t b = options.beams;
    if (b < 1)
        throw ConfigError("beam_search: beams must be at least 1, got " + str(b));
    if (b > session.batch_size())
        throw ConfigError("beam_search: " + str(b) + " beams need " + str(b) +
                          " session slots, the session has " + str(session.batch_size()));
    if (options.max_new_tokens < 1)
        throw ConfigError("beam_search: max_new_tokens must be at least 1, got " +
                          str(options.max_new_tokens));
    check_common(session, prompt, options.end_token, options.context, "beam_search");
    ContextFeeder feeder(session, options.context);
    feeder.start(0, prompt);

    const auto score = [&](double lp, std::int64_t n) {
        return score_of(lp, n, options.length_penalty);
    };
    std::vector<Beam> beams{{0, {prompt.begin(), prompt.end()}, 0.0}};
    std::vector<BeamHypothesis> hyps; // finished, best first, at most b
    const std::int64_t P = std::int64_t(prompt.size());
    const auto add_hypothesis = [&](BeamHypothesis h) {
        hyps.push_back(std::move(h));
        std::stable_sort(hyps.begin(), hyps.end(),
                         [](const auto& x, const auto& y) { return x.score > y.score; });
        if (std::int64_t(hyps.size()) > b)
            hyps.pop_back();
    };
    std::vector<double> lp;
    for (std::int64_t step = 0; step < options.max_new_tokens; ++step) {
        // The 2b best extensions over all beams.
        std::vector<Candidate> cands;
        for (std::size_t i = 0; i < beams.size(); ++i) {
            numerics::log_probabilities(session.logits(beams[i].slot), lp);
            for (const std::int32_t t : top_indices(lp, 2 * b))
                cands.push_back({beams[i].log_prob + lp[std::size_t(t)], std::int64_t(i), t});
        }
        std::stable_sort(cands.begin(), cands.end(), [](const Candidate& x, const Candidate& y) {
            return x.log_prob > y.log_prob ||
                   (x.log_prob == y.log_prob &&
                    (x.beam < y.beam || (x.beam == y.beam && x.token < y.token)));
        });
        cands.resize(std::min(cands.size(), std::size_t(2 * b)));
        const std::int64_t n = step + 1; // generated tokens after this step
        std::vector<Candidate> next;
        for (std::size_t rank = 0; rank < cands.size() && std::int64_t(next.size()) < b; ++rank) {
            const Candidate& c = cands[rank];
            if (options.end_token >= 0 && c.token == options.end_token) {
                if (std::int64_t(rank) < b) {
                    const Beam& parent = beams[std::size_t(c.beam)];
                    BeamHypothesis h{
                        {parent.history.begin() + P, parent.history.end()}, c.log_prob, 0.0, true};
                    h.tokens.push_back(c.token);
                    h.score = score(c.log_prob, n);
                    add_hypothesis(std::move(h));
                }
                continue;
            }
            next.push_back(c);
        }
        // Stop when nothing runs, at the last step, when the context is full under stop, or when
        // b hypotheses have finished and no running beam scores above the worst of them.
        bool stop = next.empty() || step + 1 == options.max_new_tokens;
        for (const Candidate& c : next)
            stop = stop || !feeder.can_feed(beams[std::size_t(c.beam)].slot);
        if (!stop && std::int64_t(hyps.size()) == b) {
            double best_running = -std::numeric_limits<double>::infinity();
            for (const Candidate& c : next)
                best_running = std::max(best_running, score(c.log_prob, n));
            stop = best_running <= hyps.back().score;
        }
        if (stop) {
            for (const Candidate& c : next) {
                const Beam& parent = beams[std::size_t(c.beam)];
                BeamHypothesis h{{parent.history.begin() + P, parent.history.end()},
                                 c.log_prob,
                                 score(c.log_prob, n),
                                 false};
                h.tokens.push_back(c.token);
                add_hypothesis(std::move(h));
            }
            break;
        }
        // New beams: the first child of a beam keeps its slot, the others take the slots of
        // beams that have no child, copied from the parent before anything is fed.
        std::vector<Beam> fresh(next.size());
        std::vector<char> claimed(std::size_t(session.batch_size()), 0);
        std::vector<char> placed(next.size(), 0);
        for (std::size_t i = 0; i < next.size(); ++i) {
            const std::int64_t slot = beams[std::size_t(next[i].beam)].slot;
            if (!claimed[std::size_t(slot)]) {
                claimed[std::size_t(slot)] = 1;
                fresh[i].slot = slot;
                placed[i] = 1;
            }
        }
        std::int64_t free_slot = 0;
        for (std::size_t i = 0; i < next.size(); ++i) {
            if (placed[i])
                continue;
            while (claimed[std::size_t(free_slot)])
                ++free_slot;
            claimed[std::size_t(free_slot)] = 1;
            session.copy_slot(beams[std::size_t(next[i].beam)].slot, free_slot);
            fresh[i].slot = free_slot;
        }
        for (std::size_t i = 0; i < next.size(); ++i) {
            fresh[i].history = beams[std::size_t(next[i].beam)].history;
            fresh[i].history.push_back(next[i].token);
            fresh[i].log_prob = next[i].log_prob;
        }
        beams = std::move(fresh);
        for (const Beam& beam : beams)
            feeder.add(beam.slot, beam.history);
        feeder.flush();
    }
    return hyps;
}

std::vector<BeamHypothesis> beam_search(const nn::GPT<float>& model,
                                        std::span<const std::int32_t> prompt,
                                        const BeamSearchOptions& options) {
    if (options.beams < 1)
        throw ConfigError("beam_search: beams must be at least 1, got " + str(options.beams));
    InferenceSession session(model, session_options(model.config, options.context, options.beams));
    return beam_search(session, prompt, options);
}

GeneratedSequence contrastive_search(InferenceSession& session,
                                     std::span<const std::int32_t> prompt,
                                     const ContrastiveOptions& options) {
    const std::int64_t k = options.top_k;
    if (k < 1)
        throw ConfigError("contrastive_search: top_k must be at least 1, got " + str(k));
    if (k > session.batch_size())
        throw ConfigError("contrastive_search: top_k = " + str(k) + " needs " + str(k) +
                          " session slots, the session has " + str(session.batch_size()));
    if (!(options.alpha >= 0.0 && options.alpha <= 1.0))
        throw ConfigError("contrastive_search: alpha must be in [0, 1], got " +
                          std::to_string(options.alpha));
    if (options.max_new_tokens < 0)
        throw ConfigError("contrastive_search: max_new_tokens must be at least 0, got " +
                          str(options.max_new_tokens));
    check_common(session, prompt, options.end_token, options.context, "contrastive_search");
    StopStrings stops(options.stop_strings);
    if (!options.stop_strings.empty() && !options.decode)
        throw ConfigError(
            "contrastive_search: stop strings need a decode function (the text of a token)");
    const std::int64_t C = session.config().n_embd;
    ContextFeeder feeder(session, options.context);

    // Hidden states of every token so far (prompt, then chosen tokens), with their norms.
    std::vector<float> hidden;
    feeder.start(0, prompt, 0, &hidden);
    const std::int64_t fed = std::int64_t(hidden.size()) / C;
    hidden.reserve((std::size_t(fed) + detail::reserve_for(options.max_new_tokens)) *
                   std::size_t(C));
    std::vector<double> norms;
    // Norms and dot products in the library's fixed summation order (numerics/sum.hpp).
    const auto norm = [C](const float* h) { return std::sqrt(numerics::dot_double(h, h, C)); };
    for (std::int64_t j = 0; j < fed; ++j)
        norms.push_back(norm(hidden.data() + j * C));
    for (std::int64_t s = 1; s < k; ++s)
        session.copy_slot(0, s);

    GeneratedSequence out;
    // Every return goes through here: the text and the stop string from `stops`.
    const auto finish = [&](FinishReason reason) {
        out.finish = reason;
        out.text = stops.text();
        out.stop_index = stops.matched();
        return std::move(out);
    };
    std::vector<std::int32_t> history(prompt.begin(), prompt.end());
    std::vector<std::vector<std::int32_t>> extended(static_cast<std::size_t>(k));
    std::vector<double> lp;
    std::vector<float> logits;
    GenerateOptions record_options; // what fill_record reads: the end token
    record_options.end_token = options.end_token;
    std::int64_t slot = 0; // a slot holding the chosen sequence
    for (std::int64_t step = 0; step < options.max_new_tokens; ++step) {
        if (!feeder.can_feed(slot))
            return finish(FinishReason::context_full);
        // A copy: feeding the candidates overwrites the slot's logits.
        logits.assign(session.logits(slot).begin(), session.logits(slot).end());
        numerics::log_probabilities(logits, lp);
        TraceRecord record;
        record.step = step;
        record.position = std::int64_t(history.size());
        record.context = session.cached(slot);
        const std::vector<std::int32_t> cands = top_indices(lp, k);
        // Feed every candidate in its own slot, one batched pass.
        for (std::size_t i = 0; i < cands.size(); ++i) {
            extended[i] = history;
            extended[i].push_back(cands[i]);
            feeder.add(std::int64_t(i), extended[i]);
        }
        feeder.flush();
        std::size_t best = 0;
        double best_score = -std::numeric_limits<double>::infinity();
        for (std::size_t i = 0; i < cands.size(); ++i) {
            const std::span<const float> h = session.hidden(std::int64_t(i));
            const double hn = norm(h.data());
            double penalty = -1.0; // cosines are >= -1
            for (std::int64_t j = 0; j < std::int64_t(norms.size()); ++j) {
                const float* hj = hidden.data() + j * C;
                const double dot = numerics::dot_double(h.data(), hj, C);
                penalty = std::max(penalty, dot / (hn * norms[std::size_t(j)]));
            }
            const double s = (1.0 - options.alpha) * std::exp(lp[std::size_t(cands[i])]) -
                             options.alpha * penalty;
            if (s > best_score) {
                best_score = s;
                best = i;
            }
        }
        const std::int32_t token = cands[best];
        slot = std::int64_t(best);
        const std::span<const float> h = session.hidden(slot);
        hidden.insert(hidden.end(), h.begin(), h.end());
        norms.push_back(norm(h.data()));
        for (std::int64_t s = 0; s < std::int64_t(cands.size()); ++s)
            if (s != slot)
                session.copy_slot(slot, s, 1);
        history.push_back(token);
        out.tokens.push_back(token);
        record.token = token;
        fill_raw_decision(logits, token, record.decision);
        if (best != 0)
            record.decision.changed_by = "contrastive";
        bool stop = false;
        if (options.decode) {
            record.text = options.decode(token);
            stop = stops.push(record.text);
        }
        detail::fill_statistics(record, logits, history, record_options);
        out.trace.push_back(std::move(record));
        if (stop)
            return finish(FinishReason::stop_string);
        if (options.end_token >= 0 && token == options.end_token)
            return finish(FinishReason::end_of_text);
    }
    return finish(FinishReason::max_tokens);
}

GeneratedSequence contrastive_search(const nn::GPT<float>& model,
                                     std::span<const std::int32_t> prompt,
                                     const ContrastiveOptions& options) {
    if (options.top_k < 1)
        throw ConfigError("contrastive_search: top_k must be at least 1, got " +
                          str(options.top_k));
    InferenceSession session(model, session_options(model.config, options.context, options.top_k));
    return contrastive_search(session, prompt, options);
}

} // namespace ouro::gen
