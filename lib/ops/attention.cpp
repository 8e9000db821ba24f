// Fused causal attention: the forward and backward kernels (backward adds into gradients) for
// separate q, k, v and for one qkv buffer, and the reference. The maths and the memory plan are in
// attention.hpp; shape checks and autograd wrappers in attention_graph.cpp.
//
// Work is split over (b, h) pairs; within a pair, query rows go in blocks of row_block, and a
// block of rows [r0, r1) only meets keys [0, r1), so the products skip most of the masked upper
// triangle. Per block, the scores are one Eigen GEMM on strided row-major Maps (a head's slice of
// a (B, T, C) buffer is a T x HS matrix with outer stride C, or 3C inside a qkv buffer) into a
// per-thread scratch of at most row_block x T. Each pair is computed by one thread with the same
// sequence of operations whatever the thread count, so results are bit-identical for any number
// of threads. On the AVX-512 path (ouro/core/isa.hpp) float pairs run attention_avx512.cpp's
// kernel and double block products gemm_avx512.cpp's, both built for AVX-512; on the AVX2 path
// they are the Eigen expressions below.
#include "ouro/ops/attention.hpp"

#include "attention_avx512.hpp"
#include "gemm.hpp"
#include "numerics/rows.hpp"

#include "ouro/core/isa.hpp"
#include "ouro/core/parallel.hpp"

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <type_traits>

namespace ouro::ops {

std::vector<double> alibi_slopes(int n_head) {
    if (n_head < 1)
        throw ConfigError("alibi_slopes: n_head must be at least 1, got " + std::to_string(n_head));
    int p = 1; // the largest power of two not above n_head
    while (p * 2 <= n_head)
        p *= 2;
    std::vector<double> slopes;
    slopes.reserve(std::size_t(n_head));
    for (int h = 0; h < p; ++h)
        slopes.push_back(std::exp2(-8.0 * (h + 1) / p));
    for (int j = 0; j < n_head - p; ++j)
        slopes.push_back(std::exp2(-4.0 * (2 * j + 1) / p));
    return slopes;
}

namespace {

template <typename Scalar>
using RowMatrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
// One head's T x HS slice of a (B, T, C) buffer.
template <typename Scalar>
using HeadMap = Eigen::Map<const RowMatrix<Scalar>, Eigen::Unaligned, Eigen::OuterStride<>>;
template <typename Scalar>
using MutableHeadMap = Eigen::Map<RowMatrix<Scalar>, Eigen::Unaligned, Eigen::OuterStride<>>;
// A contiguous block of the per-thread scratch.
template <typename Scalar> using ScratchMap = Eigen::Map<RowMatrix<Scalar>>;

// Query rows per block: 32 rows of scores for T = 256 keys are 32 KB in float. 32 measured a few
// per cent faster than 64 or 128 at the S config (smaller wasted triangle on the diagonal).
constexpr std::int64_t row_block = 32;

// The number of key/value heads: options.n_kv_head, 0 meaning one per query head.
inline std::int64_t kv_heads(int NH, const AttentionOptions& options) {
    return options.n_kv_head > 0 ? options.n_kv_head : NH;
}

// The ALiBi slope of each head, or zeros without ALiBi.
template <typename Scalar>
std::vector<Scalar> head_slopes(int NH, const AttentionOptions& options) {
    std::vector<Scalar> slopes(std::size_t(NH), Scalar(0));
    if (options.alibi) {
        const std::vector<double> s = alibi_slopes(NH);
        std::transform(s.begin(), s.end(), slopes.begin(), [](double x) { return Scalar(x); });
    }
    return slopes;
}

// Turns the raw dot products q_t . k_s (s <= t) of query row t into scores, in place:
// score = dot * scale - slope * (t - s). The forward and backward passes share it, so they see the
// same scores to the bit.
template <typename Scalar>
inline void scores_row(Scalar* row, std::int64_t t, Scalar scale, Scalar slope) {
    // The fma is explicit so that a vector lane and the scalar remainder round alike; the
    // distance goes through int32, which AVX2 converts to floating point in vectors.
    for (std::int64_t s = 0; s <= t; ++s)
        row[s] = std::fma(row[s], scale, -slope * Scalar(std::int32_t(t - s)));
}

// The raw dot products of query rows [r0, r0 + nr) of one head with keys [0, r0 + nr):
// P (nr x nk) = Q[r0, r0 + nr) K[0, nk)^T, one GEMM. Shared by forward and backward.
template <typename Scalar>
inline void score_block(const HeadMap<Scalar>& Q, const HeadMap<Scalar>& K, std::int64_t r0,
                        std::int64_t nr, ScratchMap<Scalar>& P) {
    P.noalias() = Q.middleRows(r0, nr) * K.topRows(r0 + nr).transpose();
}

// One product of a block: gemm_avx512.cpp's on the AVX-512 path (`wide`), else the Eigen
// expression `avx2` (the AVX2 path's code, unchanged).
template <typename Scalar, typename Avx2>
inline void block_product(bool wide, const gemm::Product<Scalar>& p, gemm::Into into, Avx2 avx2) {
    if (wide)
        gemm::avx512::product(p, into);
    else
        avx2();
}

// Whether `tasks` shared among threads, for (b, h) pairs of T rows of HS (about T^2 HS
// multiply-adds each, half of them masked), are worth a team: small ones run on the calling thread.
inline bool worth_a_team(std::int64_t tasks, std::int64_t pairs, std::int64_t T, std::int64_t HS) {
    return tasks > 1 && pairs * T * T * HS >= ouro::detail::parallel_madds_threshold;
}

// Where the operands of one call live: q, k, v with their row strides (ldq for q and dq, ldkv for
// k, v, dk and dv: C and NKV * HS for separate tensors, C + 2 NKV * HS for one qkv buffer); out
// and dout are (B, T, C).
template <typename Scalar> struct Operands {
    const Scalar *q, *k, *v;
    std::int64_t ldq, ldkv;
};

// Forward over all (b, h) pairs; see attention_forward.
template <typename Scalar>
void forward_pairs(const Operands<Scalar>& x, Scalar* out, Scalar* lse, std::int64_t B,
                   std::int64_t T, std::int64_t C, int NH, const AttentionOptions& options) {
    const Scalar *q = x.q, *k = x.k, *v = x.v;
    const std::int64_t ldq = x.ldq, ldkv = x.ldkv;
    const std::int64_t HS = C / NH, NKV = kv_heads(NH, options), group = NH / NKV;
    const Scalar scale = Scalar(1.0 / std::sqrt(double(HS)));
    const std::vector<Scalar> slopes = head_slopes<Scalar>(NH, options);
    const std::int64_t pairs = B * NH;
    const Eigen::OuterStride<> stride(C), q_stride(ldq), kv_stride(ldkv);
    const bool wide = current_isa() == Isa::avx512;
    // Floats on the AVX-512 path: attention_avx512.cpp's kernel.
    constexpr bool is_float = std::is_same_v<Scalar, float>;
    const bool own_kernel = is_float && wide;
    using gemm::Into;
    using Product = gemm::Product<Scalar>;
#pragma omp parallel if (worth_a_team(pairs, pairs, T, HS))
    {
        std::vector<Scalar> scratch(std::size_t(own_kernel ? avx512::attention_scratch_floats(T, HS)
                                                           : std::min(T, row_block) * T));
#pragma omp for schedule(static)
        for (std::int64_t bh = 0; bh < pairs; ++bh) {
            const std::int64_t b = bh / NH, h = bh % NH;
            const std::int64_t offset = b * T * C + h * HS, q_offset = b * T * ldq + h * HS;
            const std::int64_t kv_offset = b * T * ldkv + h / group * HS;
            Scalar* lse_bh = lse + bh * T;
            if constexpr (is_float)
                if (own_kernel) {
                    avx512::attention_forward_head({q + q_offset, ldq, k + kv_offset, v + kv_offset,
                                                    ldkv, T, HS, scale, slopes[std::size_t(h)]},
                                                   out + offset, C, lse_bh, scratch.data());
                    continue;
                }
            const HeadMap<Scalar> Q(q + q_offset, T, HS, q_stride),
                K(k + kv_offset, T, HS, kv_stride), V(v + kv_offset, T, HS, kv_stride);
            MutableHeadMap<Scalar> O(out + offset, T, HS, stride);
            for (std::int64_t r0 = 0; r0 < T; r0 += row_block) {
                const std::int64_t nr = std::min(row_block, T - r0), nk = r0 + nr;
                ScratchMap<Scalar> P(scratch.data(), nr, nk);
                const Scalar* q_rows = q + q_offset + r0 * ldq;
                const Scalar* k_head = k + kv_offset;
                block_product(wide,
                              Product{q_rows, ldq, false, k_head, ldkv, true, P.data(), nk, nr, nk,
                                      HS, Scalar(1)},
                              Into::overwrite, [&] { score_block(Q, K, r0, nr, P); });
                for (std::int64_t i = 0; i < nr; ++i) {
                    // Row t: softmax over keys 0..t, zeros over the masked keys t+1..nk-1.
                    const std::int64_t t = r0 + i;
                    Scalar* row = P.row(i).data();
                    scores_row(row, t, scale, slopes[std::size_t(h)]);
                    const Scalar m = numerics::row_max(row, t + 1);
                    numerics::exp_row(row, t + 1, m, row);
                    const Scalar sum = numerics::row_sum(row, t + 1);
                    lse_bh[t] = m + std::log(sum);
                    const Scalar inv = Scalar(1) / sum;
                    for (std::int64_t s = 0; s <= t; ++s)
                        row[s] *= inv;
                    std::fill(row + t + 1, row + nk, Scalar(0));
                }
                block_product(wide,
                              Product{P.data(), nk, false, v + kv_offset, ldkv, false,
                                      out + offset + r0 * C, C, nr, HS, nk, Scalar(1)},
                              Into::overwrite,
                              [&] { O.middleRows(r0, nr).noalias() = P * V.topRows(nk); });
            }
        }
    }
}

// Backward over all (b, kv head) pairs; see attention_backward. dq is added into with row stride
// x.ldq, dk and dv with x.ldkv.
template <typename Scalar>
void backward_pairs(const Operands<Scalar>& x, const Scalar* out, const Scalar* lse,
                    const Scalar* dout, Scalar* dq, Scalar* dk, Scalar* dv, std::int64_t B,
                    std::int64_t T, std::int64_t C, int NH, const AttentionOptions& options) {
    if (!dq && !dk && !dv)
        return;
    const Scalar *q = x.q, *k = x.k, *v = x.v;
    const std::int64_t ldq = x.ldq, ldkv = x.ldkv;
    const std::int64_t HS = C / NH, NKV = kv_heads(NH, options), group = NH / NKV;
    const Scalar scale = Scalar(1.0 / std::sqrt(double(HS)));
    const std::vector<Scalar> slopes = head_slopes<Scalar>(NH, options);
    // One task per (b, kv head): the query heads that share a kv head all add into its dK and
    // dV slices, so they run in one task, in head order.
    const std::int64_t kv_pairs = B * NKV;
    const Eigen::OuterStride<> stride(C), q_stride(ldq), kv_stride(ldkv);
    const bool wide = current_isa() == Isa::avx512;
    constexpr bool is_float = std::is_same_v<Scalar, float>;
    const bool own_kernel = is_float && wide;
    using gemm::Into;
    using Product = gemm::Product<Scalar>;
#pragma omp parallel if (worth_a_team(kv_pairs, B * NH, T, HS))
    {
        const std::int64_t block_size = std::min(T, row_block) * T;
        std::vector<Scalar> scratch(
            std::size_t(own_kernel ? avx512::attention_scratch_floats(T, HS) : 2 * block_size));
#pragma omp for schedule(static)
        for (std::int64_t bg = 0; bg < kv_pairs; ++bg)
            for (std::int64_t h = bg % NKV * group; h < (bg % NKV + 1) * group; ++h) {
                const std::int64_t b = bg / NKV, bh = b * NH + h;
                const std::int64_t offset = b * T * C + h * HS, q_offset = b * T * ldq + h * HS;
                const std::int64_t kv_offset = b * T * ldkv + h / group * HS;
                const Scalar* lse_bh = lse + bh * T;
                if constexpr (is_float)
                    if (own_kernel) {
                        avx512::attention_backward_head(
                            {q + q_offset, ldq, k + kv_offset, v + kv_offset, ldkv, T, HS, scale,
                             slopes[std::size_t(h)]},
                            out + offset, dout + offset, C, lse_bh, dq ? dq + q_offset : nullptr,
                            dk ? dk + kv_offset : nullptr, dv ? dv + kv_offset : nullptr,
                            scratch.data());
                        continue;
                    }
                const HeadMap<Scalar> Q(q + q_offset, T, HS, q_stride),
                    K(k + kv_offset, T, HS, kv_stride), V(v + kv_offset, T, HS, kv_stride),
                    dO(dout + offset, T, HS, stride);
                MutableHeadMap<Scalar> dQ(dq ? dq + q_offset : nullptr, T, HS, q_stride),
                    dK(dk ? dk + kv_offset : nullptr, T, HS, kv_stride),
                    dV(dv ? dv + kv_offset : nullptr, T, HS, kv_stride);
                for (std::int64_t r0 = 0; r0 < T; r0 += row_block) {
                    const std::int64_t nr = std::min(row_block, T - r0), nk = r0 + nr;
                    ScratchMap<Scalar> P(scratch.data(), nr, nk);
                    ScratchMap<Scalar> dS(scratch.data() + block_size, nr, nk);
                    const Scalar* q_rows = q + q_offset + r0 * ldq;
                    const Scalar* do_rows = dout + offset + r0 * C;
                    const Scalar* k_head = k + kv_offset;
                    const Scalar* v_head = v + kv_offset;
                    // Recompute the probabilities from the saved log-sum-exp.
                    block_product(wide,
                                  Product{q_rows, ldq, false, k_head, ldkv, true, P.data(), nk, nr,
                                          nk, HS, Scalar(1)},
                                  Into::overwrite, [&] { score_block(Q, K, r0, nr, P); });
                    for (std::int64_t i = 0; i < nr; ++i) {
                        const std::int64_t t = r0 + i;
                        Scalar* row = P.row(i).data();
                        scores_row(row, t, scale, slopes[std::size_t(h)]);
                        numerics::exp_row(row, t + 1, lse_bh[t], row);
                        std::fill(row + t + 1, row + nk, Scalar(0));
                    }
                    if (dv)
                        block_product(wide,
                                      Product{P.data(), nk, true, do_rows, C, false, dv + kv_offset,
                                              ldkv, nk, HS, nr, Scalar(1)},
                                      Into::add, [&] {
                                          dV.topRows(nk).noalias() +=
                                              P.transpose() * dO.middleRows(r0, nr);
                                      });
                    if (!dq && !dk)
                        continue;
                    // dS = P * (dO V^T - D), D_t = dO_t . O_t (the softmax Jacobian applied to dP).
                    block_product(wide,
                                  Product{do_rows, C, false, v_head, ldkv, true, dS.data(), nk, nr,
                                          nk, HS, Scalar(1)},
                                  Into::overwrite, [&] {
                                      dS.noalias() =
                                          dO.middleRows(r0, nr) * V.topRows(nk).transpose();
                                  });
                    for (std::int64_t i = 0; i < nr; ++i) {
                        const std::int64_t t = r0 + i;
                        const Scalar* o_t = out + offset + t * C;
                        const Scalar* do_t = dout + offset + t * C;
                        Scalar D = 0;
                        for (std::int64_t c = 0; c < HS; ++c)
                            D += do_t[c] * o_t[c];
                        const Scalar* p = P.row(i).data();
                        Scalar* ds = dS.row(i).data();
                        for (std::int64_t s = 0; s <= t; ++s)
                            ds[s] = p[s] * (ds[s] - D);
                        std::fill(ds + t + 1, ds + nk, Scalar(0));
                    }
                    if (dq)
                        block_product(wide,
                                      Product{dS.data(), nk, false, k_head, ldkv, false,
                                              dq + q_offset + r0 * ldq, ldq, nr, HS, nk, scale},
                                      Into::add, [&] {
                                          dQ.middleRows(r0, nr).noalias() +=
                                              scale * dS * K.topRows(nk);
                                      });
                    if (dk)
                        block_product(wide,
                                      Product{dS.data(), nk, true, q_rows, ldq, false,
                                              dk + kv_offset, ldkv, nk, HS, nr, scale},
                                      Into::add, [&] {
                                          dK.topRows(nk).noalias() +=
                                              scale * dS.transpose() * Q.middleRows(r0, nr);
                                      });
                }
            }
    }
}

} // namespace

// Shapes: q, k, v, out (B, T, C), C = NH * HS; lse (B, NH, T).
template <typename Scalar>
void attention_forward(const Scalar* q, const Scalar* k, const Scalar* v, Scalar* out, Scalar* lse,
                       std::int64_t B, std::int64_t T, std::int64_t C, int NH,
                       const AttentionOptions& options) {
    const std::int64_t C_kv = kv_heads(NH, options) * (C / NH);
    forward_pairs(Operands<Scalar>{q, k, v, C, C_kv}, out, lse, B, T, C, NH, options);
}

// Shapes: as attention_forward; dout (B, T, C); dq, dk, dv (B, T, C) are added into.
template <typename Scalar>
void attention_backward(const Scalar* q, const Scalar* k, const Scalar* v, const Scalar* out,
                        const Scalar* lse, const Scalar* dout, Scalar* dq, Scalar* dk, Scalar* dv,
                        std::int64_t B, std::int64_t T, std::int64_t C, int NH,
                        const AttentionOptions& options) {
    const std::int64_t C_kv = kv_heads(NH, options) * (C / NH);
    backward_pairs(Operands<Scalar>{q, k, v, C, C_kv}, out, lse, dout, dq, dk, dv, B, T, C, NH,
                   options);
}

// Shapes: qkv (B, T, C + 2 NKV HS); out (B, T, C); lse (B, NH, T).
template <typename Scalar>
void attention_qkv_forward(const Scalar* qkv, Scalar* out, Scalar* lse, std::int64_t B,
                           std::int64_t T, std::int64_t C, int NH,
                           const AttentionOptions& options) {
    const std::int64_t C_kv = kv_heads(NH, options) * (C / NH), width = C + 2 * C_kv;
    forward_pairs(Operands<Scalar>{qkv, qkv + C, qkv + C + C_kv, width, width}, out, lse, B, T, C,
                  NH, options);
}

// Shapes: as attention_qkv_forward; dout (B, T, C); dqkv (B, T, C + 2 NKV HS) is added into.
template <typename Scalar>
void attention_qkv_backward(const Scalar* qkv, const Scalar* out, const Scalar* lse,
                            const Scalar* dout, Scalar* dqkv, std::int64_t B, std::int64_t T,
                            std::int64_t C, int NH, const AttentionOptions& options) {
    if (!dqkv)
        return;
    const std::int64_t C_kv = kv_heads(NH, options) * (C / NH), width = C + 2 * C_kv;
    backward_pairs(Operands<Scalar>{qkv, qkv + C, qkv + C + C_kv, width, width}, out, lse, dout,
                   dqkv, dqkv + C, dqkv + C + C_kv, B, T, C, NH, options);
}

template <typename Scalar>
void attention_reference(const Scalar* q, const Scalar* k, const Scalar* v, Scalar* out,
                         std::int64_t B, std::int64_t T, std::int64_t C, int NH,
                         const AttentionOptions& options) {
    const std::int64_t HS = C / NH, NKV = kv_heads(NH, options), C_kv = NKV * HS;
    const Scalar scale = Scalar(1.0 / std::sqrt(double(HS)));
    const std::vector<Scalar> slopes = head_slopes<Scalar>(NH, options);
    std::vector<Scalar> scores(std::size_t(T * T));
    for (std::int64_t b = 0; b < B; ++b)
        for (std::int64_t h = 0; h < NH; ++h) {
            const std::int64_t offset = b * T * C + h * HS;
            // Query head h reads kv head h / (NH / NKV), in rows of C_kv channels.
            const std::int64_t kv_offset = b * T * C_kv + h / (NH / NKV) * HS;
            // Scores with the causal mask: -inf above the diagonal.
            for (std::int64_t t = 0; t < T; ++t)
                for (std::int64_t s = 0; s < T; ++s) {
                    Scalar dot = 0;
                    for (std::int64_t c = 0; c < HS; ++c)
                        dot += q[offset + t * C + c] * k[kv_offset + s * C_kv + c];
                    scores[std::size_t(t * T + s)] =
                        s <= t ? dot * scale - slopes[std::size_t(h)] * Scalar(t - s)
                               : -std::numeric_limits<Scalar>::infinity();
                }
            // Softmax of each row, then the weighted sum of values.
            for (std::int64_t t = 0; t < T; ++t) {
                Scalar* row = scores.data() + t * T;
                const Scalar m = *std::max_element(row, row + T);
                Scalar sum = 0;
                for (std::int64_t s = 0; s < T; ++s)
                    sum += row[s] = std::exp(row[s] - m);
                for (std::int64_t c = 0; c < HS; ++c) {
                    Scalar acc = 0;
                    for (std::int64_t s = 0; s < T; ++s)
                        acc += row[s] / sum * v[kv_offset + s * C_kv + c];
                    out[offset + t * C + c] = acc;
                }
            }
        }
}

#define OURO_INSTANTIATE(T)                                                                        \
    template void attention_forward<T>(const T*, const T*, const T*, T*, T*, std::int64_t,         \
                                       std::int64_t, std::int64_t, int, const AttentionOptions&);  \
    template void attention_backward<T>(const T*, const T*, const T*, const T*, const T*,          \
                                        const T*, T*, T*, T*, std::int64_t, std::int64_t,          \
                                        std::int64_t, int, const AttentionOptions&);               \
    template void attention_qkv_forward<T>(const T*, T*, T*, std::int64_t, std::int64_t,           \
                                           std::int64_t, int, const AttentionOptions&);            \
    template void attention_qkv_backward<T>(const T*, const T*, const T*, const T*, T*,            \
                                            std::int64_t, std::int64_t, std::int64_t, int,         \
                                            const AttentionOptions&);                              \
    template void attention_reference<T>(const T*, const T*, const T*, T*, std::int64_t,           \
                                         std::int64_t, std::int64_t, int,                          \
                                         const AttentionOptions&);
OURO_INSTANTIATE(float)
OURO_INSTANTIATE(double)
#undef OURO_INSTANTIATE

} // namespace ouro::ops
