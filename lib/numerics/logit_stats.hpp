// Statistics of the raw next-token distribution p = softmax(z) for one chosen token: the numbers
// that the sampler's decisions, the search decoders' traces, generate()'s p_end and teacher
// forcing all report, computed one way. Internal to the library: not installed.
//
// Numerics: w_j = exp_approx(z_j - z_max) (exp.hpp), S = sum_j w_j and A = sum_j w_j (z_j - z_max)
// in double in the fixed order of sum.hpp, so p_j = w_j / S, log p_t = (z_t - z_max) - log S,
// H = log S - A / S and p_max = 1 / S. One pass over the logits, chunk by chunk so that a chunk is
// read from L1 after its first touch. Results depend only on the logits.
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace ouro::numerics {

/// What logit_stats reports. Probabilities are under softmax of the logits given.
struct LogitStats {
    double prob = 0.0;     ///< p(token)
    double log_prob = 0.0; ///< log p(token), from the logits (not log of prob)
    double entropy = 0.0;  ///< entropy in nats
    std::int64_t rank = 0; ///< logits above the token's, plus equal ones with a lower id
    double p_max = 0.0;    ///< the largest probability
    double p_end = 0.0;    ///< p(end_token); NaN when end_token is outside [0, V)
    /// The top_n most probable tokens with their probabilities, best first (fewer when fewer
    /// logits are finite); equal logits keep the lower id first. Only finite logits enter.
    std::vector<std::pair<std::int32_t, double>> top;
};

/// Statistics of softmax(logits) for `token` (in [0, V), not checked) and `end_token` (any id;
/// -1 for none), with the top_n (>= 0, not checked) most probable tokens. The largest logit must
/// be finite.
LogitStats logit_stats(std::span<const float> logits, std::int32_t token, std::int32_t end_token,
                       std::int64_t top_n = 5);
/// The same with the top list written into `top` (the returned LogitStats::top stays empty): no
/// allocation when top's capacity holds min(top_n, V) entries, as the sampler's per-token
/// decision needs.
LogitStats logit_stats(std::span<const float> logits, std::int32_t token, std::int32_t end_token,
                       std::int64_t top_n, std::vector<std::pair<std::int32_t, double>>& top);

/// p(token) under softmax(logits), bit for bit logit_stats(logits, ...).prob for that token.
double token_probability(std::span<const float> logits, std::int32_t token);

/// out[i] = log p(i) under softmax(logits) for every i (out is resized to V), each bit for bit
/// logit_stats(logits, i, ...).log_prob. V >= 1, and the largest logit must be finite.
void log_probabilities(std::span<const float> logits, std::vector<double>& out);

} // namespace ouro::numerics
