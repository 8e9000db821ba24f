// gradcheck: compares the gradients an op's backward computes with central finite differences,
// in double precision, over the op's whole Jacobian.
//
// For f: inputs -> output (any shapes), the analytic Jacobian row for output element i is one
// backward pass seeded with the i-th unit vector; the numeric Jacobian column for input element j
// is (f(x + eps e_j) - f(x - eps e_j)) / (2 eps). Each entry must satisfy
//   |analytic - numeric| <= atol + rtol * |numeric|.
// Tolerances are per check, not global: pass the ones an op's conditioning allows.
#pragma once

#include "ouro/autograd/var.hpp"

#include <functional>
#include <string>
#include <vector>

namespace ouro {

struct GradcheckOptions {
    double eps = 1e-6;  ///< finite-difference step
    double atol = 1e-7; ///< absolute tolerance per Jacobian entry
    double rtol = 1e-5; ///< relative tolerance per Jacobian entry
};

struct GradcheckResult {
    bool ok = true;
    double max_abs_error = 0.0;
    /// Empty when ok; otherwise says which entry failed worst, e.g.
    /// "gradcheck: input 1 element 7, output element 3: analytic 0.5, numeric 0.25"
    std::string message;
    explicit operator bool() const { return ok; }
};

/// Checks the full Jacobian of `f` at `inputs`. `f` is called with one leaf Var per input (each
/// requiring a gradient) and must build its output from them with ops only. Throws Error when f
/// returns an undefined Var.
GradcheckResult gradcheck(const std::function<VarD(const std::vector<VarD>&)>& f,
                          const std::vector<TensorD>& inputs, const GradcheckOptions& options = {});

} // namespace ouro
