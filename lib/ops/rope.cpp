// Rotary position embedding: the decode helpers (rope_angles, rope_rotate), forward, backward
// (the inverse rotation, added into dx), reference and autograd wrapper. Rows (b, t) run in
// parallel, each head through rotate_head.
#include "ouro/ops/rope.hpp"

#include "kernels.hpp"

#include <cmath>
#include <string>
#include <vector>

namespace ouro::ops {
namespace {

// cos_sin[2i], cos_sin[2i + 1] = cos and sin of position * base^(-2i / (2 half)), in double,
// rounded once to T. Shared by the batched tables and rope_angles, so both hold the same bits.
template <typename T>
void fill_angles(std::int64_t position, double base, std::int64_t half, T* cos_sin) {
    for (std::int64_t i = 0; i < half; ++i) {
        const double inv_freq = std::pow(base, -double(2 * i) / double(2 * half));
        const double angle = double(position) * inv_freq;
        cos_sin[2 * i] = T(std::cos(angle));
        cos_sin[2 * i + 1] = T(std::sin(angle));
    }
}

// Rotates one head (2 half values) by the (cos, sin) pairs of cs: by +angle (sign = 1) or -angle
// (sign = -1), adding into out when accumulate is set; in may equal out. The outputs are explicit
// fused multiply-adds, and the function is not inlined, so that the batched kernels and
// rope_rotate run the same machine code and round alike.
template <typename T>
[[gnu::noinline]] void rotate_head(const T* in, T* out, const T* cs, std::int64_t half,
                                   RopeLayout layout, T sign, bool accumulate) {
    // Pair i is channels (i * lo_step, i * lo_step + hi_offset).
    const bool interleaved = layout == RopeLayout::interleaved;
    const std::int64_t lo_step = interleaved ? 2 : 1, hi_offset = interleaved ? 1 : half;
    for (std::int64_t i = 0; i < half; ++i) {
        const std::int64_t lo = i * lo_step, hi = lo + hi_offset;
        const T c = cs[2 * i], s = sign * cs[2 * i + 1];
        const T x1 = in[lo], x2 = in[hi];
        const T y1 = std::fma(x1, c, -(x2 * s));
        const T y2 = std::fma(x2, c, x1 * s);
        if (accumulate) {
            out[lo] += y1;
            out[hi] += y2;
        } else {
            out[lo] = y1;
            out[hi] = y2;
        }
    }
}

// Rotates every head of every row by +angle (sign = 1) or -angle (sign = -1), adding into out
// when accumulate is set.
template <typename T>
void rotate(const T* in, T* out, std::int64_t B, std::int64_t T_, std::int64_t C, int n_head,
            const RopeOptions& o, T sign, bool accumulate) {
    const std::int64_t hs = C / n_head, half = hs / 2;
    // (cos, sin) pairs of every row position: a table (T, half, 2), computed once per call.
    std::vector<T> cos_sin(std::size_t(T_ * 2 * half));
    for (std::int64_t t = 0; t < T_; ++t)
        fill_angles(o.position_offset + t, o.base, half, cos_sin.data() + t * 2 * half);
#pragma omp parallel for schedule(static) if (B * T_ * C >= detail::parallel_threshold)
    for (std::int64_t row = 0; row < B * T_; ++row) {
        const T* cs = cos_sin.data() + (row % T_) * 2 * half;
        for (int h = 0; h < n_head; ++h)
            rotate_head(in + row * C + h * hs, out + row * C + h * hs, cs, half, o.layout, sign,
                        accumulate);
    }
}

} // namespace

void rope_angles(std::int64_t position, double base, std::int64_t head_size, float* cos_sin) {
    fill_angles(position, base, head_size / 2, cos_sin);
}

void rope_rotate(const float* in, float* out, const float* cos_sin, std::int64_t head_size,
                 RopeLayout layout) {
    rotate_head(in, out, cos_sin, head_size / 2, layout, 1.0f, false);
}

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
    const bool interleaved = o.layout == RopeLayout::interleaved;
    for (std::int64_t b = 0; b < B; ++b)
        for (std::int64_t t = 0; t < T_; ++t)
            for (std::int64_t h = 0; h < n_head; ++h)
                for (std::int64_t i = 0; i < half; ++i) {
                    const double angle = double(o.position_offset + t) *
                                         std::pow(o.base, -double(2 * i) / double(hs));
                    const std::int64_t head = (b * T_ + t) * C + h * hs;
                    const std::int64_t lo = head + (interleaved ? 2 * i : i);
                    const std::int64_t hi = interleaved ? lo + 1 : lo + half;
                    const double x1 = x[lo], x2 = x[hi];
                    out[lo] = T(x1 * std::cos(angle) - x2 * std::sin(angle));
                    out[hi] = T(x2 * std::cos(angle) + x1 * std::sin(angle));
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
