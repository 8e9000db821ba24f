// backward(): reverse-mode differentiation of a graph of Vars (see var.hpp for the graph).
#pragma once

#include "ouro/autograd/var.hpp"

namespace ouro {

struct BackwardOptions {
    /// Keep the graph (inputs, saved tensors and intermediate gradients) after the pass, so
    /// backward can run through it again and intermediate gradients can be inspected.
    bool retain_graph = false;
};

/// Adds d(loss)/d(leaf) into the gradient of every leaf that requires one. `loss` must hold one
/// element. Throws Error when the loss does not require a gradient or when the graph was freed by
/// an earlier backward.
template <typename T> void backward(const Var<T>& loss, const BackwardOptions& options = {});

/// The same with an explicit output gradient `seed` (same shape as `output`): computes the
/// vector-Jacobian product seed^T J for outputs of any shape. Throws ShapeError when the seed's
/// shape differs from the output's.
template <typename T>
void backward(const Var<T>& output, const Tensor<T>& seed, const BackwardOptions& options = {});

} // namespace ouro
