// GELU (tanh approximation, as in GPT-2): forward, backward (adds into gradients), reference and
// autograd wrapper, in that order. See gelu.hpp for the sigmoid form the kernels evaluate. Float
// runs eight lanes at a time on numerics::exp8 (lib/numerics/exp.hpp); double, and float without
// AVX2, run the same formulas on std::exp.
#include "ouro/ops/gelu.hpp"

#include "kernels.hpp"
#include "numerics/exp.hpp"

#include <cmath>
#include <type_traits>

namespace ouro::ops {

namespace {

constexpr double sqrt_2_over_pi = 0.7978845608028654; // sqrt(2 / pi)
constexpr double cubic = 0.044715;
// a = -2u = x (k0 + k1 x^2), and 2 x u' = x (k2 + k3 x^2).
constexpr double k0 = -2.0 * sqrt_2_over_pi;
constexpr double k1 = -2.0 * sqrt_2_over_pi * cubic;
constexpr double k2 = 2.0 * sqrt_2_over_pi;
constexpr double k3 = 6.0 * sqrt_2_over_pi * cubic;

// With t = e^(-|a|) in (0, 1], never overflowing:
//   s = 1 / (1 + e^a) = (a > 0 ? t : 1) / (1 + t),   1 - s = (a > 0 ? 1 : t) / (1 + t).
template <typename T> inline T gelu_one(T x) {
    const T a = x * (T(k0) + T(k1) * x * x);
    const T t = std::exp(-std::abs(a));
    return (a > 0 ? x * t : x) / (T(1) + t);
}

template <typename T> inline T gelu_grad_one(T x) {
    const T x2 = x * x;
    const T a = x * (T(k0) + T(k1) * x2);
    const T t = std::exp(-std::abs(a));
    const T inv = T(1) / (T(1) + t);
    const T s = (a > 0 ? t : T(1)) * inv;
    const T one_minus_s = (a > 0 ? T(1) : t) * inv;
    const T g = x * (T(k2) + T(k3) * x2);
    return s * (T(1) + g * one_minus_s);
}

#if OURO_HAVE_AVX2
// a = -2u and t = e^(-|a|) for eight lanes.
inline void gelu_arg8(__m256 x, __m256 x2, __m256& a, __m256& t) {
    a = _mm256_mul_ps(x, _mm256_fmadd_ps(_mm256_set1_ps(float(k1)), x2, _mm256_set1_ps(float(k0))));
    t = numerics::exp8(_mm256_or_ps(a, _mm256_set1_ps(-0.0f))); // -|a|
}

inline __m256 gelu8(__m256 x) {
    const __m256 one = _mm256_set1_ps(1.0f);
    __m256 a, t;
    gelu_arg8(x, _mm256_mul_ps(x, x), a, t);
    const __m256 a_pos = _mm256_cmp_ps(a, _mm256_setzero_ps(), _CMP_GT_OQ);
    const __m256 num = _mm256_blendv_ps(x, _mm256_mul_ps(x, t), a_pos);
    return _mm256_div_ps(num, _mm256_add_ps(one, t));
}

inline __m256 gelu_grad8(__m256 x) {
    const __m256 one = _mm256_set1_ps(1.0f);
    const __m256 x2 = _mm256_mul_ps(x, x);
    __m256 a, t;
    gelu_arg8(x, x2, a, t);
    const __m256 a_pos = _mm256_cmp_ps(a, _mm256_setzero_ps(), _CMP_GT_OQ);
    const __m256 inv = _mm256_div_ps(one, _mm256_add_ps(one, t));
    const __m256 s = _mm256_mul_ps(_mm256_blendv_ps(one, t, a_pos), inv);
    const __m256 one_minus_s = _mm256_mul_ps(_mm256_blendv_ps(t, one, a_pos), inv);
    const __m256 g =
        _mm256_mul_ps(x, _mm256_fmadd_ps(_mm256_set1_ps(float(k3)), x2, _mm256_set1_ps(float(k2))));
    return _mm256_mul_ps(s, _mm256_fmadd_ps(g, one_minus_s, one));
}
#endif

} // namespace

// Shapes: x (n), out (n); on GPT activations n = B * T * 4C.
template <typename T> void gelu_forward(const T* x, T* out, std::int64_t n) {
    detail::parallel_blocks(
        n, [&](std::int64_t i0, std::int64_t len) { gelu_forward_serial(x + i0, out + i0, len); });
}

// Shapes: x (n), out (n). Every element goes through the same instructions wherever it sits (the
// tail through masked vectors), so any split of a buffer gives the same values.
template <typename T> void gelu_forward_serial(const T* x, T* out, std::int64_t n) {
#if OURO_HAVE_AVX2
    if constexpr (std::is_same_v<T, float>) {
        numerics::map8(x, out, n, [](__m256 v) { return gelu8(v); });
        return;
    }
#endif
    for (std::int64_t i = 0; i < n; ++i)
        out[i] = gelu_one(x[i]);
}

namespace {

// dx = (Add ? dx : 0) + dout * gelu'(x) over blocks of all threads. Writing (Add false) serves
// a gradient buffer that does not exist yet, so that it is not zero-filled first; fma(d, g, 0)
// and d * g round alike, so the values are those of adding into zeros.
template <bool Add, typename T>
void gelu_backward_into(const T* x, const T* dout, T* dx, std::int64_t n) {
    detail::parallel_blocks(n, [&](std::int64_t i0, std::int64_t len) {
#if OURO_HAVE_AVX2
        if constexpr (std::is_same_v<T, float>) {
            const std::int64_t i1 = i0 + len;
            std::int64_t i = i0;
            for (; i + 8 <= i1; i += 8) {
                const __m256 d = gelu_grad8(_mm256_loadu_ps(x + i));
                const __m256 g = _mm256_loadu_ps(dout + i);
                _mm256_storeu_ps(dx + i, Add ? _mm256_fmadd_ps(g, d, _mm256_loadu_ps(dx + i))
                                             : _mm256_mul_ps(g, d));
            }
            if (i < i1) {
                const __m256i mask = numerics::tail_mask(i1 - i);
                const __m256 d = gelu_grad8(_mm256_maskload_ps(x + i, mask));
                const __m256 g = _mm256_maskload_ps(dout + i, mask);
                _mm256_maskstore_ps(dx + i, mask,
                                    Add ? _mm256_fmadd_ps(g, d, _mm256_maskload_ps(dx + i, mask))
                                        : _mm256_mul_ps(g, d));
            }
            return;
        }
#endif
        for (std::int64_t i = i0; i < i0 + len; ++i) {
            if constexpr (Add)
                dx[i] += dout[i] * gelu_grad_one(x[i]);
            else
                dx[i] = dout[i] * gelu_grad_one(x[i]);
        }
    });
}

} // namespace

// Shapes: x, dout, dx all (n); dx is added into.
template <typename T> void gelu_backward(const T* x, const T* dout, T* dx, std::int64_t n) {
    gelu_backward_into<true>(x, dout, dx, n);
}

template <typename T> void gelu_reference(const T* x, T* out, std::int64_t n) {
    const T s = T(sqrt_2_over_pi);
    for (std::int64_t i = 0; i < n; ++i)
        out[i] = T(0.5) * x[i] * (T(1) + std::tanh(s * (x[i] + T(cubic) * x[i] * x[i] * x[i])));
}

template <typename T> Var<T> gelu(const Var<T>& x) {
    Tensor<T> out = Tensor<T>::uninitialized(x.shape());
    const std::int64_t n = out.numel();
    gelu_forward(x.value().data(), out.data(), n);
    return detail::make_result("gelu", std::move(out), {x}, [n](Node<T>& self) {
        const detail::GradTarget<T> dx = detail::input_grad_target(self, 0);
        if (dx.fresh)
            gelu_backward_into<false>(self.inputs[0]->value.data(), self.grad.data(), dx.data, n);
        else if (dx.data)
            gelu_backward(self.inputs[0]->value.data(), self.grad.data(), dx.data, n);
    });
}

#define OURO_INSTANTIATE(T)                                                                        \
    template void gelu_forward<T>(const T*, T*, std::int64_t);                                     \
    template void gelu_forward_serial<T>(const T*, T*, std::int64_t);                              \
    template void gelu_backward<T>(const T*, const T*, T*, std::int64_t);                          \
    template void gelu_reference<T>(const T*, T*, std::int64_t);                                   \
    template Var<T> gelu<T>(const Var<T>&);
OURO_INSTANTIATE(float)
OURO_INSTANTIATE(double)
#undef OURO_INSTANTIATE

} // namespace ouro::ops
