// dropout: inverted dropout with a counter-based mask (see dropout.hpp).
// Forward, backward (adds into gradients), reference and autograd wrapper, in that order.
#include "ouro/ops/dropout.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <memory>
#include <sstream>
#include <type_traits>

namespace ouro::ops {
namespace {

// Elements per work item; a multiple of 16, and the least work worth a parallel region.
constexpr std::int64_t block = 16384;
// Elements whose keep flags are computed before they are applied: the flags stay in L1.
constexpr std::int64_t stretch = 1024;

// stream_uniform(key, i) is k * 2^-24 for the integer k = stream_value(key, i) >> 40, so
// "stream_uniform < p" is exactly "k < p * 2^24", i.e. "k < ceil(p * 2^24)": an integer compare
// with no float conversion in the loop.
std::uint64_t drop_threshold(double p) {
    return std::uint64_t(std::ceil(p * 0x1.0p24));
}

// v when keep is 1, +0 when it is 0. A bit mask rather than `keep ? v : 0`, which GCC will not
// vectorise without -fno-trapping-math; the result is the same bits either way.
template <typename T> inline T keep_or_zero(T v, std::uint8_t keep) {
    using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
    return std::bit_cast<T>(std::bit_cast<Bits>(v) & (Bits(0) - Bits(keep)));
}

} // namespace

// Shapes: x (n), out (n), mask (n) or null.
template <typename T>
void dropout_forward(const T* x, std::int64_t n, double p, std::uint64_t key, T* out,
                     std::uint8_t* mask) {
    const std::uint64_t threshold = drop_threshold(p);
    const T scale = T(1.0 / (1.0 - p));
    const std::int64_t blocks = (n + block - 1) / block;
#pragma omp parallel for schedule(static) if (blocks > 1)
    for (std::int64_t b = 0; b < blocks; ++b) {
        const std::int64_t i1 = std::min(n, b * block + block);
        // Two passes over each stretch of `stretch` elements, each a branch-free loop the compiler
        // vectorises: the keep flags (the hash on 64-bit lanes), then the scaled, masked copy.
        std::uint8_t local[stretch];
        for (std::int64_t i0 = b * block; i0 < i1; i0 += stretch) {
            const std::int64_t len = std::min(stretch, i1 - i0);
            std::uint8_t* keep = mask ? mask + i0 : local;
            for (std::int64_t j = 0; j < len; ++j)
                keep[j] = (Rng::stream_value(key, std::uint64_t(i0 + j)) >> 40) >= threshold;
            for (std::int64_t j = 0; j < len; ++j)
                out[i0 + j] = keep_or_zero(x[i0 + j] * scale, keep[j]);
        }
    }
}

// Shapes: dout (n), mask (n), dx (n), added into.
template <typename T>
void dropout_backward(const T* dout, const std::uint8_t* mask, std::int64_t n, double p, T* dx) {
    const T scale = T(1.0 / (1.0 - p));
    const std::int64_t blocks = (n + block - 1) / block;
#pragma omp parallel for schedule(static) if (blocks > 1)
    for (std::int64_t b = 0; b < blocks; ++b) {
        const std::int64_t i1 = std::min(n, b * block + block);
        for (std::int64_t i = b * block; i < i1; ++i)
            dx[i] += keep_or_zero(dout[i] * scale, mask[i]);
    }
}

template <typename T>
void dropout_reference(const T* x, std::int64_t n, double p, std::uint64_t key, T* out) {
    for (std::int64_t i = 0; i < n; ++i)
        out[i] = Rng::stream_uniform(key, std::uint64_t(i)) < p ? T(0) : x[i] * T(1.0 / (1.0 - p));
}

template <typename T> Var<T> dropout(const Var<T>& x, double p, Rng& rng, bool training) {
    if (!(p >= 0.0 && p < 1.0)) {
        std::ostringstream msg;
        msg << "dropout: probability must be in [0, 1), got " << p;
        throw ConfigError(msg.str());
    }
    if (!training || p == 0.0)
        return x;
    const std::uint64_t key = rng.next_u64();
    const std::int64_t n = x.numel();
    Tensor<T> out(x.shape());
    // The mask is only worth its n bytes when a backward pass will read it.
    std::shared_ptr<std::uint8_t[]> mask;
    if (GradMode::is_enabled() && x.requires_grad())
        mask.reset(new std::uint8_t[std::size_t(n)]);
    dropout_forward(x.value().data(), n, p, key, out.data(), mask.get());
    return detail::make_result("dropout", std::move(out), {x}, [mask, n, p](Node<T>& self) {
        dropout_backward(self.grad.data(), mask.get(), n, p, detail::input_grad(self, 0));
    });
}

#define OURO_INSTANTIATE(T)                                                                        \
    template void dropout_forward<T>(const T*, std::int64_t, double, std::uint64_t, T*,            \
                                     std::uint8_t*);                                               \
    template void dropout_backward<T>(const T*, const std::uint8_t*, std::int64_t, double, T*);    \
    template void dropout_reference<T>(const T*, std::int64_t, double, std::uint64_t, T*);         \
    template Var<T> dropout<T>(const Var<T>&, double, Rng&, bool);
OURO_INSTANTIATE(float)
OURO_INSTANTIATE(double)
#undef OURO_INSTANTIATE

} // namespace ouro::ops
