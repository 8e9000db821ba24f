// Fused causal multi-head self-attention (Vaswani et al. 2017, "Attention is all you need"), with
// optional ALiBi biases (Press et al. 2022, "Train short, test long: attention with linear biases
// enables input length extrapolation").
//
// q is (B, T, C) with C = NH * HS; query head h reads channels [h * HS, (h + 1) * HS) of q and
// writes the same channels of the output. k and v are (B, T, NKV * HS) with NKV key/value heads
// (options.n_kv_head; by default NKV = NH and k, v have q's shape). With NKV < NH the attention is
// grouped-query (Ainslie et al. 2023, "GQA"; NKV = 1 is multi-query attention, Shazeer 2019): the
// NH / NKV query heads h of group g = h / (NH / NKV) share kv head g, as in llama2.c. Query t
// attends to keys 0..t:
//   score(t, s) = q_t . k_s / sqrt(HS)  [- slope_h * (t - s) with ALiBi],   s <= t
//   P(t, .) = softmax(score(t, .)),   out_t = sum_s P(t, s) v_s
//
// Fused: the T x T probabilities are never stored for the whole batch. The forward pass works on
// one (batch, head) pair at a time, a block of query rows after another, and keeps only the output
// and the log-sum-exp of each score row, lse (B, NH, T). The backward pass recomputes
// P = exp(score - lse) the same way (as flash-attention does) and applies, per pair,
//   dP = dO V^T,  D_t = dO_t . O_t,  dS = P * (dP - D),
//   dQ = dS K / sqrt(HS),  dK = dS^T Q / sqrt(HS),  dV = P^T dO.
// The forward pass runs (b, h) pairs in parallel. The backward pass runs (b, kv head) pairs in
// parallel, and within one the group's query heads in head order, since they all add into the same
// dK and dV slices. Each task writes only its own slices in a fixed order, so the result does not
// depend on the thread count.
//
// attention_qkv reads q, k and v where the c_attn Linear wrote them, side by side in one
// (B, T, C + 2 NKV HS) buffer, and adds their gradients into one buffer of that shape: the same
// numbers as attention on ops::split's three parts, without the copies.
//
// Kernels take raw row-major buffers; the shape letters follow llm.c (B batch, T time, C channels,
// NH heads, HS head size), so their element type is called Scalar rather than T.
#pragma once

#include "ouro/autograd/var.hpp"

#include <cstdint>
#include <vector>

namespace ouro::ops {

struct AttentionOptions {
    /// Add ALiBi's linear distance penalty -slope_h * (t - s) to every score (see alibi_slopes).
    /// Use it instead of learned or rotary positions; RoPE is applied to q and k before this op.
    bool alibi = false;
    /// Number of key/value heads NKV; 0 means n_head (plain multi-head attention). Must divide
    /// n_head; k and v then have NKV * HS channels, and query head h reads kv head
    /// h / (n_head / NKV).
    int n_kv_head = 0;
};

/// ALiBi's slope for each of n_head heads. For a power of two n, head h (from 0) has
/// 2^(-8 (h + 1) / n): 1/2, 1/4, ..., 1/256 for 8 heads. For other n the paper's recipe: with P the
/// largest power of two below n, the P slopes for P heads come first, followed by the first n - P
/// of every other slope for 2P heads (those at even positions 0, 2, 4, ..., which fall between the
/// first ones: 2^(-4 (2j + 1) / P)). For 6 heads: 2^-2, 2^-4, 2^-6, 2^-8, 2^-1, 2^-3.
/// Throws ConfigError when n_head < 1.
std::vector<double> alibi_slopes(int n_head);

/// Forward kernel. q, out: (B, T, C), C = NH * HS; k, v: (B, T, NKV * HS) with NKV from
/// options.n_kv_head (unchecked here: it must divide NH); lse: (B, NH, T), the log-sum-exp of each
/// row of (ALiBi-biased, scaled) scores, saved for the backward pass. Parallel over (b, h) pairs.
template <typename Scalar>
void attention_forward(const Scalar* q, const Scalar* k, const Scalar* v, Scalar* out, Scalar* lse,
                       std::int64_t B, std::int64_t T, std::int64_t C, int NH,
                       const AttentionOptions& options);

/// Backward kernel: ADDS the gradients of q, k and v into dq (B, T, C), dk and dv (B, T, NKV * HS)
/// (any may be nullptr, and they may be the same buffer when q, k and v are one tensor). out and
/// lse are what the forward kernel wrote; dout is the gradient of out. Parallel over (b, kv head)
/// pairs.
template <typename Scalar>
void attention_backward(const Scalar* q, const Scalar* k, const Scalar* v, const Scalar* out,
                        const Scalar* lse, const Scalar* dout, Scalar* dq, Scalar* dk, Scalar* dv,
                        std::int64_t B, std::int64_t T, std::int64_t C, int NH,
                        const AttentionOptions& options);

/// Forward kernel on one buffer qkv (B, T, C + 2 NKV HS) holding q, k and v side by side, as the
/// c_attn Linear makes them: q is channels [0, C), k [C, C + NKV HS), v the last NKV HS, read in
/// place (rows of C + 2 NKV HS floats). out (B, T, C) and lse (B, NH, T) are those of
/// attention_forward on the three parts, to the bit.
template <typename Scalar>
void attention_qkv_forward(const Scalar* qkv, Scalar* out, Scalar* lse, std::int64_t B,
                           std::int64_t T, std::int64_t C, int NH, const AttentionOptions& options);

/// Backward kernel of attention_qkv_forward: ADDS the gradients of q, k and v into their channels
/// of dqkv (B, T, C + 2 NKV HS); does nothing when dqkv is nullptr. The values added are those
/// attention_backward adds into separate dq, dk and dv, to the bit.
template <typename Scalar>
void attention_qkv_backward(const Scalar* qkv, const Scalar* out, const Scalar* lse,
                            const Scalar* dout, Scalar* dqkv, std::int64_t B, std::int64_t T,
                            std::int64_t C, int NH, const AttentionOptions& options);

/// Naive serial forward, kept for tests: explicit T x T scores per (b, h), masked softmax with
/// std::exp, weighted sum of values. Shapes as attention_forward; out: (B, T, C).
template <typename Scalar>
void attention_reference(const Scalar* q, const Scalar* k, const Scalar* v, Scalar* out,
                         std::int64_t B, std::int64_t T, std::int64_t C, int NH,
                         const AttentionOptions& options);

/// Causal self-attention of q (B, T, C) and k, v (B, T, NKV * HS), split into n_head query heads
/// of size HS = C / n_head and NKV = options.n_kv_head (0: n_head) key/value heads; returns
/// (B, T, C). Throws ConfigError when n_head < 1 ("attention: n_head must be at least 1, got 0"),
/// when n_kv_head < 0 ("attention: n_kv_head must be at least 0 (0 means n_head), got -1") or
/// does not divide n_head ("attention: n_kv_head = 3 does not divide n_head = 4"). Throws
/// ShapeError when C is not a multiple of n_head ("attention: C = 8 is not a multiple of n_head =
/// 3: q is (2, 3, 8)"), and:
/// - with NKV = n_head, when the shapes differ ("attention: q, k and v must have the same shape:
///   q is (2, 3, 8), k is (2, 3, 8), v is (2, 4, 8)") or are not of rank 3 ("attention: q, k and
///   v must be (B, T, C), got (3, 8)");
/// - with NKV < n_head, when any is not of rank 3 ("attention: q, k and v must be (B, T, C): q is
///   (2, 3, 8), k is (3, 4), v is (2, 3, 4)"), when batch or time differ ("attention: q, k and v
///   must have the same batch and time: q is (2, 3, 8), k is (2, 4, 4), v is (2, 4, 4)"), or when
///   k or v has the wrong channel count ("attention: k and v must have n_kv_head * HS = 2 * 2 = 4
///   channels: q is (2, 3, 8), k is (2, 3, 8), v is (2, 3, 4)").
template <typename T>
Var<T> attention(const Var<T>& q, const Var<T>& k, const Var<T>& v, int n_head,
                 const AttentionOptions& options = {});

/// attention on queries, keys and values side by side in qkv (B, T, W), W = C + 2 NKV HS, as
/// CausalSelfAttention's c_attn makes them (without RoPE, which rotates q and k first): the same
/// output and gradient, to the bit, as attention(q, k, v) on split(qkv, {C, NKV HS, NKV HS}, 2),
/// without the split's copies. HS = W / (n_head + 2 NKV), C = n_head * HS; returns (B, T, C).
/// Throws ConfigError for n_head and options.n_kv_head as attention does, with "attention_qkv"
/// in place of "attention". Throws ShapeError when qkv is not of rank 3 ("attention_qkv: qkv must
/// be (B, T, C + 2 * n_kv_head * HS), got (3, 8)") or when W is not a multiple of n_head + 2 NKV
/// ("attention_qkv: the last dimension of qkv (2, 3, 10) is not a multiple of n_head + 2 *
/// n_kv_head = 4 + 2 * 4 = 12").
template <typename T>
Var<T> attention_qkv(const Var<T>& qkv, int n_head, const AttentionOptions& options = {});

} // namespace ouro::ops

// attention's decode schedule, for the inference session (gen/session.hpp): the new token's query
// against the keys and values cached for earlier positions, one head at a time, on the calling
// thread. The math is the forward's (scaled dot products, ALiBi's distance bias, softmax, the
// weighted sum of values); only the memory layout differs. A head's cache holds `capacity`
// entries (columns): keys transposed in blocks of cache_key_block entries (HS x 32 floats each,
// channel-major inside a block), so that the scores of a query read contiguous memory; values by
// entry (capacity x HS). The session decides which positions sit in which columns (a ring, sink
// tokens) and hands the visible entries over as runs of consecutive positions, oldest first.

namespace ouro::ops {

/// Entries per block of a head's transposed keys.
inline constexpr std::int64_t cache_key_block = 32;
/// Floats of one head's key region for `capacity` entries (rounded up to whole blocks).
inline std::int64_t cache_key_region(std::int64_t capacity, std::int64_t HS) {
    return HS * ((capacity + cache_key_block - 1) / cache_key_block * cache_key_block);
}
/// Where channel c of the key in column `column` lives in a head's key region.
inline std::int64_t cache_key_index(std::int64_t column, std::int64_t c, std::int64_t HS) {
    return column / cache_key_block * HS * cache_key_block + c * cache_key_block +
           column % cache_key_block;
}
/// Stores key k (HS) and value v (HS) as entry `column` of a head's keys and values.
void cache_store(const float* k, const float* v, std::int64_t column, std::int64_t HS, float* keys,
                 float* values);

/// `count` cache columns from `column` on, holding positions position .. position + count - 1.
/// A `sink` run is scored with the query rotated at its cache position (StreamingLLM's sinks).
struct CacheRun {
    std::int64_t column = 0, count = 0, position = 0;
    bool sink = false;
};

/// The query's scalars: its position (distances to the keys), its position in the cache (the
/// distances to sink runs), 1 / sqrt(HS) as the forward rounds it, and the head's ALiBi slope (0
/// without ALiBi).
struct DecodeQuery {
    std::int64_t head_size = 0;
    std::int64_t position = 0;
    std::int64_t sink_position = 0;
    float scale = 1.0f;
    float slope = 0.0f;
};

/// One query q (HS) of one head against the entries of `runs` (oldest first) in keys / values:
/// writes the n = sum of the run counts attention weights (each row sums to 1) into weights and
/// the output (HS) into out, and returns n. q_sink is the query used for sink runs (may equal q).
std::int64_t attention_decode(const float* q, const float* q_sink, const float* keys,
                              const float* values, const CacheRun* runs, int nruns,
                              const DecodeQuery& query, float* weights, float* out);

} // namespace ouro::ops
