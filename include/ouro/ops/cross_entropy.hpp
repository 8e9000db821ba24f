// Fused softmax + cross-entropy: the mean negative log-likelihood of target classes under the
// softmax of logits, without materialising the probabilities.
//
// For logits x (N, V) (N = B * T rows in a GPT) and targets y (N):
//   loss_i = log sum_j exp(x_ij) - x_i,y_i = lse_i - x_i,y_i,    loss = mean of loss_i over the
// rows whose target is not ignore_index. The forward pass keeps only lse (N); the backward pass
// recomputes softmax(x_i) = exp(x_i - lse_i) and writes
//   dx_i = (softmax(x_i) - onehot(y_i)) * dloss / count   (0 for ignored rows).
// Each row is one independent task and the mean adds the per-row losses in row order in double,
// so the results do not depend on the thread count. The log-sum-exp is log_softmax's own
// (summed in double), so loss_i is bit for bit -log_softmax(x_i)[y_i].
//
// When every target is ignored the loss is 0 and so are the gradients (PyTorch returns NaN there,
// a 0 / 0 mean; 0 keeps an all-padding batch from poisoning a training run).
#pragma once

#include "ouro/autograd/var.hpp"

#include <cstdint>

namespace ouro::ops {

/// Forward kernel. logits (N, V), targets (N). Writes losses (N): -log softmax(logits_i)[y_i],
/// or 0 when y_i == ignore_index; and lse (N): the log-sum-exp of each counted row (0 for ignored
/// rows). Returns the number of counted rows. Checks the targets first and throws ConfigError
/// for one outside [0, V) that is not ignore_index ("cross_entropy: target 70 at row 3 is outside
/// [0, 64)"). Parallel over rows.
template <typename T>
std::int64_t cross_entropy_forward(const T* logits, const std::int32_t* targets, T* losses, T* lse,
                                   std::int64_t N, std::int64_t V, int ignore_index);

/// Backward kernel: for every counted row i, ADDS (softmax(logits_i) - onehot(y_i)) * scale into
/// dlogits_i (N, V); scale is dloss / count. lse is what the forward kernel wrote. Targets are
/// trusted (the forward kernel checked them). Parallel over rows.
template <typename T>
void cross_entropy_backward(const T* logits, const std::int32_t* targets, const T* lse, T scale,
                            T* dlogits, std::int64_t N, std::int64_t V, int ignore_index);

/// Naive serial version, kept for tests: per-row log-softmax with std::exp into losses (N), 0 for
/// ignored rows; returns their mean over the counted rows (0 when there are none).
template <typename T>
T cross_entropy_reference(const T* logits, const std::int32_t* targets, T* losses, std::int64_t N,
                          std::int64_t V, int ignore_index);

/// Mean cross-entropy of logits (..., V) against int32 targets (...), over the targets that are
/// not ignore_index; a scalar of shape (). Throws ShapeError when logits is a scalar
/// ("cross_entropy: logits must be (..., V), got ()") or when targets is not the leading shape of
/// logits ("cross_entropy: targets must be the leading shape of logits: logits are (4, 8, 64),
/// targets are (4, 7)"), and ConfigError for a target outside [0, V) that is not ignore_index.
template <typename T>
Var<T> cross_entropy(const Var<T>& logits, const TensorI& targets, int ignore_index = -1);

/// The per-row losses behind cross_entropy, with no autograd: a tensor of the targets' shape (...)
/// holding -log softmax(logits)[target] at each position, 0 where the target is ignore_index
/// (the negative log-likelihood by position, for the lab's measurements). Throws as
/// cross_entropy, with messages that name cross_entropy_per_row.
template <typename T>
Tensor<T> cross_entropy_per_row(const Tensor<T>& logits, const TensorI& targets,
                                int ignore_index = -1);

} // namespace ouro::ops
