// TokenDecision: what happened when one token was chosen, as the per-token trace records it. The
// sampler chain fills it; the generation loop adds the position and writes the trace.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ouro::gen {

struct TokenDecision {
    std::int32_t token = -1;
    double prob_raw = 0.0;      ///< p(token) under softmax of the raw logits
    double prob_final = 0.0;    ///< p(token) under the distribution it was drawn from
    double entropy_raw = 0.0;   ///< entropy (nats) of softmax of the raw logits
    double entropy_final = 0.0; ///< entropy (nats) of the distribution it was drawn from
    std::int64_t rank_raw = 0;  ///< rank of the token under the raw logits (0 = argmax)
    double p_max_raw = 0.0;     ///< largest raw probability
    /// The most probable tokens under the raw logits, with their probabilities, best first: as
    /// many as the chooser was asked for (SamplerChain::set_alternatives, fill_raw_decision's
    /// top_n; 5 by default), fewer when fewer logits are finite.
    std::vector<std::pair<std::int32_t, double>> top_raw;
    /// Name of the chain stage that changed the outcome (see SamplerChain::sample), or "" when
    /// the token is the raw argmax and no stage moved it.
    std::string changed_by;
};

} // namespace ouro::gen
