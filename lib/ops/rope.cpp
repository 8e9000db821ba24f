// Rotary position embedding: forward, backward (the inverse rotation, added into dx), reference
// and autograd wrapper.
#include "ouro/ops/rope.hpp"

#include <cmath>
#include <string>
#include <vector>

namespace ouro::ops {
namespace {

// cos and sin of every (t, i) angle: tables (T, HS/2), computed once per call in double.
template <typename T>
void angle_tables(std::int64_t T_, std::int64_t half, const RopeOptions& o, std::vector<T>& cos_t,
                  std::vector<T>& sin_t) {
    cos_t.resize(std::size_t(T_ * half));
    sin_t.resize(std::size_t(T_ * half));
    for (std::int64_t t = 0; t < T_; ++t)
        for (std::int64_t i = 0; i < half; ++i) {
            const double inv_freq = std::pow(o.base, -double(2 * i) / double(2 * half));
            const double angle = double(o.position_offset + t) * inv_freq;
            cos_t[std::size_t(t * half + i)] = T(std::cos(angle));
            sin_t[std::size_t(t * half + i)] = T(std::sin(angle));
        }
}

// Rotates every head of every row by +angle (sign = 1) or -angle (sign = -1), adding into out
// when accumulate is set.
template <typename T>
void rotate(const T* in, T* out, std::int64_t B, std::int64_t T_, std::int64_t C, int n_head,
            const RopeOptions& o, T sign, bool accumulate) {
    const std::int64_t half = C / n_head / 2;
    std::vector<T> cos_t, sin_t;
    angle_tables(T_, half, o, cos_t, sin_t);
#pragma omp parallel for schedule(static)
    for (std::int64_t row = 0; row < B * T_; ++row) {
        const std::int64_t t = row % T_;
        const T* c = cos_t.data() + t * half;
        const T* s = sin_t.data() + t * half;
        for (int h = 0; h < n_head; ++h) {
            const T* x = in + row * C + h * 2 * half;
            T* y = out + row * C + h * 2 * half;
            for (std::int64_t i = 0; i < half; ++i) {
                const T x1 = x[i], x2 = x[i + half];
                const T y1 = x1 * c[i] - sign * x2 * s[i];
                const T y2 = x2 * c[i] + sign * x1 * s[i];
                if (accumulate) {
                    y[i] += y1;
                    y[i + half] += y2;
                } else {
                    y[i] = y1;
                    y[i + half] = y2;
                }
            }
        }
    }
}

} // namespace

// x, out: (B, T, C); head h occupies channels [h*HS, (h+1)*HS).
template <typename T>
void rope_forward(const T* x, T* out, std::int64_t B, std::int64_t T_, std::int64_t C, int n_head,
                  const RopeOptions& options) {
    rotate(x, out, B, T_, C, n_head, options, T(1), false);
}

// The rotation is orthogonal, so its transpose (the rotation by -angle) maps dout to dx.
template <typename T>
void rope_backward(const T* dout, T* dx, std::int64_t B, std::int64_t T_, std::int64_t C,
                   int n_head, const RopeOptions& options) {
    rotate(dout, dx, B, T_, C, n_head, options, T(-1), true);
}

template <typename T>
void rope_reference(const T* x, T* out, std::int64_t B, std::int64_t T_, std::int64_t C, int n_head,
                    const RopeOptions& o) {
    const std::int64_t hs = C / n_head, half = hs / 2;
    for (std::int64_t b = 0; b < B; ++b)
        for (std::int64_t t = 0; t < T_; ++t)
            for (std::int64_t h = 0; h < n_head; ++h)
                for (std::int64_t i = 0; i < half; ++i) {
                    const double angle = double(o.position_offset + t) *
                                         std::pow(o.base, -double(2 * i) / double(hs));
                    const std::int64_t base = (b * T_ + t) * C + h * hs;
                    const double x1 = x[base + i], x2 = x[base + i + half];
                    out[base + i] = T(x1 * std::cos(angle) - x2 * std::sin(angle));
                    out[base + i + half] = T(x2 * std::cos(angle) + x1 * std::sin(angle));
                }
}

template <typename T> Var<T> rope(const Var<T>& x, int n_head, const RopeOptions& options) {
    const Shape& s = x.shape();
    if (n_head < 1)
        throw ConfigError("rope: n_head must be at least 1, got " + std::to_string(n_head));
    if (!(options.base > 0.0))
        throw ConfigError("rope: base must be positive, got " + std::to_string(options.base));
    if (s.rank() != 3)
        throw ShapeError("rope: x must be (B, T, C), got " + s.to_string());
    if (s[2] % n_head != 0 || (s[2] / n_head) % 2 != 0)
        throw ShapeError("rope: C = " + std::to_string(s[2]) + " must split into " +
                         std::to_string(n_head) + " heads of even size, x is " + s.to_string());
    const std::int64_t B = s[0], T_ = s[1], C = s[2];
    Tensor<T> out(s);
    rope_forward(x.value().data(), out.data(), B, T_, C, n_head, options);
    return detail::make_result("rope", std::move(out), {x}, [=](Node<T>& self) {
        rope_backward(self.grad.data(), detail::input_grad(self, 0), B, T_, C, n_head, options);
    });
}

#define OURO_INSTANTIATE(T)                                                                        \
    template void rope_forward<T>(const T*, T*, std::int64_t, std::int64_t, std::int64_t, int,     \
                                  const RopeOptions&);                                             \
    template void rope_backward<T>(const T*, T*, std::int64_t, std::int64_t, std::int64_t, int,    \
                                   const RopeOptions&);                                            \
    template void rope_reference<T>(const T*, T*, std::int64_t, std::int64_t, std::int64_t, int,   \
                                    const RopeOptions&);                                           \
    template Var<T> rope<T>(const Var<T>&, int, const RopeOptions&);
OURO_INSTANTIATE(float)
OURO_INSTANTIATE(double)
#undef OURO_INSTANTIATE

} // namespace ouro::ops
