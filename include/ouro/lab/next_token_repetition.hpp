// Token-level repetition of teacher-forced next-token predictions: rep/l, wrep/l and uniq
// (Welleck et al. 2020, "Neural Text Generation with Unlikelihood Training", section 6), as
// TrainingMetrics.repeat_at_1 and report_metrics.py compute them in facebookresearch/
// unlikelihood_training.
//
// The caller runs the model over human text x_0 .. x_T (teacher forcing) and passes, for each
// position t = 0 .. T - 1, the target targets[t] = x_{t+1} and the prediction predictions[t] =
// argmax p(. | x_0 .. x_t). With l the context length:
//   rep/l  = (predictions that equal one of the previous l targets) / (predictions)
//   wrep/l = (predictions that equal one of the previous l targets and differ from their own
//             target) / (predictions)       -- divided by ALL predictions, as their code does,
//             not by the wrong ones
//   uniq   = the number of distinct predictions
// "The previous l targets" of position t are targets[max(0, t - l)] .. targets[t - 1]: their
// prev_targets mask keeps columns t - l .. t - 1 of the target row, so the window never holds
// the first input token x_0, nor the target at t itself. Their evaluation cuts the validation set
// into blocks (1,024 tokens by default in evaluation.py), each its own window: pass one sequence
// per block.
// human_rep is their human_repeat_at_1: the same count for the targets themselves.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace ouro::lab {

/// Counts behind rep/l, wrep/l and uniq, so that sets of sequences can be pooled.
struct NextTokenRepetition {
    std::int64_t predictions = 0;   ///< positions scored
    std::int64_t repeats = 0;       ///< predictions found among the previous l targets
    std::int64_t wrong_repeats = 0; ///< ... that also differ from their target
    std::int64_t human_repeats = 0; ///< targets found among the previous l targets
    std::int64_t uniq = 0;          ///< distinct predictions

    /// rep/l, wrep/l and the human rate, fractions in [0, 1]; 0 when nothing was scored.
    double rep() const { return ratio(repeats); }
    double wrep() const { return ratio(wrong_repeats); }
    double human_rep() const { return ratio(human_repeats); }

private:
    double ratio(std::int64_t count) const {
        return predictions == 0 ? 0.0 : double(count) / double(predictions);
    }
};

/// rep/l, wrep/l and uniq of one sequence of predictions against its targets (see the file
/// comment), l = `context`. Throws ShapeError when the lengths differ ("next_token_repetition:
/// predictions and targets differ in length: 5 and 4") and ConfigError when context < 1
/// ("next_token_repetition: context must be at least 1, got 0").
NextTokenRepetition next_token_repetition(std::span<const std::int32_t> predictions,
                                          std::span<const std::int32_t> targets,
                                          std::int64_t context = 128);

/// The same over several sequences (each its own window, as their blocks): counts summed, uniq
/// the distinct predictions over all of them (their num_uniq_singletok). Throws ShapeError when
/// the numbers of sequences differ ("next_token_repetition: 3 prediction sequences but 2 target
/// sequences") or one pair differs in length ("next_token_repetition: sequence 1: predictions and
/// targets differ in length: 5 and 4").
NextTokenRepetition next_token_repetition(std::span<const std::vector<std::int32_t>> predictions,
                                          std::span<const std::vector<std::int32_t>> targets,
                                          std::int64_t context = 128);

} // namespace ouro::lab
