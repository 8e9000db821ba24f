// Checks of a file's tensors against the parameters a config implies, made before a model is
// built: a file whose config asks for more than its tensors hold is refused with one line, at once,
// instead of after the model's weights have been allocated and initialised. Internal to the
// library (used by the checkpoint reader and the Hugging Face import).
#pragma once

#include "ouro/io/safetensors.hpp"
#include "ouro/nn/gpt_config.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace ouro::io::detail {

/// The config's parameter names and shapes (nn::parameter_shapes), after checking in O(1) that
/// `f` holds at least as many tensors. Throws FormatError "<file>: the config needs 1200000004
/// weight tensors (n_layer = 100000000), but the file holds 0", or "<file>: the config cannot be
/// built: <why>" when a parameter would have more than 2^48 elements.
std::vector<std::pair<std::string, Shape>> expected_parameters(const Safetensors& f,
                                                               const nn::GPTConfig& config);

/// Each (name, shape) must be a tensor of `f` with exactly that shape and a floating-point dtype.
/// Throws FormatError "<file>: no tensor 'transformer.wpe.weight', which the config needs as
/// (8, 16)", "<file>: tensor 'transformer.wpe.weight' is (4, 16), but the config needs (8, 16)"
/// or "<file>: tensor 'transformer.wte.weight' is I32, but weights must be F32, F64, F16 or BF16".
void check_float_tensors(const Safetensors& f,
                         std::span<const std::pair<std::string, Shape>> expected);

} // namespace ouro::io::detail
