// SwiGLU: forward, backward (adds into gradients), reference and autograd wrapper, in that order.
// See swiglu.hpp for the overflow-free sigmoid form the kernels evaluate. Float runs eight lanes
// at a time on numerics::exp8 (lib/numerics/exp.hpp); double, and float without AVX2, run the same
// formulas on std::exp. Rows run in parallel, each through the same row function.
#include "ouro/ops/swiglu.hpp"

#include "kernels.hpp"
#include "numerics/exp.hpp"

#include <cmath>
#include <string>
#include <type_traits>

namespace ouro::ops {

namespace {

// silu(a) = a s with s = sigmoid(a), as (a >= 0 ? a : a t) / (1 + t), t = e^(-|a|).
template <typename T> inline T silu_one(T a) {
    const T t = std::exp(-std::abs(a));
    return (a >= 0 ? a : a * t) / (T(1) + t);
}

// Adds dout u s (1 + a (1 - s)) into dgate and dout silu(a) into dup.
template <typename T> inline void swiglu_grad_one(T a, T u, T g, T& dgate, T& dup) {
    const T t = std::exp(-std::abs(a));
    const T inv = T(1) / (T(1) + t);
    const T s = (a >= 0 ? T(1) : t) * inv;
    const T one_minus_s = (a >= 0 ? t : T(1)) * inv;
    dgate += g * u * s * (T(1) + a * one_minus_s);
    dup += g * (a * s);
}

#if OURO_HAVE_AVX2
// t = e^(-|a|) and the mask of lanes with a >= 0.
inline void sigmoid_parts8(__m256 a, __m256& t, __m256& nonneg) {
    t = numerics::exp8(_mm256_or_ps(a, _mm256_set1_ps(-0.0f))); // -|a|
    nonneg = _mm256_cmp_ps(a, _mm256_setzero_ps(), _CMP_GE_OQ);
}

inline __m256 swiglu8(__m256 a, __m256 u) {
    __m256 t, nonneg;
    sigmoid_parts8(a, t, nonneg);
    const __m256 num = _mm256_blendv_ps(_mm256_mul_ps(a, t), a, nonneg);
    return _mm256_mul_ps(_mm256_div_ps(num, _mm256_add_ps(_mm256_set1_ps(1.0f), t)), u);
}

// Eight lanes of swiglu_grad_one: returns the gate and up gradients in dgate and dup.
inline void swiglu_grad8(__m256 a, __m256 u, __m256 g, __m256& dgate, __m256& dup) {
    const __m256 one = _mm256_set1_ps(1.0f);
    __m256 t, nonneg;
    sigmoid_parts8(a, t, nonneg);
    const __m256 inv = _mm256_div_ps(one, _mm256_add_ps(one, t));
    const __m256 s = _mm256_mul_ps(_mm256_blendv_ps(t, one, nonneg), inv);
    const __m256 one_minus_s = _mm256_mul_ps(_mm256_blendv_ps(one, t, nonneg), inv);
    const __m256 gs = _mm256_mul_ps(_mm256_mul_ps(g, u), s);
    dgate = _mm256_fmadd_ps(gs, _mm256_fmadd_ps(a, one_minus_s, one), dgate);
    dup = _mm256_fmadd_ps(g, _mm256_mul_ps(a, s), dup);
}
#endif

// One row: x (2H), out (H). Not inlined, so that the parallel and the serial kernel run the same
// machine code.
template <typename T> [[gnu::noinline]] void swiglu_row(const T* x, T* out, std::int64_t H) {
    const T* u = x + H;
#if OURO_HAVE_AVX2
    if constexpr (std::is_same_v<T, float>) {
        std::int64_t i = 0;
        for (; i + 8 <= H; i += 8)
            _mm256_storeu_ps(out + i, swiglu8(_mm256_loadu_ps(x + i), _mm256_loadu_ps(u + i)));
        if (i < H) {
            const __m256i mask = numerics::tail_mask(H - i);
            _mm256_maskstore_ps(
                out + i, mask,
                swiglu8(_mm256_maskload_ps(x + i, mask), _mm256_maskload_ps(u + i, mask)));
        }
        return;
    }
#endif
    for (std::int64_t i = 0; i < H; ++i)
        out[i] = silu_one(x[i]) * u[i];
}

// One row of the backward pass: x, dx (2H), dout (H).
template <typename T> void swiglu_backward_row(const T* x, const T* g, T* dx, std::int64_t H) {
    const T* u = x + H;
    T* dup = dx + H;
#if OURO_HAVE_AVX2
    if constexpr (std::is_same_v<T, float>) {
        std::int64_t i = 0;
        for (; i + 8 <= H; i += 8) {
            __m256 dg = _mm256_loadu_ps(dx + i), du = _mm256_loadu_ps(dup + i);
            swiglu_grad8(_mm256_loadu_ps(x + i), _mm256_loadu_ps(u + i), _mm256_loadu_ps(g + i), dg,
                         du);
            _mm256_storeu_ps(dx + i, dg);
            _mm256_storeu_ps(dup + i, du);
        }
        if (i < H) {
            const __m256i mask = numerics::tail_mask(H - i);
            __m256 dg = _mm256_maskload_ps(dx + i, mask), du = _mm256_maskload_ps(dup + i, mask);
            swiglu_grad8(_mm256_maskload_ps(x + i, mask), _mm256_maskload_ps(u + i, mask),
                         _mm256_maskload_ps(g + i, mask), dg, du);
            _mm256_maskstore_ps(dx + i, mask, dg);
            _mm256_maskstore_ps(dup + i, mask, du);
        }
        return;
    }
#endif
    for (std::int64_t i = 0; i < H; ++i)
        swiglu_grad_one(x[i], u[i], g[i], dx[i], dup[i]);
}

} // namespace

// Shapes: x (N, 2H), out (N, H); on Llama activations N = B * T and H the hidden size.
template <typename T> void swiglu_forward(const T* x, T* out, std::int64_t N, std::int64_t H) {
#pragma omp parallel for schedule(static) if (N * H >= detail::parallel_threshold)
    for (std::int64_t row = 0; row < N; ++row)
        swiglu_row(x + row * 2 * H, out + row * H, H);
}

// Shapes: as swiglu_forward. The same rows, in order, on the calling thread.
template <typename T>
void swiglu_forward_serial(const T* x, T* out, std::int64_t N, std::int64_t H) {
    for (std::int64_t row = 0; row < N; ++row)
        swiglu_row(x + row * 2 * H, out + row * H, H);
}

// Shapes: x, dx (N, 2H); dout (N, H); dx is added into.
template <typename T>
void swiglu_backward(const T* x, const T* dout, T* dx, std::int64_t N, std::int64_t H) {
#pragma omp parallel for schedule(static) if (N * H >= detail::parallel_threshold)
    for (std::int64_t row = 0; row < N; ++row)
        swiglu_backward_row(x + row * 2 * H, dout + row * H, dx + row * 2 * H, H);
}

template <typename T> void swiglu_reference(const T* x, T* out, std::int64_t N, std::int64_t H) {
    for (std::int64_t row = 0; row < N; ++row)
        for (std::int64_t i = 0; i < H; ++i) {
            const T a = x[row * 2 * H + i], u = x[row * 2 * H + H + i];
            out[row * H + i] = a / (T(1) + std::exp(-a)) * u;
        }
}

template <typename T> Var<T> swiglu(const Var<T>& x) {
    const Shape& shape = x.shape();
    if (shape.rank() == 0)
        throw ShapeError("swiglu: input must have at least one dimension, got " +
                         shape.to_string());
    if (shape.back() % 2 != 0)
        throw ShapeError("swiglu: the last dimension must be even (gate and up halves), got " +
                         shape.to_string());
    const std::int64_t N = shape.rows(), H = shape.back() / 2;
    Tensor<T> out(shape.with_dim(-1, H));
    swiglu_forward(x.value().data(), out.data(), N, H);
    return detail::make_result("swiglu", std::move(out), {x}, [N, H](Node<T>& self) {
        if (T* dx = detail::input_grad(self, 0))
            swiglu_backward(self.inputs[0]->value.data(), self.grad.data(), dx, N, H);
    });
}

#define OURO_INSTANTIATE(T)                                                                        \
    template void swiglu_forward<T>(const T*, T*, std::int64_t, std::int64_t);                     \
    template void swiglu_forward_serial<T>(const T*, T*, std::int64_t, std::int64_t);              \
    template void swiglu_backward<T>(const T*, const T*, T*, std::int64_t, std::int64_t);          \
    template void swiglu_reference<T>(const T*, T*, std::int64_t, std::int64_t);                   \
    template Var<T> swiglu<T>(const Var<T>&);
OURO_INSTANTIATE(float)
OURO_INSTANTIATE(double)
#undef OURO_INSTANTIATE

} // namespace ouro::ops
