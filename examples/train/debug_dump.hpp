// --dump-debug-state: one training step with every activation and gradient kept, written with
// io::write_debug_state (see ouro/io/debug_state.hpp for the file's names).
#pragma once

#include <ouro/core/tensor.hpp>
#include <ouro/nn/gpt.hpp>

#include <string>

namespace ouro::train {

/// Runs forward and backward on (idx, targets) and writes the dump to `path` (atomically). The
/// model's parameter gradients are left holding this step's gradients (they are zeroed first).
/// Returns the loss. Throws what GPT::loss throws, and IoError when writing fails.
template <typename T>
double dump_debug_state(const std::string& path, nn::GPT<T>& model, const TensorI& idx,
                        const TensorI& targets);

} // namespace ouro::train
