// The parameters a GPTConfig implies, as names and shapes, without building the model: what a
// loader compares a file's tensors with before it allocates anything, so a file with a huge config
// and no tensors is refused at once instead of after gigabytes of initialisation.
//
// The list is GPT<T>(config).named_parameters() in the same order (tests/nn/test_parameter_shapes
// compares them for learned, RoPE and ALiBi models, with and without biases); a new kind of
// parameter in nn/ must be added here too.
#pragma once

#include "ouro/core/shape.hpp"
#include "ouro/nn/gpt_config.hpp"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ouro::nn {

/// Number of parameter tensors of GPT(config): wte, wpe (learned positions only), per block
/// ln_1, attn.c_attn, attn.c_proj, ln_2, mlp.c_fc, mlp.c_proj (weights, and biases when
/// config.bias), then ln_f. O(1). Throws ConfigError as config.validate(), and ConfigError
/// "GPTConfig: n_layer = 9223372036854775807 implies more than 2^63 parameter tensors" when the
/// count does not fit int64.
std::int64_t parameter_tensor_count(const GPTConfig& config);

/// (dotted name, shape) of every parameter of GPT(config), in named_parameters() order, e.g.
/// ("transformer.h.0.attn.c_attn.weight", (3 C, C)). Allocates only the list: call
/// parameter_tensor_count first when n_layer comes from an untrusted file. Throws ConfigError as
/// config.validate(), and ShapeError when a parameter would have more than 2^48 elements
/// ("Shape: (4611686018427387906, 2) has more than 2^48 elements").
std::vector<std::pair<std::string, Shape>> parameter_shapes(const GPTConfig& config);

} // namespace ouro::nn
