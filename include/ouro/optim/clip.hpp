// Global-norm gradient clipping (Pascanu et al. 2013), as torch.nn.utils.clip_grad_norm_.
#pragma once

#include "ouro/autograd/var.hpp"

#include <vector>

namespace ouro::optim {

/// The L2 norm of all gradients together, summed in a fixed order in double (parameters without
/// a gradient count as zero).
template <typename T> double grad_norm(const std::vector<Var<T>>& parameters);

/// Scales every gradient by min(1, max_norm / (norm + 1e-6)) and returns the norm before
/// clipping. Throws ConfigError when max_norm <= 0.
template <typename T> double clip_grad_norm(const std::vector<Var<T>>& parameters, double max_norm);

} // namespace ouro::optim
