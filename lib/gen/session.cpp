// InferenceSession: construction, the pass that feeds rows through the model (one parallel
// region), the attention of one query against a slot's cache, and the slot bookkeeping. The
// memory plan and the cache semantics are in session.hpp.
//
// Shape letters (llm.c): B slots, R rows of a pass, C channels, NH heads, HS head size, V vocab,
// L layers, K cache entries per slot (the context).
#include "ouro/gen/session.hpp"

#include "../ops/rowwise.hpp"
#include "ouro/core/parallel.hpp"
#include "ouro/gen/decode_kernels.hpp"
#include "ouro/ops/attention.hpp"
#include "ouro/ops/gelu.hpp"
#include "ouro/ops/layernorm.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <string>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define OURO_GEN_AVX2 1
#else
#define OURO_GEN_AVX2 0
#endif

namespace ouro::gen {
namespace {

// Output features per parallel block of a Linear layer: fixed, so the split never depends on the
// thread count (and small enough that a batch-1 pass over C = 256 outputs still has 8 blocks).
constexpr std::int64_t feature_block = 32;

// Cache entries per block of the transposed keys: a head's keys are stored as blocks of HS x 32
// (channel-major inside a block), so that the scores of 32 entries read one contiguous 4 KB run
// (HS = 32) instead of HS rows far apart.
constexpr std::int64_t key_block = 32;

std::string str(std::int64_t v) {
    return std::to_string(v);
}

const float* data_or_null(const Var<float>& v) {
    return v.defined() ? v.value().data() : nullptr;
}

// out = the RoPE rotation of in (HS = 2 * half values) by the (cos, sin) pairs of cs (half x 2),
// the "rotate half" layout of ops::rope. In place is allowed.
inline void rotate_head(const float* in, float* out, const float* cs, std::int64_t half) {
    for (std::int64_t i = 0; i < half; ++i) {
        const float x1 = in[i], x2 = in[i + half];
        const float c = cs[2 * i], s = cs[2 * i + 1];
        out[i] = x1 * c - x2 * s;
        out[i + half] = x2 * c + x1 * s;
    }
}

// out[j] = q . kt[:, j] for j < count <= key_block, with kt (HS rows of stride key_block) part
// of one block of transposed keys: the scores of one query, a vector loop over cache entries. Each
// entry's sum runs over the channels in order with fused multiply-adds, in a vector lane or in the
// scalar tail alike.
inline void dot_block(const float* q, const float* kt, std::int64_t HS, std::int64_t count,
                      float* out) {
    constexpr std::int64_t stride = key_block;
    std::int64_t j = 0;
#if OURO_GEN_AVX2
    for (; j + 32 <= count; j += 32) {
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (std::int64_t c = 0; c < HS; ++c) {
            const __m256 qc = _mm256_broadcast_ss(q + c);
            const float* k = kt + c * stride + j;
            a0 = _mm256_fmadd_ps(qc, _mm256_loadu_ps(k), a0);
            a1 = _mm256_fmadd_ps(qc, _mm256_loadu_ps(k + 8), a1);
            a2 = _mm256_fmadd_ps(qc, _mm256_loadu_ps(k + 16), a2);
            a3 = _mm256_fmadd_ps(qc, _mm256_loadu_ps(k + 24), a3);
        }
        _mm256_storeu_ps(out + j, a0);
        _mm256_storeu_ps(out + j + 8, a1);
        _mm256_storeu_ps(out + j + 16, a2);
        _mm256_storeu_ps(out + j + 24, a3);
    }
    for (; j + 8 <= count; j += 8) {
        __m256 a = _mm256_setzero_ps();
        for (std::int64_t c = 0; c < HS; ++c)
            a = _mm256_fmadd_ps(_mm256_broadcast_ss(q + c), _mm256_loadu_ps(kt + c * stride + j),
                                a);
        _mm256_storeu_ps(out + j, a);
    }
#endif
    for (; j < count; ++j) {
        float a = 0.0f;
        for (std::int64_t c = 0; c < HS; ++c)
            a = std::fma(q[c], kt[c * stride + j], a);
        out[j] = a;
    }
}

// The scores of one query against entries [col0, col0 + count) of a head's key blocks `kt`.
inline void dot_columns(const float* q, const float* kt, std::int64_t col0, std::int64_t HS,
                        std::int64_t count, float* out) {
    for (std::int64_t done = 0; done < count;) {
        const std::int64_t col = col0 + done, offset = col % key_block;
        const std::int64_t len = std::min(count - done, key_block - offset);
        dot_block(q, kt + col / key_block * HS * key_block + offset, HS, len, out + done);
        done += len;
    }
}

// y (HS) = sum over entries of p[n] v_n, v_n the value rows of the runs of `seg`, entries oldest
// first. Four partial sums, entry i of a run going to sum i % 4, added as (0 + 1) + (2 + 3): the
// order depends only on the runs, which depend only on the query's position.
template <typename Segment>
inline void weighted_values(const float* p, const Segment* seg, int nseg, const float* v,
                            std::int64_t HS, float* y) {
    std::int64_t c = 0;
#if OURO_GEN_AVX2
    for (; c + 8 <= HS; c += 8) {
        __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                         _mm256_setzero_ps()};
        const float* pn = p;
        for (int i = 0; i < nseg; ++i) {
            const float* vs = v + seg[i].column * HS + c;
            std::int64_t j = 0;
            for (; j + 4 <= seg[i].count; j += 4)
                for (int k = 0; k < 4; ++k)
                    acc[k] = _mm256_fmadd_ps(_mm256_broadcast_ss(pn + j + k),
                                             _mm256_loadu_ps(vs + (j + k) * HS), acc[k]);
            // The last 1-3 entries of the run, to sums 0, 1, 2 (an unrolled tail keeps the sums in
            // registers).
            const auto add = [&](__m256& a, std::int64_t e) {
                a = _mm256_fmadd_ps(_mm256_broadcast_ss(pn + e), _mm256_loadu_ps(vs + e * HS), a);
            };
            if (j < seg[i].count)
                add(acc[0], j);
            if (j + 1 < seg[i].count)
                add(acc[1], j + 1);
            if (j + 2 < seg[i].count)
                add(acc[2], j + 2);
            pn += seg[i].count;
        }
        _mm256_storeu_ps(
            y + c, _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])));
    }
#endif
    for (; c < HS; ++c) {
        float acc[4] = {};
        const float* pn = p;
        for (int i = 0; i < nseg; ++i) {
            const float* vs = v + seg[i].column * HS + c;
            for (std::int64_t j = 0; j < seg[i].count; ++j)
                acc[j % 4] = std::fma(pn[j], vs[j * HS], acc[j % 4]);
            pn += seg[i].count;
        }
        y[c] = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    }
}

// Rows [0, R) of in (R, IN) through a Linear layer into out (rows of stride `stride`), the
// output features in fixed blocks shared among the threads of the enclosing parallel region;
// with `gelu` each block is passed through GELU once computed. Must be called by every thread of
// the region (an orphaned omp for, with its barrier).
template <typename Weights>
void linear_blocks(const float* in, std::int64_t rows, std::int64_t in_features,
                   const Weights& weight, const float* bias, float* out, std::int64_t stride,
                   std::int64_t out_features, LinearInto into, bool gelu = false) {
    const std::int64_t blocks = (out_features + feature_block - 1) / feature_block;
#pragma omp for schedule(static)
    for (std::int64_t blk = 0; blk < blocks; ++blk) {
        const std::int64_t o0 = blk * feature_block;
        const std::int64_t o1 = std::min(out_features, o0 + feature_block);
        if (weight.f16)
            decode_linear(in, rows, in_features, weight.f16, bias, out, stride, o0, o1, into);
        else
            decode_linear(in, rows, in_features, weight.f32, bias, out, stride, o0, o1, into);
        if (gelu)
            for (std::int64_t r = 0; r < rows; ++r)
                ops::gelu_forward_serial(out + r * stride + o0, out + r * stride + o0, o1 - o0);
    }
}

} // namespace

InferenceSession::InferenceSession(const nn::GPT<float>& model, const SessionOptions& o)
    : cfg_(model.config) {
    using nn::PositionEncoding;
    if (o.batch_size < 1)
        throw ConfigError("InferenceSession: batch_size must be at least 1, got " +
                          str(o.batch_size));
    if (o.context < 0)
        throw ConfigError("InferenceSession: context must be at least 1 (or 0 for block_size), "
                          "got " +
                          str(o.context));
    if (o.prefill_chunk < 1)
        throw ConfigError("InferenceSession: prefill_chunk must be at least 1, got " +
                          str(o.prefill_chunk));
    const bool learned = cfg_.position == PositionEncoding::learned;
    cap_ = o.context == 0 ? cfg_.block_size : o.context;
    if (learned && cap_ > cfg_.block_size)
        throw ConfigError("InferenceSession: context " + str(cap_) + " is longer than block_size " +
                          str(cfg_.block_size) +
                          ", and learned positions have no embedding past it");
    if (o.sliding && learned)
        throw ConfigError("InferenceSession: a sliding cache needs RoPE or ALiBi positions; this "
                          "model has learned positions");
    if (o.sink_tokens < 0)
        throw ConfigError("InferenceSession: sink_tokens must be at least 0, got " +
                          str(o.sink_tokens));
    if (o.sink_tokens > 0 && !o.sliding)
        throw ConfigError("InferenceSession: sink_tokens = " + str(o.sink_tokens) +
                          " needs a sliding cache");
    if (o.sliding && o.sink_tokens >= cap_)
        throw ConfigError("InferenceSession: sink_tokens = " + str(o.sink_tokens) +
                          " leaves no room for a sliding window in a context of " + str(cap_));

    B_ = o.batch_size;
    C_ = cfg_.n_embd;
    NH_ = cfg_.n_head;
    HS_ = cfg_.head_size();
    V_ = cfg_.vocab_size;
    L_ = cfg_.n_layer;
    max_rows_ = std::max(B_, o.prefill_chunk);
    sliding_ = o.sliding;
    sinks_ = o.sink_tokens;
    window_ = cap_ - sinks_;
    rope_ = cfg_.position == PositionEncoding::rope;
    alibi_ = cfg_.position == PositionEncoding::alibi;

    for (const nn::Block<float>* block : model.h) {
        LayerWeights w{};
        w.ln1_w = block->ln_1->weight.value().data();
        w.ln1_b = data_or_null(block->ln_1->bias);
        w.attn_w.f32 = block->attn->c_attn->weight.value().data();
        w.attn_b = data_or_null(block->attn->c_attn->bias);
        w.attn_proj_w.f32 = block->attn->c_proj->weight.value().data();
        w.attn_proj_b = data_or_null(block->attn->c_proj->bias);
        w.ln2_w = block->ln_2->weight.value().data();
        w.ln2_b = data_or_null(block->ln_2->bias);
        w.fc_w.f32 = block->mlp->c_fc->weight.value().data();
        w.fc_b = data_or_null(block->mlp->c_fc->bias);
        w.mlp_proj_w.f32 = block->mlp->c_proj->weight.value().data();
        w.mlp_proj_b = data_or_null(block->mlp->c_proj->bias);
        w.ln1_eps = block->ln_1->eps;
        w.ln2_eps = block->ln_2->eps;
        layers_.push_back(w);
    }
    wte_ = model.wte->weight.value().data();
    head_.f32 = wte_;
    if (o.half_weights) {
        // Every matrix rounded to half, one after the other in half_.
        std::vector<std::pair<Matrix*, const TensorF*>> matrices;
        for (std::size_t l = 0; l < layers_.size(); ++l) {
            const nn::Block<float>& block = *model.h[l];
            LayerWeights& w = layers_[l];
            matrices.emplace_back(&w.attn_w, &block.attn->c_attn->weight.value());
            matrices.emplace_back(&w.attn_proj_w, &block.attn->c_proj->weight.value());
            matrices.emplace_back(&w.fc_w, &block.mlp->c_fc->weight.value());
            matrices.emplace_back(&w.mlp_proj_w, &block.mlp->c_proj->weight.value());
        }
        matrices.emplace_back(&head_, &model.wte->weight.value());
        std::int64_t total = 0;
        for (const auto& [m, t] : matrices)
            total += t->numel();
        half_.resize(std::size_t(total));
        std::int64_t offset = 0;
        for (const auto& [m, t] : matrices) {
            to_half(t->data(), half_.data() + offset, t->numel());
            m->f16 = half_.data() + offset;
            offset += t->numel();
        }
    }
    wpe_ = model.wpe ? model.wpe->weight.value().data() : nullptr;
    lnf_w_ = model.ln_f->weight.value().data();
    lnf_b_ = data_or_null(model.ln_f->bias);
    lnf_eps_ = model.ln_f->eps;
    // As the attention op: the scale rounded once from double, the ALiBi slopes from
    // ops::alibi_slopes, and RoPE's inverse frequencies by ops::rope's formula.
    scale_ = float(1.0 / std::sqrt(double(HS_)));
    slopes_.assign(std::size_t(NH_), 0.0f);
    if (alibi_) {
        const std::vector<double> s = ops::alibi_slopes(int(NH_));
        std::transform(s.begin(), s.end(), slopes_.begin(), [](double v) { return float(v); });
    }
    const std::int64_t half = HS_ / 2;
    for (std::int64_t i = 0; i < half; ++i)
        inv_freq_.push_back(std::pow(cfg_.rope_base, -double(2 * i) / double(2 * half)));

    const auto n = [](std::int64_t v) { return std::size_t(v); };
    key_region_ = HS_ * ((cap_ + key_block - 1) / key_block * key_block);
    k_.assign(n(L_ * B_ * NH_ * key_region_), 0.0f);
    v_.assign(n(L_ * B_ * C_ * cap_), 0.0f);
    length_.assign(n(B_), 0);
    logits_.assign(n(B_ * V_), 0.0f);
    hidden_.assign(n(B_ * C_), 0.0f);
    attn_.assign(n(B_ * L_ * NH_ * cap_), 0.0f);
    keys_.assign(n(B_ * cap_), 0);
    key_count_.assign(n(B_), 0);
    row_slot_.assign(n(max_rows_), 0);
    row_pos_.assign(n(max_rows_), 0);
    row_token_.assign(n(max_rows_), 0);
    row_last_.assign(n(max_rows_), 0);
    last_rows_.reserve(n(B_));
    x_.assign(n(max_rows_ * C_), 0.0f);
    qkv_.assign(n(max_rows_ * 3 * C_), 0.0f);
    q_sink_.assign(n(max_rows_ * C_), 0.0f);
    y_.assign(n(max_rows_ * C_), 0.0f);
    f_.assign(n(max_rows_ * 4 * C_), 0.0f);
    norm_.assign(n(num_threads() * max_rows_ * C_), 0.0f);
    stats_.assign(n(num_threads() * 2 * max_rows_), 0.0f);
    angles_.assign(n(max_rows_ * 2 * HS_), 0.0f);
    probs_.assign(n(max_rows_ * NH_ * cap_), 0.0f);
    hid_.assign(n(max_rows_ * C_), 0.0f);
    head_out_.assign(n(B_ * V_), 0.0f);
}

void InferenceSession::check_slot(std::int64_t slot, const char* what) const {
    if (slot < 0 || slot >= B_)
        throw ConfigError(std::string("InferenceSession::") + what + ": slot " + str(slot) +
                          " is outside [0, " + str(B_) + ")");
}

void InferenceSession::reset(std::int64_t slot) {
    check_slot(slot, "reset");
    length_[std::size_t(slot)] = 0;
    key_count_[std::size_t(slot)] = 0;
}

void InferenceSession::reset() {
    std::fill(length_.begin(), length_.end(), 0);
    std::fill(key_count_.begin(), key_count_.end(), 0);
}

std::int64_t InferenceSession::length(std::int64_t slot) const {
    check_slot(slot, "length");
    return length_[std::size_t(slot)];
}

std::int64_t InferenceSession::cached(std::int64_t slot) const {
    check_slot(slot, "cached");
    return std::min(length_[std::size_t(slot)], cap_);
}

bool InferenceSession::can_feed(std::int64_t slot) const {
    check_slot(slot, "can_feed");
    return sliding_ || length_[std::size_t(slot)] < cap_;
}

// The cache column of a position: the position itself until the cache is full; with a sliding
// cache, sinks keep their columns and the window is a ring over the columns after them.
std::int64_t InferenceSession::column_of(std::int64_t position) const {
    if (!sliding_ || position < sinks_)
        return position;
    return sinks_ + (position - sinks_) % window_;
}

// Where channel c of the key in cache column `col` sits in its head's key blocks.
std::int64_t InferenceSession::key_index(std::int64_t col, std::int64_t c) const {
    return col / key_block * HS_ * key_block + c * key_block + col % key_block;
}

// The cache entries a query at `position` sees, oldest first, as at most three runs of columns:
// the sinks, then the window (which may wrap around the ring). Sink runs are marked only once the
// query's cache position (context - 1) differs from its true position.
int InferenceSession::segments(std::int64_t position, Segment* out) const {
    if (!sliding_) {
        out[0] = {0, position + 1, 0, false};
        return 1;
    }
    int n = 0;
    const std::int64_t sinks = std::min(sinks_, position + 1);
    if (sinks > 0)
        out[n++] = {0, sinks, 0, position >= cap_};
    if (position >= sinks_) {
        const std::int64_t w0 = std::max(sinks_, position - window_ + 1); // oldest in the window
        const std::int64_t count = position - w0 + 1;
        const std::int64_t column = column_of(w0);
        const std::int64_t first = std::min(count, cap_ - column);
        out[n++] = {column, first, w0, false};
        if (count > first)
            out[n++] = {sinks_, count - first, w0 + first, false};
    }
    return n;
}

std::span<const float> InferenceSession::logits(std::int64_t slot) const {
    check_slot(slot, "logits");
    if (length_[std::size_t(slot)] == 0)
        throw ConfigError("InferenceSession::logits: slot " + str(slot) + " holds no tokens");
    return {logits_.data() + slot * V_, std::size_t(V_)};
}

std::span<const float> InferenceSession::hidden(std::int64_t slot) const {
    check_slot(slot, "hidden");
    if (length_[std::size_t(slot)] == 0)
        throw ConfigError("InferenceSession::hidden: slot " + str(slot) + " holds no tokens");
    return {hidden_.data() + slot * C_, std::size_t(C_)};
}

std::span<const float> InferenceSession::attention(std::int64_t slot, std::int64_t layer) const {
    check_slot(slot, "attention");
    if (layer < 0 || layer >= L_)
        throw ConfigError("InferenceSession::attention: layer " + str(layer) + " is outside [0, " +
                          str(L_) + ")");
    const std::int64_t n = key_count_[std::size_t(slot)];
    return {attn_.data() + (slot * L_ + layer) * NH_ * cap_, std::size_t(NH_ * n)};
}

std::span<const std::int64_t> InferenceSession::key_positions(std::int64_t slot) const {
    check_slot(slot, "key_positions");
    return {keys_.data() + slot * cap_, std::size_t(key_count_[std::size_t(slot)])};
}

void InferenceSession::prefill(std::int64_t slot, std::span<const std::int32_t> tokens,
                               std::span<float> hidden_out) {
    check_slot(slot, "prefill");
    const std::int64_t n = std::int64_t(tokens.size());
    if (n == 0)
        throw ConfigError("InferenceSession::prefill: no tokens for slot " + str(slot));
    for (const std::int32_t t : tokens)
        if (t < 0 || t >= V_)
            throw ConfigError("InferenceSession: token " + str(t) + " for slot " + str(slot) +
                              " is outside the vocabulary [0, " + str(V_) + ")");
    std::int64_t& len = length_[std::size_t(slot)];
    if (!sliding_ && len + n > cap_)
        throw ConfigError("InferenceSession: slot " + str(slot) + " cannot take " + str(n) +
                          " tokens at position " + str(len) + ": its context holds " + str(cap_) +
                          " (use a sliding cache or crop the context)");
    if (!hidden_out.empty() && std::int64_t(hidden_out.size()) != n * C_)
        throw ShapeError("InferenceSession::prefill: hidden_out holds " +
                         str(std::int64_t(hidden_out.size())) + " floats, expected " + str(n) +
                         " tokens x " + str(C_) + " channels");
    for (std::int64_t done = 0; done < n;) {
        // A chunk never evicts: it fits the free entries, or is one token once the cache is full.
        const std::int64_t room = cap_ - std::min(len, cap_);
        const std::int64_t rows = room > 0 ? std::min({n - done, max_rows_, room}) : 1;
        last_rows_.clear();
        for (std::int64_t r = 0; r < rows; ++r) {
            row_slot_[std::size_t(r)] = slot;
            row_token_[std::size_t(r)] = tokens[std::size_t(done + r)];
            row_pos_[std::size_t(r)] = len + r;
            row_last_[std::size_t(r)] = r == rows - 1;
        }
        last_rows_.push_back(rows - 1);
        run_pass(rows);
        if (!hidden_out.empty())
            std::copy_n(hid_.data(), rows * C_, hidden_out.data() + done * C_);
        len += rows;
        done += rows;
    }
}

void InferenceSession::step(std::span<const std::int32_t> tokens) {
    if (std::int64_t(tokens.size()) != B_)
        throw ShapeError("InferenceSession::step: expected " + str(B_) +
                         " tokens, one per slot (skip for none), got " +
                         str(std::int64_t(tokens.size())));
    for (std::int64_t b = 0; b < B_; ++b) {
        const std::int32_t t = tokens[std::size_t(b)];
        if (t == skip)
            continue;
        if (t < 0 || t >= V_)
            throw ConfigError("InferenceSession: token " + str(t) + " for slot " + str(b) +
                              " is outside the vocabulary [0, " + str(V_) + ")");
        if (!can_feed(b))
            throw ConfigError("InferenceSession: slot " + str(b) + " is full: position " +
                              str(length_[std::size_t(b)]) + " does not fit a context of " +
                              str(cap_) + " (use a sliding cache or crop the context)");
    }
    std::int64_t rows = 0;
    last_rows_.clear();
    for (std::int64_t b = 0; b < B_; ++b) {
        if (tokens[std::size_t(b)] == skip)
            continue;
        row_slot_[std::size_t(rows)] = b;
        row_token_[std::size_t(rows)] = tokens[std::size_t(b)];
        row_pos_[std::size_t(rows)] = length_[std::size_t(b)];
        row_last_[std::size_t(rows)] = 1;
        last_rows_.push_back(rows);
        ++rows;
    }
    if (rows == 0)
        return;
    run_pass(rows);
    for (std::int64_t r = 0; r < rows; ++r)
        ++length_[std::size_t(row_slot_[std::size_t(r)])];
}

void InferenceSession::copy_slot(std::int64_t from, std::int64_t to, std::int64_t last) {
    check_slot(from, "copy_slot");
    check_slot(to, "copy_slot");
    if (from == to)
        return;
    const std::size_t f = std::size_t(from), t = std::size_t(to);
    if (last >= 0 && length_[t] != length_[f])
        throw ConfigError("InferenceSession::copy_slot: slot " + str(to) + " has length " +
                          str(length_[t]) + " and slot " + str(from) + " has " + str(length_[f]) +
                          "; copying the last tokens needs slots in lockstep");
    const std::int64_t n = std::min(length_[f], cap_);
    for (std::int64_t lh = 0; lh < L_ * NH_; ++lh) {
        const std::int64_t l = lh / NH_, h = lh % NH_;
        const std::int64_t src = (l * B_ + from) * NH_ + h, dst = (l * B_ + to) * NH_ + h;
        float* const kd = k_.data() + dst * key_region_;
        const float* const ks = k_.data() + src * key_region_;
        float* const vd = v_.data() + dst * cap_ * HS_;
        const float* const vsrc = v_.data() + src * cap_ * HS_;
        if (last < 0) {
            // Entries in use are always columns [0, n): whole key blocks, then value rows.
            std::copy_n(ks, (n + key_block - 1) / key_block * key_block * HS_, kd);
            std::copy_n(vsrc, n * HS_, vd);
        } else {
            for (std::int64_t p = length_[f] - std::min(last, n); p < length_[f]; ++p) {
                const std::int64_t col = column_of(p);
                for (std::int64_t c = 0; c < HS_; ++c)
                    kd[key_index(col, c)] = ks[key_index(col, c)];
                std::copy_n(vsrc + col * HS_, HS_, vd + col * HS_);
            }
        }
    }
    length_[t] = length_[f];
    key_count_[t] = key_count_[f];
    std::copy_n(logits_.data() + from * V_, V_, logits_.data() + to * V_);
    std::copy_n(hidden_.data() + from * C_, C_, hidden_.data() + to * C_);
    std::copy_n(attn_.data() + from * L_ * NH_ * cap_, L_ * NH_ * cap_,
                attn_.data() + to * L_ * NH_ * cap_);
    std::copy_n(keys_.data() + from * cap_, cap_, keys_.data() + to * cap_);
}

// One query (row r, head h) against its slot's cache in `layer`: scores over the visible entries
// oldest first, softmax, weighted sum of values into y. The row's key and value are already in
// the cache. Shapes: q in qkv_ (R, 3C); k_ (L, B, NH, HS, K); v_ (L, B, NH, K, HS); y_ (R, C).
void InferenceSession::attend(std::int64_t r, std::int64_t h, std::int64_t layer) {
    const std::int64_t slot = row_slot_[std::size_t(r)], p = row_pos_[std::size_t(r)];
    Segment seg[3];
    const int nseg = segments(p, seg);
    const float* q = qkv_.data() + r * 3 * C_ + h * HS_;
    const float* q_sink = rope_ ? q_sink_.data() + r * C_ + h * HS_ : q;
    const std::int64_t head = (layer * B_ + slot) * NH_ + h;
    const float* kt = k_.data() + head * key_region_;
    const float* vs = v_.data() + head * cap_ * HS_;
    const float slope = slopes_[std::size_t(h)];
    float* s = probs_.data() + (r * NH_ + h) * cap_;

    // Scores: dot products over the transposed keys, a vector loop over entries, then the scale
    // and the ALiBi bias exactly as the attention op forms them.
    std::int64_t n = 0;
    for (int i = 0; i < nseg; ++i) {
        const Segment& g = seg[i];
        const float* qq = g.sink ? q_sink : q;
        // Distances: true ones in the window; from the query's cache position for the sinks.
        const std::int64_t query_at = g.sink ? cap_ - 1 : p;
        float* out = s + n;
        dot_columns(qq, kt, g.column, HS_, g.count, out);
        for (std::int64_t j = 0; j < g.count; ++j)
            out[j] =
                std::fma(out[j], scale_, -slope * float(std::int32_t(query_at - (g.position + j))));
        n += g.count;
    }
    const float m = detail::row_max(s, n);
    detail::exp_row(s, n, m, s);
    const float inv = 1.0f / detail::row_sum(s, n);
    for (std::int64_t j = 0; j < n; ++j)
        s[j] *= inv;

    // Output: the weighted sum of values, entries oldest first.
    weighted_values(s, seg, nseg, vs, HS_, y_.data() + r * C_ + h * HS_);

    if (row_last_[std::size_t(r)]) {
        std::copy_n(s, n, attn_.data() + (slot * L_ + layer) * NH_ * cap_ + h * n);
        if (layer == 0 && h == 0) {
            std::int64_t* keys = keys_.data() + slot * cap_;
            for (int i = 0, k = 0; i < nseg; ++i)
                for (std::int64_t j = 0; j < seg[i].count; ++j)
                    keys[k++] = seg[i].position + j;
            key_count_[std::size_t(slot)] = n;
        }
    }
}

// One head of one layer for every row of the pass: its queries, keys and values (its HS columns
// of each third of c_attn), RoPE, the keys and values into the cache, then attention. One task
// owns a head's cache entries for the whole pass, so the rows of a prompt chunk see each other's
// keys without waiting at a barrier. `a` is ln_1 of the rows (R, C).
void InferenceSession::attention_head(const float* a, std::int64_t R, std::int64_t h,
                                      std::int64_t layer) {
    const std::int64_t C = C_, half = HS_ / 2;
    const LayerWeights& w = layers_[std::size_t(layer)];
    for (std::int64_t part = 0; part < 3; ++part) { // q, k, v
        const std::int64_t o0 = part * C + h * HS_;
        if (w.attn_w.f16)
            decode_linear(a, R, C, w.attn_w.f16, w.attn_b, qkv_.data(), 3 * C, o0, o0 + HS_);
        else
            decode_linear(a, R, C, w.attn_w.f32, w.attn_b, qkv_.data(), 3 * C, o0, o0 + HS_);
    }
    for (std::int64_t r = 0; r < R; ++r) {
        const std::int64_t slot = row_slot_[std::size_t(r)], p = row_pos_[std::size_t(r)];
        float* q = qkv_.data() + r * 3 * C + h * HS_;
        float* k = q + C;
        const float* v = q + 2 * C;
        if (rope_) {
            const float* cs = angles_.data() + r * 2 * HS_;
            if (sliding_ && sinks_ > 0 && p >= cap_)
                rotate_head(q, q_sink_.data() + r * C + h * HS_, cs + HS_, half);
            rotate_head(q, q, cs, half);
            rotate_head(k, k, cs, half);
        }
        const std::int64_t head = (layer * B_ + slot) * NH_ + h, col = column_of(p);
        float* kt = k_.data() + head * key_region_;
        for (std::int64_t c = 0; c < HS_; ++c)
            kt[key_index(col, c)] = k[c];
        std::copy_n(v, HS_, v_.data() + (head * cap_ + col) * HS_);
    }
    for (std::int64_t r = 0; r < R; ++r)
        attend(r, h, layer);
}

// The forward pass of rows [0, R) described by row_slot_, row_token_, row_pos_ and row_last_, in
// one parallel region. Each phase is an omp for over fixed work items, ending at a barrier: per
// layer, the heads, the attention projection, the MLP's two Linear layers. LayerNorms need no
// phase of their own: each thread normalises every row itself, into its own buffer.
void InferenceSession::run_pass(std::int64_t R) {
    const std::int64_t C = C_, half = HS_ / 2;
    const std::int64_t nlast = std::int64_t(last_rows_.size());
    const int threads = omp_get_max_threads();
    // Allocates only when the thread count has grown since the last pass.
    if (std::int64_t(norm_.size()) < threads * max_rows_ * C) {
        norm_.assign(std::size_t(threads * max_rows_ * C), 0.0f);
        stats_.assign(std::size_t(threads * 2 * max_rows_), 0.0f);
    }
#pragma omp parallel num_threads(threads)
    {
        const std::int64_t t = omp_get_thread_num();
        float* const a = norm_.data() + t * max_rows_ * C;
        float* const mean = stats_.data() + t * 2 * max_rows_;
        const auto normalise = [&](const float* weight, const float* bias, double eps) {
            ops::layernorm_forward_serial(x_.data(), weight, bias, a, mean, mean + max_rows_, R, C,
                                          eps);
        };
        // Embeddings, and the RoPE (cos, sin) pairs of each row's position and, once a sliding
        // cache is full, of its cache position context - 1.
#pragma omp for schedule(static)
        for (std::int64_t r = 0; r < R; ++r) {
            const std::int64_t p = row_pos_[std::size_t(r)];
            const float* e = wte_ + std::int64_t(row_token_[std::size_t(r)]) * C;
            float* x = x_.data() + r * C;
            if (wpe_)
                for (std::int64_t c = 0; c < C; ++c)
                    x[c] = e[c] + wpe_[p * C + c];
            else
                std::copy_n(e, C, x);
            if (rope_) {
                float* cs = angles_.data() + r * 2 * HS_;
                const bool sink_query = sliding_ && sinks_ > 0 && p >= cap_;
                for (std::int64_t i = 0; i < half; ++i) {
                    const double angle = double(p) * inv_freq_[std::size_t(i)];
                    cs[2 * i] = float(std::cos(angle));
                    cs[2 * i + 1] = float(std::sin(angle));
                    if (sink_query) {
                        const double at_cache = double(cap_ - 1) * inv_freq_[std::size_t(i)];
                        cs[HS_ + 2 * i] = float(std::cos(at_cache));
                        cs[HS_ + 2 * i + 1] = float(std::sin(at_cache));
                    }
                }
            }
        }
        for (std::int64_t l = 0; l < L_; ++l) {
            const LayerWeights& w = layers_[std::size_t(l)];
            // y = attention(ln_1(x)), one head per task
            normalise(w.ln1_w, w.ln1_b, w.ln1_eps);
#pragma omp for schedule(static)
            for (std::int64_t h = 0; h < NH_; ++h)
                attention_head(a, R, h, l);
            // x += y W_proj^T + b
            linear_blocks(y_.data(), R, C, w.attn_proj_w, w.attn_proj_b, x_.data(), C, C,
                          LinearInto::add);
            // f = gelu(ln_2(x) W_fc^T + b) (R, 4C); x += f W_proj^T + b
            normalise(w.ln2_w, w.ln2_b, w.ln2_eps);
            linear_blocks(a, R, C, w.fc_w, w.fc_b, f_.data(), 4 * C, 4 * C, LinearInto::overwrite,
                          true);
            linear_blocks(f_.data(), R, 4 * C, w.mlp_proj_w, w.mlp_proj_b, x_.data(), C, C,
                          LinearInto::add);
        }
        // Hidden states = ln_f(x) of every row (prefill may return them all); those of the last
        // rows of their slots are kept.
#pragma omp for schedule(static)
        for (std::int64_t r = 0; r < R; ++r) {
            ops::layernorm_forward_serial(x_.data() + r * C, lnf_w_, lnf_b_, hid_.data() + r * C,
                                          mean + r, mean + max_rows_ + r, 1, C, lnf_eps_);
            if (row_last_[std::size_t(r)])
                std::copy_n(hid_.data() + r * C, C, hidden_.data() + row_slot_[std::size_t(r)] * C);
        }
        // logits = hidden W_te^T (tied LM head) for the last rows, gathered by each thread.
        for (std::int64_t i = 0; i < nlast; ++i)
            std::copy_n(hid_.data() + last_rows_[std::size_t(i)] * C, C, a + i * C);
        linear_blocks(a, nlast, C, head_, nullptr, head_out_.data(), V_, V_, LinearInto::overwrite);
#pragma omp for schedule(static)
        for (std::int64_t i = 0; i < nlast; ++i)
            std::copy_n(head_out_.data() + i * V_, V_,
                        logits_.data() + row_slot_[std::size_t(last_rows_[std::size_t(i)])] * V_);
    }
}

} // namespace ouro::gen
