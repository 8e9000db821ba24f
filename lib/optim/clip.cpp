// Global gradient norm and clipping. The sum of squares runs over fixed chunks, each summed in the
// library's fixed order (numerics/sum.hpp), whose partial sums are added in chunk order, so the
// norm is the same for any thread count.
#include "ouro/optim/clip.hpp"

#include "numerics/sum.hpp"

#include "ouro/core/parallel.hpp"

#include <cmath>
#include <string>

namespace ouro::optim {

template <typename T> double grad_norm(const std::vector<Var<T>>& parameters) {
    double total = 0.0;
    for (const Var<T>& p : parameters) {
        if (!p.has_grad())
            continue;
        const T* g = p.grad().data();
        const std::int64_t n = p.numel();
        const std::int64_t chunks = (n + detail::reduction_chunk - 1) / detail::reduction_chunk;
        std::vector<double> partial(std::size_t(chunks), 0.0);
#pragma omp parallel for schedule(static)
        for (std::int64_t c = 0; c < chunks; ++c) {
            const std::int64_t end = std::min(n, (c + 1) * detail::reduction_chunk);
            const std::int64_t begin = c * detail::reduction_chunk;
            partial[std::size_t(c)] = numerics::dot_double(g + begin, g + begin, end - begin);
        }
        for (double s : partial)
            total += s;
    }
    return std::sqrt(total);
}

template <typename T>
double clip_grad_norm(const std::vector<Var<T>>& parameters, double max_norm) {
    if (!(max_norm > 0.0))
        throw ConfigError("clip_grad_norm: max_norm must be positive, got " +
                          std::to_string(max_norm));
    const double norm = grad_norm(parameters);
    const double coef = max_norm / (norm + 1e-6);
    if (coef < 1.0)
        for (const Var<T>& p : parameters)
            if (p.has_grad()) {
                Var<T> q = p; // a handle: scaling q's gradient scales p's
                for (T& g : q.grad().values())
                    g *= T(coef);
            }
    return norm;
}

template double grad_norm<float>(const std::vector<Var<float>>&);
template double grad_norm<double>(const std::vector<Var<double>>&);
template double clip_grad_norm<float>(const std::vector<Var<float>>&, double);
template double clip_grad_norm<double>(const std::vector<Var<double>>&, double);

} // namespace ouro::optim
