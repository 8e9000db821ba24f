// The debug-state dump, for people who regression-test their own numerics against ouro: one
// training step's every named activation and every gradient, in one safetensors file.
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

#include "ouro/nn/gpt.hpp"

#include <string>

namespace ouro::io {

/// Runs forward and backward on (idx, targets) and writes the dump to `path` (atomically). The
/// model's parameter gradients are left holding this step's gradients (they are zeroed first).
/// Returns the loss. Throws what GPT::loss throws, and IoError when writing fails.
template <typename T>
double dump_debug_state(const std::string& path, nn::GPT<T>& model, const TensorI& idx,
                        const TensorI& targets);

} // namespace ouro::io
