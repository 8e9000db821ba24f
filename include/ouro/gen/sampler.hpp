// SamplerChain: the samplers people use against repetition loops (COLLAPSE.md's table), chained in
// the order the user gives, ending in one selection step. It turns the raw logits of one sequence
// into the next token.
//
//     SamplerSettings s;
//     s.repetition_penalty = 1.3;
//     s.top_p = 0.95;
//     s.temperature = 0.8;
//     SamplerChain chain = SamplerChain::from_settings(s, "penalties,top_p,temperature");
//     chain.describe();  // "repetition_penalty(1.3) -> top_p(0.95) -> temperature(0.8) -> sample"
//     Rng rng(1234);
//     std::int32_t next = chain.sample(logits, history, rng);  // logits: V floats
//
// Stages (one name each, for the order string; the definitions are in truncation.hpp and
// penalties.hpp):
//   logit_bias          z_t += b_t                               (SamplerSettings::logit_bias)
//   repetition_penalty  CTRL: z / theta if z > 0 else z * theta  (repetition_penalty != 1)
//   frequency_penalty   z -= count * a                           (frequency_penalty != 0)
//   presence_penalty    z -= a if count > 0                      (presence_penalty != 0)
//   dry                 z -= mult * base^(L - A) for L >= A      (dry_multiplier > 0)
//   no_repeat_ngram     ban tokens that complete a seen n-gram   (no_repeat_ngram > 0)
//   top_n_sigma         keep z >= max - n sigma                  (top_n_sigma > 0)
//   top_k               keep the k largest                       (top_k > 0)
//   typical             keep the tokens nearest the entropy      (typical < 1)
//   top_p               keep the nucleus of mass p               (top_p < 1)
//   min_p               drop p < min_p * p_max                   (min_p > 0)
//   epsilon             drop p < eps                             (epsilon > 0)
//   eta                 drop p < min(eta, sqrt(eta) e^-H)        (eta > 0)
//   xtc                 maybe drop the top choices               (xtc_probability > 0)
//   temperature         z /= T                                   (temperature not 0 or 1)
// and the group name `penalties` = logit_bias, repetition_penalty, frequency_penalty,
// presence_penalty, dry, no_repeat_ngram, in that order. A stage whose setting is off is left out
// of the chain; a setting that is on but whose stage is not in the order is an error. The counting
// penalties and DRY look at the last penalty_window tokens of the history (all of it when 0);
// no_repeat_ngram always looks at all of it.
//
// Default order (default_sampler_order): llama.cpp's, penalties first, truncations, temperature
// last. Truncating before the temperature means the thresholds (top-p 0.95, min-p 0.05) are taken
// on the model's own distribution, so they mean the same at any temperature, and a high
// temperature only reshapes the survivors instead of lifting the long tail of junk tokens back
// in. It is also cheaper: the temperature then touches a few candidates instead of V.
// HuggingFace's order (temperature before the truncations) is one string away:
// "penalties,temperature,top_k,top_p".
//
// Selection, which ends every chain: mirostat_v2 when SamplerSettings::mirostat (it sees the
// distribution the stages leave; its update of mu is llama.cpp's unless mirostat_surprise says
// raw, see truncation.hpp), greedy argmax when greedy or temperature == 0, else a
// multinomial draw ("sample"). Every draw uses the Rng passed to sample(): one uniform for the
// draw, one more per call for an XTC stage, none for greedy. The same seed gives the same tokens;
// nothing here is parallel, so the thread count cannot matter.
#pragma once

#include "ouro/core/rng.hpp"
#include "ouro/gen/candidates.hpp"
#include "ouro/gen/penalties.hpp"
#include "ouro/gen/token_decision.hpp"
#include "ouro/gen/truncation.hpp"

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace ouro::gen {

/// Every knob of the chain. The defaults are off except temperature 1 (a plain draw) and the
/// parameters of stages that are off (mirostat's tau and eta, DRY's base and allowed length,
/// XTC's threshold), which take COLLAPSE.md's usual values.
struct SamplerSettings {
    bool greedy = false;
    double temperature = 1.0; ///< 0 means greedy; must be >= 0
    std::int64_t top_k = 0;   ///< 0 = off
    double top_p = 1.0;       ///< 1 = off; must be in (0, 1]
    double min_p = 0.0;       ///< 0 = off; in [0, 1]
    double typical = 1.0;     ///< 1 = off; in (0, 1]
    double epsilon = 0.0;     ///< 0 = off; in [0, 1)
    double eta = 0.0;         ///< 0 = off; in [0, 1)
    double top_n_sigma = 0.0; ///< 0 = off
    bool mirostat = false;    ///< v2
    double mirostat_tau = 5.0, mirostat_eta = 0.1;
    /// mirostat's update of mu: llama.cpp's (surprise under the truncated, renormalised
    /// distribution) by default, or the paper's (under the distribution before truncation).
    MirostatSurprise mirostat_surprise = MirostatSurprise::truncated;
    double repetition_penalty = 1.0; ///< CTRL rule; 1 = off; must be > 0
    std::int64_t penalty_window = 0; ///< 0 = whole history, else last n tokens (for all penalties)
    double frequency_penalty = 0.0, presence_penalty = 0.0;
    std::int64_t no_repeat_ngram = 0;
    double dry_multiplier = 0.0, dry_base = 1.75; ///< base >= 1
    std::int64_t dry_allowed_length = 2;          ///< >= 1
    double xtc_probability = 0.0, xtc_threshold = 0.1;
    std::vector<std::pair<std::int32_t, float>> logit_bias; ///< (token, bias); -inf bans
};

/// Whether the settings choose greedy decoding: the greedy flag, or temperature 0 (the one place
/// this rule is written; the chain's selection, its mirostat check and the decoders' "draws at
/// random" all ask it).
bool is_greedy(const SamplerSettings& settings);

namespace detail {
/// The stages, in the default order.
enum class SamplerStage : std::uint8_t {
    logit_bias,
    repetition_penalty,
    frequency_penalty,
    presence_penalty,
    dry,
    no_repeat_ngram,
    top_n_sigma,
    top_k,
    typical,
    top_p,
    min_p,
    epsilon,
    eta,
    xtc,
    temperature
};
} // namespace detail

/// The stages' names for the order string, in the default order (SamplerStage's); the group
/// "penalties" names the first six.
inline constexpr std::array<const char*, std::size_t(detail::SamplerStage::temperature) + 1>
    sampler_stage_names = {"logit_bias",
                           "repetition_penalty",
                           "frequency_penalty",
                           "presence_penalty",
                           "dry",
                           "no_repeat_ngram",
                           "top_n_sigma",
                           "top_k",
                           "typical",
                           "top_p",
                           "min_p",
                           "epsilon",
                           "eta",
                           "xtc",
                           "temperature"};

/// The order used when from_settings gets an empty one (llama.cpp's; see the file comment).
inline constexpr const char* default_sampler_order =
    "penalties,top_n_sigma,top_k,typical,top_p,min_p,epsilon,eta,xtc,temperature";

/// A chain holds the state of one sequence (mirostat's mu) and its scratch buffers: use one per
/// sequence (or reset() between sequences), from one thread at a time.
class SamplerChain {
public:
    /// Builds the chain from settings and an order: a comma-separated list of stage names (spaces
    /// around names are ignored), e.g. "penalties,top_k,top_p,temperature"; an empty order means
    /// default_sampler_order. Throws ConfigError, with these messages:
    ///   a setting out of range     "sampler: top_p must be in (0, 1], got 1.5" (likewise
    ///                              temperature >= 0, top_k >= 0, min_p in [0, 1], typical in
    ///                              (0, 1], epsilon and eta in [0, 1), top_n_sigma >= 0,
    ///                              repetition_penalty > 0, penalty_window >= 0, finite
    ///                              frequency/presence penalties, no_repeat_ngram >= 0,
    ///                              dry_multiplier >= 0, dry_base >= 1, dry_allowed_length >= 1,
    ///                              xtc_probability in [0, 1], xtc_threshold in (0, 1],
    ///                              mirostat_tau > 0, mirostat_eta > 0)
    ///   a bad logit bias           "sampler: logit_bias token -1 is negative",
    ///                              "sampler: logit_bias for token 3 must be finite or -inf, got
    ///                              nan"
    ///   an unknown name            "sampler: unknown stage 'top_q' (known: penalties, logit_bias,
    ///                              ..., temperature)"
    ///   a selection in the order   "sampler: 'greedy' is not a stage: the final step (sample,
    ///                              greedy or mirostat_v2) follows from the settings greedy,
    ///                              temperature and mirostat"
    ///   a name twice / empty       "sampler: stage 'top_k' appears twice in the order
    ///                              'top_k,top_k'", "sampler: empty stage name in the order 'a,,b'"
    ///   a setting without stage    "sampler: top_p is 0.9 but the order 'top_k' has no 'top_p'
    ///                              stage"
    ///   mirostat with greedy       "sampler: mirostat cannot be combined with greedy decoding
    ///                              (greedy or temperature 0)"
    static SamplerChain from_settings(const SamplerSettings& s, const std::string& order = "");

    /// Chooses the next token from the raw logits of ONE sequence (V floats, not modified);
    /// history = prompt + tokens generated so far, each in [0, V). No allocation per call after
    /// the first, except DryRepeats growing with the history by doubling (O(log T) times in a
    /// generation of T tokens) and a `decision` whose vectors and string are fresh.
    /// Throws ShapeError for empty logits, ConfigError for a NaN or +inf logit ("sampler: logit
    /// 7 is nan"), a history token outside [0, V) ("sampler: history token 9 at position 3 is
    /// outside the vocabulary (V = 8)"), a logit_bias token outside [0, V), when every token
    /// is banned ("sampler: no token left to choose: every logit is -inf"), or when a penalty or
    /// logit bias would raise a finite logit past the float range ("sampler: logit_bias turned
    /// the logit 3e+38 of token 0 into inf (beyond the float range)"; penalties.hpp). A
    /// temperature below 1 never overflows (truncation.hpp). The token returned is always a
    /// valid id in [0, V): no stage leaves an inf or NaN logit for the selection to read.
    ///
    /// When `decision` is given it is filled: the raw fields from softmax of the raw logits
    /// (float exp, double sums; rank_raw counts the tokens with a larger logit, and equal logits
    /// with a lower id; top_raw is ordered the same way); prob_final and entropy_final from the
    /// distribution the selection chose from: the candidates the stages left (after mirostat's
    /// own truncation, for mirostat), with greedy taking the softmax of those logits. changed_by:
    ///   ""                   when the token is the raw argmax a (lowest id among ties);
    ///   else a stage name    the stage after which a last stopped being the argmax of the
    ///                        working logits (it was demoted or removed) and never became it
    ///                        again, e.g. "repetition_penalty" or "xtc";
    ///   else the selection   "sample" or "mirostat_v2" when a was still the argmax at the end
    ///                        and the draw chose another token.
    std::int32_t sample(std::span<const float> logits, std::span<const std::int32_t> history,
                        Rng& rng, TokenDecision* decision = nullptr);

    /// Per-sequence state back to its start: mirostat's mu <- 2 tau.
    void reset();

    /// How many of the most probable raw tokens a decision's top_raw lists (5 unless set; 0
    /// lists none). Throws ConfigError for n < 0 ("sampler: alternatives must be >= 0, got -1").
    void set_alternatives(std::int64_t n);
    std::int64_t alternatives() const { return alternatives_; }

    /// The active stages and the selection, e.g.
    /// "repetition_penalty(1.3) -> top_p(0.95) -> sample"; a window shows as
    /// "repetition_penalty(1.3, last 64)", mirostat as "mirostat_v2(tau 5, eta 0.1)" or, with the
    /// paper's update, "mirostat_v2(tau 5, eta 0.1, raw surprise)".
    std::string describe() const;

private:
    using Stage = detail::SamplerStage;
    enum class Selection : std::uint8_t { sample, greedy, mirostat };
    explicit SamplerChain(const SamplerSettings& s);
    void apply(Stage stage, std::span<const std::int32_t> history,
               std::span<const std::int32_t> window, Rng& rng);

    SamplerSettings s_;
    std::vector<Stage> stages_;
    Selection selection_ = Selection::sample;
    MirostatV2 mirostat_;
    std::string description_;
    CandidateSet c_;
    TokenCounts counts_;
    DryRepeats dry_;
    bool counted_ = false;
    std::int64_t alternatives_ = 5;
};

} // namespace ouro::gen
