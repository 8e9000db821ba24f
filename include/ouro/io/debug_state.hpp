// The debug-state dump, for people who regression-test their own numerics against ouro: one
// training step's every named activation and every gradient, in one safetensors file. This
// writes what a caller has computed; the train program's --dump-debug-state runs the step
// (forward with the activation log on, backward with the graph retained) and calls it.
//
// Tensor names:
//   input.idx, input.targets                 the batch
//   param.<name>                             every parameter (e.g. param.transformer.wte.weight)
//   act.<module path>[.<role>]               every activation of the forward pass, named after the
//                                            module that produced it (act.transformer.h.0.ln_1,
//                                            act.transformer.h.0.attn.q, act.lm_head, act.loss)
//   grad.<module path>[.<role>]              d loss / d activation, for each activation above
//   grad.param.<name>                        d loss / d parameter
// Metadata: the model config and the loss.
#pragma once

#include "ouro/autograd/var.hpp"
#include "ouro/nn/gpt.hpp"

#include <span>
#include <string>
#include <utility>

namespace ouro::io {

/// Writes the dump to `path` (atomically): the batch (idx, targets), the model's parameters and
/// their gradients, the `activations` that GPT::loss logged (ForwardContext::activations) with
/// the gradients they hold, and `loss`. Values without a gradient are written without one.
/// Throws IoError when writing fails.
template <typename T>
void write_debug_state(const std::string& path, const nn::GPT<T>& model, const TensorI& idx,
                       const TensorI& targets,
                       std::span<const std::pair<std::string, Var<T>>> activations, double loss);

} // namespace ouro::io
