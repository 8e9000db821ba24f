// gradcheck: analytic Jacobian by one seeded backward per output element, numeric Jacobian by
// central differences per input element, compared entry by entry.
#include "ouro/autograd/gradcheck.hpp"

#include "ouro/autograd/backward.hpp"

#include <cmath>
#include <sstream>

namespace ouro {
namespace {

std::vector<VarD> make_leaves(const std::vector<TensorD>& inputs) {
    std::vector<VarD> leaves;
    leaves.reserve(inputs.size());
    for (const TensorD& t : inputs)
        leaves.emplace_back(t, true);
    return leaves;
}

VarD call(const std::function<VarD(const std::vector<VarD>&)>& f, const std::vector<VarD>& xs) {
    VarD out = f(xs);
    if (!out.defined())
        throw Error("gradcheck: the function returned an undefined Var");
    return out;
}

} // namespace

GradcheckResult gradcheck(const std::function<VarD(const std::vector<VarD>&)>& f,
                          const std::vector<TensorD>& inputs, const GradcheckOptions& options) {
    // Analytic Jacobian: analytic[k][i * n_k + j] = d out_i / d input_k[j].
    const TensorD out0 = call(f, make_leaves(inputs)).value();
    const std::int64_t n_out = out0.numel();
    std::vector<std::vector<double>> analytic(inputs.size());
    for (std::size_t k = 0; k < inputs.size(); ++k)
        analytic[k].assign(std::size_t(n_out * inputs[k].numel()), 0.0);
    for (std::int64_t i = 0; i < n_out; ++i) {
        std::vector<VarD> xs = make_leaves(inputs);
        VarD out = call(f, xs);
        if (!out.requires_grad())
            continue; // output does not depend on any input
        TensorD seed(out.shape());
        seed[i] = 1.0;
        backward(out, seed);
        for (std::size_t k = 0; k < xs.size(); ++k) {
            if (!xs[k].has_grad())
                continue;
            const std::int64_t n = inputs[k].numel();
            for (std::int64_t j = 0; j < n; ++j)
                analytic[k][std::size_t(i * n + j)] = xs[k].grad()[j];
        }
    }

    // Numeric Jacobian by central differences, compared as it is computed.
    GradcheckResult result;
    double worst_excess = 0.0;
    NoGradGuard no_grad;
    std::vector<TensorD> xs = inputs;
    for (std::size_t k = 0; k < inputs.size(); ++k) {
        const std::int64_t n = inputs[k].numel();
        for (std::int64_t j = 0; j < n; ++j) {
            const double x = xs[k][j];
            xs[k][j] = x + options.eps;
            std::vector<VarD> plus_leaves;
            for (const TensorD& t : xs)
                plus_leaves.emplace_back(t, false);
            const TensorD plus = call(f, plus_leaves).value();
            xs[k][j] = x - options.eps;
            std::vector<VarD> minus_leaves;
            for (const TensorD& t : xs)
                minus_leaves.emplace_back(t, false);
            const TensorD minus = call(f, minus_leaves).value();
            xs[k][j] = x;
            for (std::int64_t i = 0; i < n_out; ++i) {
                const double numeric = (plus[i] - minus[i]) / (2.0 * options.eps);
                const double a = analytic[k][std::size_t(i * n + j)];
                const double err = std::abs(a - numeric);
                const double tol = options.atol + options.rtol * std::abs(numeric);
                result.max_abs_error = std::max(result.max_abs_error, err);
                if (!(err <= tol) && (err - tol > worst_excess || result.ok)) {
                    worst_excess = err - tol;
                    result.ok = false;
                    std::ostringstream msg;
                    msg.precision(10);
                    msg << "gradcheck: input " << k << " element " << j << ", output element " << i
                        << ": analytic " << a << ", numeric " << numeric << " (error " << err
                        << " > tolerance " << tol << ")";
                    result.message = msg.str();
                }
            }
        }
    }
    return result;
}

} // namespace ouro
