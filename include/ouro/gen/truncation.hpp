// The sampler stages that act on the distribution alone: temperature, the truncations (top-k,
// top-p, min-p, typical, epsilon, eta, top-n-sigma, XTC) and the final selections (greedy,
// multinomial, mirostat v2). penalties.hpp holds the stages that read the history; sampler.hpp
// chains them in the order a user gives.
//
// Notation (COLLAPSE.md): z the logits of the current candidates, p = softmax(z), p_max the
// largest p, H = -sum p log p in nats. Each stage edits a CandidateSet in place; every truncation
// keeps at least the most probable candidate and its ties, and keeps all candidates tied with the
// last one it keeps (candidates.hpp), so its survivors never depend on token ids. A truncation that
// keeps everything is a no-op. The settings are checked as in SamplerChain::from_settings, with
// the same ConfigError messages ("sampler: top_p must be in (0, 1], got 0").
//
// Worked example, p = (0.5, 0.25, 0.125, 0.125), H = 1.75 ln 2 = 1.213 nats:
//   top_k(2)   keeps 0, 1;            top_p(0.7) keeps 0, 1 (0.5 < 0.7 <= 0.75: token 1 crosses);
//   min_p(0.3) keeps 0, 1 (>= 0.15);  typical(0.2) keeps 1 only (|-log p - H| is 0.17 for token 1,
//   0.52 for token 0, 0.87 for 2 and 3); epsilon(0.2) keeps 0, 1;
//   eta(0.2) drops p < min(0.2, sqrt(0.2) e^-H = 0.133): keeps 0, 1.
#pragma once

#include "ouro/core/rng.hpp"
#include "ouro/gen/candidates.hpp"

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace ouro::gen {

/// Temperature T > 0 (Ackley, Hinton and Sejnowski 1985): z <- z / T. T = 0 means greedy, which
/// SamplerChain handles as a selection. Throws ConfigError unless T > 0 and finite.
///
/// Overflow. Below T = 1, z / T can pass the float range for logits near FLT_MAX (3e38 / 0.1).
/// Then the logits are first shifted by their maximum, z <- (z - z_max) / T (computed in double),
/// which leaves softmax(z / T) unchanged: the best logit becomes 0, never +inf, and a logit that
/// falls below -FLT_MAX becomes -inf, i.e. probability 0, which it has to float precision anyway.
/// So a finite logit never turns into +inf or NaN here, and the draw after it always has a token.
void temperature(CandidateSet& c, double t);

/// top-k (Fan et al. 2018): keeps the k largest logits, and every logit tied with the k-th
/// (HuggingFace's rule: z >= the k-th largest z). k = 0 is off; k < 0 throws ConfigError.
void top_k(CandidateSet& c, std::int64_t k);

/// top-p, nucleus (Holtzman et al. 2020): by decreasing p, the smallest prefix whose mass is
/// >= p; the token that crosses p is kept, with its ties. p = 1 is off; p outside (0, 1] throws.
void top_p(CandidateSet& c, double p);

/// min-p (Nguyen et al. 2024): drops tokens with p < p_min * p_max, i.e. z < z_max + ln p_min.
/// p_min = 0 is off; outside [0, 1] throws.
void min_p(CandidateSet& c, double p_min);

/// Locally typical sampling (Meister et al. 2023): orders the tokens by |-log p - H| (closest to
/// the expected surprise first) and keeps the smallest prefix whose mass is >= tau, with the ties
/// of the token that crosses. It can drop the most probable token. tau = 1 is off; outside
/// (0, 1] throws.
void typical(CandidateSet& c, double tau);

/// epsilon sampling (Hewitt et al. 2022): drops tokens with p < eps, keeping at least the most
/// probable. eps = 0 is off; outside [0, 1) throws.
void epsilon(CandidateSet& c, double eps);

/// eta sampling (Hewitt et al. 2022): drops tokens with p < min(eta, sqrt(eta) * exp(-H)),
/// keeping at least the most probable. eta = 0 is off; outside [0, 1) throws.
void eta(CandidateSet& c, double value);

/// top-n-sigma (Tang et al. 2024): keeps logits >= max z - n * sigma, sigma the population
/// standard deviation of the candidates' finite logits (so it is meant to run on the full
/// vocabulary, before other truncations). n = 0 is off; n < 0 throws.
void top_n_sigma(CandidateSet& c, double n);

/// XTC, exclude top choices (p-e-w, text-generation-webui 2024): draws u = rng.uniform() on every
/// call (none when probability = 0); when u < probability and at least two tokens have
/// p >= threshold, drops all of them except the least likely of them (with its ties). Returns
/// true when it dropped tokens. probability outside [0, 1] or threshold outside (0, 1] throws.
bool xtc(CandidateSet& c, double probability, double threshold, Rng& rng);

/// Greedy: the position of the argmax (the lowest id among ties).
std::int64_t select_greedy(CandidateSet& c);

/// Multinomial: draws u = rng.uniform() and returns c.draw(u), a position chosen with
/// probability p.
std::int64_t select_sample(CandidateSet& c, Rng& rng);

/// Which probability mirostat v2 takes the surprise of the chosen token from, for its update.
enum class MirostatSurprise : std::uint8_t {
    /// Under the truncated, renormalised distribution it drew from: llama.cpp's
    /// llama_sampler_mirostat_v2 (what users of llama.cpp, ollama and the like run). The default.
    truncated,
    /// Under the distribution before its truncation: the paper's code (Basu et al. 2021).
    raw
};

/// "truncated", "raw".
const char* to_string(MirostatSurprise s);
/// Parses the names above; throws ConfigError "sampler: unknown mirostat surprise 'x' (expected
/// truncated or raw)".
MirostatSurprise parse_mirostat_surprise(std::string_view name);

/// Mirostat 2.0 (Basu et al. 2021, algorithm 2), a selection with state mu (the largest surprise
/// allowed, in bits). With surprise s(x) = -log2 p(x) under the distribution it receives: drops
/// tokens with s > mu (keeping at least the most probable), renormalises, draws x, then
/// mu <- mu - eta * (s'(x) - tau). mu starts at 2 tau.
///
/// s'(x) is, by default (MirostatSurprise::truncated), the surprise under the renormalised
/// distribution it drew from, as llama.cpp computes it; with MirostatSurprise::raw it is s(x),
/// the surprise before the truncation, as in the paper's code. The two differ a lot: a kept
/// token's renormalised surprise is lower, so the truncated update raises mu where the raw one
/// lowers it. On 4096 logits drawn from N(0, 1) with tau 5, eta 0.1, llama.cpp's update holds mu
/// near 9-10 bits with tens of tokens kept, while the raw update drives mu far below zero within
/// 100 steps, after which only the argmax is kept (greedy decoding).
class MirostatV2 {
public:
    /// Throws ConfigError unless tau > 0 and eta > 0 ("sampler: mirostat_tau must be > 0, got 0").
    MirostatV2(double tau, double eta, MirostatSurprise surprise = MirostatSurprise::truncated);
    /// Truncates c, draws one token, updates mu; returns the token's position in c.
    std::int64_t select(CandidateSet& c, Rng& rng);
    /// mu <- 2 tau, for a new sequence.
    void reset() { mu_ = 2.0 * tau_; }
    double mu() const { return mu_; }
    double tau() const { return tau_; }
    double eta() const { return eta_; }
    MirostatSurprise surprise() const { return surprise_; }

private:
    double tau_, eta_, mu_;
    MirostatSurprise surprise_;
};

/// Naive references, kept for tests (full sort, double-precision softmax): the ids that
/// CandidateSet::keep_top(count, mass), and typical(tau), keep of the raw logits, in increasing
/// id order.
std::vector<std::int32_t> keep_top_reference(std::span<const float> logits, std::int64_t count,
                                             double mass);
std::vector<std::int32_t> typical_reference(std::span<const float> logits, double tau);

} // namespace ouro::gen
