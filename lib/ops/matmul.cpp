// Matrix products: matmul (batched, transposes) and linear (x W^T + b). Every product, forward and
// backward, is one tiled GEMM (gemm_tiles.hpp): a single-threaded GEMM (Eigen's, or on the
// AVX-512 path for floats the library's own kernel) called once per tile of the output, with
// OpenMP over the tiles, compiled once per instruction-set path and chosen at run time (run_gemm
// below). Then, for each op, the forward kernel, the backward
// kernel (adding into gradients), the naive reference and the autograd wrapper, in that order.
#include "ouro/ops/matmul.hpp"

#include "gemm.hpp"

#include "ouro/core/isa.hpp"
#include "ouro/core/parallel.hpp"

#include <omp.h>

#include <algorithm>
#include <string>
#include <type_traits>
#include <vector>

namespace ouro::ops {
namespace {

using gemm::Gemm;
using gemm::Into;

// The tiled GEMM of the instruction-set path in use (ouro/core/isa.hpp, gemm_tiles.hpp).
template <typename T>
void run_gemm(const Gemm<T>& g, Into into, std::type_identity_t<const T*> bias = nullptr) {
    if (current_isa() == Isa::avx512)
        gemm::avx512::run_gemm(g, into, bias);
    else
        gemm::avx2::run_gemm(g, into, bias);
}

// The widest column block the bias gradient is summed in (see column_sums_add).
constexpr std::int64_t column_block = 256;

// sums (n) += the column sums of m (rows, n), each column summed over the rows in order. Threads
// own whole column blocks, so the order does not depend on the thread count, nor on the blocks'
// width: blocks of at most 256 columns (their sums stay in L1), narrower where the team has more
// threads than such blocks (one column of 256 would leave 15 of 16 threads idle), down to a cache
// line's worth of columns.
template <typename T> void column_sums_add(const T* m, std::int64_t rows, std::int64_t n, T* sums) {
    constexpr std::int64_t line = 64 / std::int64_t(sizeof(T));
    const bool team = rows * n >= detail::parallel_threshold && omp_in_parallel() == 0;
    const std::int64_t threads = team ? std::int64_t(num_threads()) : 1;
    const std::int64_t per_thread = (n + threads - 1) / threads;
    const std::int64_t width =
        std::clamp((per_thread + line - 1) / line * line, line, column_block);
    const std::int64_t blocks = (n + width - 1) / width;
#pragma omp parallel for schedule(static) if (blocks > 1 && team)
    for (std::int64_t blk = 0; blk < blocks; ++blk) {
        const std::int64_t j0 = blk * width, j1 = std::min(n, j0 + width);
        T acc[column_block] = {};
        for (std::int64_t r = 0; r < rows; ++r)
            for (std::int64_t j = j0; j < j1; ++j)
                acc[j - j0] += m[r * n + j];
        for (std::int64_t j = j0; j < j1; ++j)
            sums[j] += acc[j - j0];
    }
}

std::string with_flag(const Shape& s, bool transposed) {
    return s.to_string() + (transposed ? " transposed" : "");
}

} // namespace

MatmulDims matmul_dims(const Shape& a, const Shape& b, bool trans_a, bool trans_b) {
    if (a.rank() < 2 || b.rank() < 2)
        throw ShapeError("matmul: operands must have rank >= 2: a is " + a.to_string() + ", b is " +
                         b.to_string());
    MatmulDims d;
    d.shared_b = a.rank() > 2 && b.rank() == 2;
    if (!d.shared_b && a.prefix(-2) != b.prefix(-2))
        throw ShapeError("matmul: batch dimensions differ: a is " + a.to_string() + ", b is " +
                         b.to_string());
    const std::int64_t k_b = trans_b ? b[-1] : b[-2];
    d.batch = a.prefix(-2).numel();
    d.m = trans_a ? a[-1] : a[-2];
    d.k = trans_a ? a[-2] : a[-1];
    d.n = trans_b ? b[-2] : b[-1];
    d.trans_a = trans_a;
    d.trans_b = trans_b;
    if (d.k != k_b)
        throw ShapeError("matmul: inner dimensions differ: a is " + with_flag(a, trans_a) +
                         ", b is " + with_flag(b, trans_b));
    return d;
}

// Shapes: a (B, M, K), or (B, K, M) when trans_a; b (B, K, N), or (B, N, K) when trans_b, without
// the B when shared; out (B, M, N). With a shared b and an untransposed a, the B matrices of a are
// one (B * M, K) matrix, so the whole batch is a single GEMM.
template <typename T> void matmul_forward(const T* a, const T* b, T* out, const MatmulDims& d) {
    const bool flat = d.shared_b && !d.trans_a;
    const std::int64_t b_stride = d.shared_b ? 0 : d.k * d.n;
    run_gemm(Gemm<T>{a, d.m * d.k, d.trans_a, b, b_stride, d.trans_b, out, d.m * d.n, false,
                     flat ? 1 : d.batch, flat ? d.batch * d.m : d.m, d.n, d.k},
             Into::overwrite);
}

// Shapes: as matmul_forward; dout (B, M, N); da like a, db like b (both added into).
//   da: op(a) += dout . op(b)^T, i.e. a += dout . op(b)^T, or a += op(b) . dout^T when trans_a.
//   db: op(b) += op(a)^T . dout, i.e. b += op(a)^T . dout, or b += dout^T . op(a) when trans_b;
//       a shared b sums over the batch (as one GEMM over B * M rows when a is untransposed).
template <typename T>
void matmul_backward(const T* a, const T* b, const T* dout, detail::OptionalOut<T> da,
                     detail::OptionalOut<T> db, const MatmulDims& d) {
    const bool flat = d.shared_b && !d.trans_a;
    const std::int64_t batch = flat ? 1 : d.batch, m = flat ? d.batch * d.m : d.m;
    const std::int64_t a_stride = d.m * d.k, b_stride = d.shared_b ? 0 : d.k * d.n;
    const std::int64_t out_stride = d.m * d.n;
    if (da) {
        if (!d.trans_a) // da (M, K) += dout (M, N) . op(b)^T (N, K)
            run_gemm(Gemm<T>{dout, out_stride, false, b, b_stride, !d.trans_b, da, a_stride, false,
                             batch, m, d.k, d.n},
                     Into::add);
        else // da (K, M) += op(b) (K, N) . dout^T (N, M)
            run_gemm(Gemm<T>{b, b_stride, d.trans_b, dout, out_stride, true, da, a_stride, false,
                             d.batch, d.k, d.m, d.n},
                     Into::add);
    }
    if (db) {
        if (!d.trans_b) // db (K, N) += op(a)^T (K, M) . dout (M, N)
            run_gemm(Gemm<T>{a, a_stride, !d.trans_a, dout, out_stride, false, db, b_stride,
                             d.shared_b, batch, d.k, d.n, m},
                     Into::add);
        else // db (N, K) += dout^T (N, M) . op(a) (M, K)
            run_gemm(Gemm<T>{dout, out_stride, true, a, a_stride, d.trans_a, db, b_stride,
                             d.shared_b, batch, d.n, d.k, m},
                     Into::add);
    }
}

template <typename T> void matmul_reference(const T* a, const T* b, T* out, const MatmulDims& d) {
    for (std::int64_t s = 0; s < d.batch; ++s) {
        const T* as = a + s * d.m * d.k;
        const T* bs = b + (d.shared_b ? 0 : s * d.k * d.n);
        for (std::int64_t i = 0; i < d.m; ++i)
            for (std::int64_t j = 0; j < d.n; ++j) {
                T acc = T(0);
                for (std::int64_t p = 0; p < d.k; ++p) {
                    const T x = d.trans_a ? as[p * d.m + i] : as[i * d.k + p];
                    const T y = d.trans_b ? bs[j * d.k + p] : bs[p * d.n + j];
                    acc += x * y;
                }
                out[(s * d.m + i) * d.n + j] = acc;
            }
    }
}

template <typename T> Var<T> matmul(const Var<T>& a, const Var<T>& b, bool trans_a, bool trans_b) {
    const MatmulDims d = matmul_dims(a.shape(), b.shape(), trans_a, trans_b);
    Tensor<T> out = Tensor<T>::uninitialized(a.shape().prefix(-2).appended(d.m).appended(d.n));
    matmul_forward(a.value().data(), b.value().data(), out.data(), d);
    return detail::make_result("matmul", std::move(out), {a, b}, [d](Node<T>& self) {
        matmul_backward(self.inputs[0]->value.data(), self.inputs[1]->value.data(),
                        self.grad.data(), detail::input_grad(self, 0), detail::input_grad(self, 1),
                        d);
    });
}

// Shapes: x (R, IN), weight (OUT, IN), bias (OUT) or nullptr, out (R, OUT). The bias is written
// into each block of out just before the GEMM adds x . weight^T to it.
template <typename T>
void linear_forward(const T* x, const T* weight, detail::OptionalIn<T> bias, T* out,
                    std::int64_t rows, std::int64_t in, std::int64_t out_features) {
    run_gemm(Gemm<T>{x, 0, false, weight, 0, true, out, 0, false, 1, rows, out_features, in},
             Into::overwrite, bias);
}

namespace {
// linear_backward, with dx written (dx_into = overwrite) rather than added into when it is a
// gradient that does not exist yet: the same bits as adding into zeros, without the zero-fill.
template <typename T>
void linear_gradients(const T* x, const T* weight, const T* dout, T* dx, Into dx_into, T* dweight,
                      T* dbias, std::int64_t rows, std::int64_t in, std::int64_t out_features) {
    if (dx) // dx (R, IN) += dout (R, OUT) . weight (OUT, IN)
        run_gemm(Gemm<T>{dout, 0, false, weight, 0, false, dx, 0, false, 1, rows, in, out_features},
                 dx_into);
    // On the AVX-512 path the float kernel takes dbias from dout^T while it computes dweight
    // (Gemm::x_row_sums): the sums of column_sums_add, in its order, without a pass over dout.
    const bool sums_in_gemm = std::is_same_v<T, float> && current_isa() == Isa::avx512 && dweight &&
                              dbias && rows > 0 && in > 0 && out_features > 0;
    if (dweight) { // dweight (OUT, IN) += dout^T (OUT, R) . x (R, IN), blocked over OUT
        Gemm<T> g{dout, 0, true, x, 0, false, dweight, 0, false, 1, out_features, in, rows};
        if (sums_in_gemm)
            g.x_row_sums = dbias;
        run_gemm(g, Into::add);
    }
    if (dbias && !sums_in_gemm)
        column_sums_add(dout, rows, out_features, dbias);
}
} // namespace

// Shapes: as linear_forward; dout (R, OUT); dx (R, IN), dweight (OUT, IN), dbias (OUT) added into.
template <typename T>
void linear_backward(const T* x, const T* weight, const T* dout, detail::OptionalOut<T> dx,
                     detail::OptionalOut<T> dweight, detail::OptionalOut<T> dbias,
                     std::int64_t rows, std::int64_t in, std::int64_t out_features) {
    linear_gradients<T>(x, weight, dout, dx, Into::add, dweight, dbias, rows, in, out_features);
}

template <typename T>
void linear_reference(const T* x, const T* weight, detail::OptionalIn<T> bias, T* out,
                      std::int64_t rows, std::int64_t in, std::int64_t out_features) {
    for (std::int64_t r = 0; r < rows; ++r)
        for (std::int64_t o = 0; o < out_features; ++o) {
            T acc = T(0);
            for (std::int64_t i = 0; i < in; ++i)
                acc += x[r * in + i] * weight[o * in + i];
            out[r * out_features + o] = bias ? acc + bias[o] : acc;
        }
}

template <typename T> Var<T> linear(const Var<T>& x, const Var<T>& weight, const Var<T>& bias) {
    const Shape& xs = x.shape();
    const Shape& ws = weight.shape();
    if (xs.rank() < 1)
        throw ShapeError("linear: input must have rank >= 1: x is " + xs.to_string());
    if (ws.rank() != 2)
        throw ShapeError("linear: weight must have rank 2: weight is " + ws.to_string());
    if (xs[-1] != ws[1])
        throw ShapeError("linear: input features differ: x is " + xs.to_string() + ", weight is " +
                         ws.to_string());
    const bool has_bias = bias.defined();
    if (has_bias && bias.shape() != Shape{ws[0]})
        throw ShapeError("linear: bias does not match weight: bias is " + bias.shape().to_string() +
                         ", weight is " + ws.to_string());

    const std::int64_t rows = xs.rows(), in = ws[1], out_features = ws[0];
    Tensor<T> out = Tensor<T>::uninitialized(xs.with_dim(-1, out_features)); // overwritten
    linear_forward(x.value().data(), weight.value().data(),
                   has_bias ? bias.value().data() : nullptr, out.data(), rows, in, out_features);
    std::vector<Var<T>> inputs{x, weight};
    if (has_bias)
        inputs.push_back(bias);
    return detail::make_result(
        "linear", std::move(out), inputs, [rows, in, out_features, has_bias](Node<T>& self) {
            const detail::GradTarget<T> dx = detail::input_grad_target(self, 0);
            linear_gradients<T>(
                self.inputs[0]->value.data(), self.inputs[1]->value.data(), self.grad.data(),
                dx.data, dx.fresh ? Into::overwrite : Into::add, detail::input_grad(self, 1),
                has_bias ? detail::input_grad(self, 2) : nullptr, rows, in, out_features);
        });
}

#define OURO_INSTANTIATE(T)                                                                        \
    template void matmul_forward<T>(const T*, const T*, T*, const MatmulDims&);                    \
    template void matmul_backward<T>(const T*, const T*, const T*, T*, T*, const MatmulDims&);     \
    template void matmul_reference<T>(const T*, const T*, T*, const MatmulDims&);                  \
    template Var<T> matmul<T>(const Var<T>&, const Var<T>&, bool, bool);                           \
    template void linear_forward<T>(const T*, const T*, const T*, T*, std::int64_t, std::int64_t,  \
                                    std::int64_t);                                                 \
    template void linear_backward<T>(const T*, const T*, const T*, T*, T*, T*, std::int64_t,       \
                                     std::int64_t, std::int64_t);                                  \
    template void linear_reference<T>(const T*, const T*, const T*, T*, std::int64_t,              \
                                      std::int64_t, std::int64_t);                                 \
    template Var<T> linear<T>(const Var<T>&, const Var<T>&, const Var<T>&);
OURO_INSTANTIATE(float)
OURO_INSTANTIATE(double)
#undef OURO_INSTANTIATE

} // namespace ouro::ops
