// BLEU (Papineni et al. 2002) on token ids, computed as nltk.translate.bleu_score.sentence_bleu
// with uniform weights and SmoothingFunction().method1, and self-BLEU (Zhu et al. 2018,
// "Texygen: A Benchmarking Platform for Text Generation Models", utils/metrics/SelfBleu.py),
// which scores each sample against all the others: high self-BLEU means samples that look alike.
//
// BLEU with n-gram orders k = 1..N of a hypothesis h against references R:
//   m_k = sum over the distinct k-grams g of h of min(count_h(g), max over r in R of count_r(g))
//         (modified precision: a k-gram matches at most as often as one reference has it)
//   d_k = max(1, number of k-grams of h)
//   p_k = m_k / d_k, or 0.1 / d_k when m_k = 0        (method1: epsilon = 0.1 added to zeros)
//   r   = the reference length closest to |h|, the shorter one on ties
//   BP  = 1 if |h| > r, 0 if |h| = 0, exp(1 - r / |h|) otherwise
//   BLEU = 0 when m_1 = 0 (nltk returns 0 before smoothing), else BP * exp(sum_k log(p_k) / N).
// nltk adds the logs with math.fsum; here they are added in order of k (a few ulps apart).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace ouro::lab {

/// BLEU-max_n of `hypothesis` against `references` (definition above), in [0, 1]. Throws
/// ConfigError when max_n < 1 ("sentence_bleu: max_n must be at least 1, got 0") or there is no
/// reference ("sentence_bleu: no references").
double sentence_bleu(std::span<const std::vector<std::int32_t>> references,
                     std::span<const std::int32_t> hypothesis, int max_n = 4);

/// Self-BLEU: the mean over samples i of sentence_bleu(all samples but i, sample i, max_n), as
/// Texygen's get_bleu_parallel (each sample against all the others; Holtzman et al.'s
/// metrics/self_bleu.py does the same, averaging over a random 1,000 of the samples). Texygen's
/// default fast mode uses only the first 500 samples, for hypotheses and references alike: pass the
/// first 500 to match it. Each n-gram's largest count over the other samples comes from its two
/// largest counts over all samples, so the cost is linear in the total length, not quadratic in the
/// number of samples. Throws ConfigError when max_n < 1 or there are fewer than two samples
/// ("self_bleu: needs at least 2 samples, got 1").
double self_bleu(std::span<const std::vector<std::int32_t>> samples, int max_n = 4);

} // namespace ouro::lab
