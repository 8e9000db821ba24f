// InferenceSession: construction, the pass that feeds rows through the model (one parallel
// region), the attention of one query against a slot's cache, and the slot bookkeeping. The
// memory plan and the cache semantics are in session.hpp; the kernels are the ops' decode
// schedules.
//
// Shape letters (llm.c): B slots, R rows of a pass, C channels, NH query heads, NKV key/value
// heads, HS head size, V vocab, L layers, K cache entries per slot (the context), H MLP hidden.
#include "ouro/gen/session.hpp"

#include "ouro/core/parallel.hpp"
#include "ouro/ops/gelu.hpp"
#include "ouro/ops/layernorm.hpp"
#include "ouro/ops/rmsnorm.hpp"
#include "ouro/ops/rope.hpp"
#include "ouro/ops/swiglu.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>

namespace ouro::gen {
namespace {

using ops::LinearInto;

// Output features per parallel block of a Linear layer: fixed, so the split never depends on the
// thread count (and small enough that a batch-1 pass over C = 256 outputs still has 8 blocks).
constexpr std::int64_t feature_block = 32;

std::string str(std::int64_t v) {
    return std::to_string(v);
}

const float* data_or_null(const TensorF* t) {
    return t ? t->data() : nullptr;
}

// linear_rows over output features [o0, o1) of `w` (float or half) into out (rows of `stride`).
void rows(const float* in, std::int64_t R, std::int64_t IN, const float* w32, const Half* w16,
          const float* bias, float* out, std::int64_t stride, std::int64_t o0, std::int64_t o1,
          LinearInto into) {
    if (w16)
        ops::linear_rows(in, R, IN, w16, bias, out, stride, o0, o1, into);
    else
        ops::linear_rows(in, R, IN, w32, bias, out, stride, o0, o1, into);
}

// Every session's passes are timed by one chooser, so a short session starts from what earlier
// ones measured.
ThreadChooser& pass_threads() {
    static ThreadChooser chooser;
    return chooser;
}

} // namespace

// Rows [0, R) of in (R, IN) through a Linear layer into out (R, OUT), the output features in
// fixed blocks shared among the threads of the enclosing parallel region; with `gelu` each block
// is passed through GELU once computed. Must be called by every thread of the region (an orphaned
// omp for, with its barrier).
void InferenceSession::linear_blocks(const float* in, std::int64_t R, std::int64_t IN,
                                     const Linear& layer, float* out, std::int64_t OUT,
                                     LinearInto into, bool gelu) const {
    const std::int64_t blocks = (OUT + feature_block - 1) / feature_block;
#pragma omp for schedule(static)
    for (std::int64_t blk = 0; blk < blocks; ++blk) {
        const std::int64_t o0 = blk * feature_block, o1 = std::min(OUT, o0 + feature_block);
        rows(in, R, IN, layer.w.f32, layer.w.f16, layer.b, out, OUT, o0, o1, into);
        if (gelu)
            for (std::int64_t r = 0; r < R; ++r)
                ops::gelu_forward_serial(out + r * OUT + o0, out + r * OUT + o0, o1 - o0);
    }
}

// SwiGLU's input projection and activation, out (R, H) = swiglu(in (R, C) W^T + b), with W (2H, C)
// holding the gate rows, then the up rows. A block of features computes its gate and its up
// outputs side by side in the thread's scratch (R, 2 x block), so the activation needs no barrier
// of its own; the weight and bias pointers are offset to the block (linear_rows' results do not
// depend on the block).
void InferenceSession::swiglu_blocks(const float* in, std::int64_t R, const Linear& layer,
                                     float* out, float* scratch) const {
    const std::int64_t H = H_, C = C_;
    const std::int64_t blocks = (H + feature_block - 1) / feature_block;
#pragma omp for schedule(static)
    for (std::int64_t blk = 0; blk < blocks; ++blk) {
        const std::int64_t o0 = blk * feature_block, n = std::min(H, o0 + feature_block) - o0;
        for (const std::int64_t half : {std::int64_t(0), H}) { // gate rows, then up rows
            const std::int64_t first = half + o0;
            rows(in, R, C, layer.w.f32 ? layer.w.f32 + first * C : nullptr,
                 layer.w.f16 ? layer.w.f16 + first * C : nullptr,
                 layer.b ? layer.b + first : nullptr, scratch + (half ? n : 0), 2 * n, 0, n,
                 LinearInto::overwrite);
        }
        for (std::int64_t r = 0; r < R; ++r)
            ops::swiglu_forward_serial(scratch + r * 2 * n, out + r * H + o0, 1, n);
    }
}

// out (R, C) = the norm of x (R, C) by the serial kernel of its op; stats holds 2R floats.
void InferenceSession::normalise(const Norm& n, const float* x, float* out, float* stats,
                                 std::int64_t R) const {
    if (n.kind == nn::NormKind::rmsnorm)
        ops::rmsnorm_forward_serial(x, n.w, out, stats, R, C_, n.eps);
    else
        ops::layernorm_forward_serial(x, n.w, n.b, out, stats, stats + R, R, C_, n.eps);
}

bool can_slide(const nn::GPTConfig& config) {
    return config.position != nn::PositionEncoding::learned;
}

void require_sliding_positions(const nn::GPTConfig& config, const std::string& what) {
    if (!can_slide(config))
        throw ConfigError(what + " needs RoPE or ALiBi positions; this model has learned "
                                 "positions (use 'crop' or 'stop')");
}

InferenceSession::InferenceSession(const nn::GPT<float>& model, const SessionOptions& o)
    : InferenceSession(model, o, nullptr) {}

InferenceSession::InferenceSession(const nn::GPT<float>& model, const SessionOptions& o,
                                   const InferenceSession& half_from)
    : InferenceSession(model, o, &half_from) {}

InferenceSession::InferenceSession(const nn::GPT<float>& model, const SessionOptions& o,
                                   const InferenceSession* half_from)
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
    if (o.sliding)
        require_sliding_positions(cfg_, "InferenceSession: a sliding cache");
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
    NKV_ = cfg_.kv_heads();
    G_ = NH_ / NKV_;
    HS_ = cfg_.head_size();
    KVD_ = cfg_.kv_dim();
    QKV_ = C_ + 2 * KVD_;
    H_ = cfg_.hidden_size();
    V_ = cfg_.vocab_size;
    L_ = cfg_.n_layer;
    max_rows_ = std::max(B_, o.prefill_chunk);
    sliding_ = o.sliding;
    sinks_ = o.sink_tokens;
    window_ = cap_ - sinks_;
    rope_ = cfg_.position == PositionEncoding::rope;
    alibi_ = cfg_.position == PositionEncoding::alibi;

    // The weights, by the part they play (nn/weights.hpp).
    const nn::ModelView<float> view = model.view();
    const auto norm = [](const nn::NormView<float>& n) {
        return Norm{n.kind, n.weight->data(), data_or_null(n.bias), n.eps};
    };
    const auto linear = [](const nn::LinearView<float>& l) {
        return Linear{{l.weight->data(), nullptr}, data_or_null(l.bias)};
    };
    for (const nn::BlockView<float>& b : view.blocks)
        layers_.push_back({norm(b.norm_1), linear(b.qkv), linear(b.attn_out), norm(b.norm_2),
                           linear(b.mlp_in), linear(b.mlp_out)});
    wte_ = view.token_embedding->data();
    wpe_ = data_or_null(view.position_embedding);
    final_norm_ = norm(view.final_norm);
    head_ = linear(view.head);
    if (o.half_weights) {
        // Every matrix rounded to half, one after the other in half_.
        std::vector<std::pair<Matrix*, const TensorF*>> matrices;
        for (std::size_t l = 0; l < layers_.size(); ++l) {
            const nn::BlockView<float>& b = view.blocks[l];
            LayerWeights& w = layers_[l];
            matrices.emplace_back(&w.qkv.w, b.qkv.weight);
            matrices.emplace_back(&w.attn_out.w, b.attn_out.weight);
            matrices.emplace_back(&w.mlp_in.w, b.mlp_in.weight);
            matrices.emplace_back(&w.mlp_out.w, b.mlp_out.weight);
        }
        matrices.emplace_back(&head_.w, view.head.weight);
        std::int64_t total = 0;
        for (const auto& [m, t] : matrices)
            total += t->numel();
        if (half_from) { // read another session's copy of the same model
            if (!half_from->half_)
                throw ConfigError("InferenceSession: the session to share half weights with has "
                                  "none");
            if (half_from->wte_ != wte_ || std::int64_t(half_from->half_->size()) != total)
                throw ConfigError("InferenceSession: the session to share half weights with was "
                                  "built from another model");
            half_ = half_from->half_;
        } else {
            auto half = std::make_shared<std::vector<Half>>(std::size_t(total));
            std::int64_t offset = 0;
            for (const auto& [m, t] : matrices) {
                to_half(t->data(), half->data() + offset, t->numel());
                offset += t->numel();
            }
            half_ = std::move(half);
        }
        std::int64_t offset = 0;
        for (const auto& [m, t] : matrices) {
            *m = {nullptr, half_->data() + offset};
            offset += t->numel();
        }
    }
    // As the attention op: the scale rounded once from double, the ALiBi slopes from
    // ops::alibi_slopes.
    scale_ = float(1.0 / std::sqrt(double(HS_)));
    slopes_.assign(std::size_t(NH_), 0.0f);
    if (alibi_) {
        const std::vector<double> s = ops::alibi_slopes(int(NH_));
        std::transform(s.begin(), s.end(), slopes_.begin(), [](double v) { return float(v); });
    }

    const auto n = [](std::int64_t v) { return std::size_t(v); };
    key_region_ = ops::cache_key_region(cap_, HS_);
    k_.assign(n(L_ * B_ * NKV_ * key_region_), 0.0f);
    v_.assign(n(L_ * B_ * NKV_ * cap_ * HS_), 0.0f);
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
    qkv_.assign(n(max_rows_ * QKV_), 0.0f);
    q_sink_.assign(n(max_rows_ * C_), 0.0f);
    y_.assign(n(max_rows_ * C_), 0.0f);
    f_.assign(n(max_rows_ * H_), 0.0f);
    norm_.assign(n(num_threads() * max_rows_ * C_), 0.0f);
    stats_.assign(n(num_threads() * 2 * max_rows_), 0.0f);
    gate_up_.assign(n(num_threads() * max_rows_ * 2 * feature_block), 0.0f);
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

// The cache entries a query at `position` sees, oldest first, as at most three runs of columns:
// the sinks, then the window (which may wrap around the ring). Sink runs are marked only once the
// query's cache position (context - 1) differs from its true position.
int InferenceSession::runs(std::int64_t position, ops::CacheRun* out) const {
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
    for (std::int64_t lh = 0; lh < L_ * NKV_; ++lh) {
        const std::int64_t l = lh / NKV_, h = lh % NKV_;
        const std::int64_t src = (l * B_ + from) * NKV_ + h, dst = (l * B_ + to) * NKV_ + h;
        float* const kd = k_.data() + dst * key_region_;
        const float* const ks = k_.data() + src * key_region_;
        float* const vd = v_.data() + dst * cap_ * HS_;
        const float* const vsrc = v_.data() + src * cap_ * HS_;
        if (last < 0) {
            // Entries in use are always columns [0, n): whole key blocks, then value rows.
            std::copy_n(ks, ops::cache_key_region(n, HS_), kd);
            std::copy_n(vsrc, n * HS_, vd);
        } else {
            for (std::int64_t p = length_[f] - std::min(last, n); p < length_[f]; ++p) {
                const std::int64_t col = column_of(p);
                for (std::int64_t c = 0; c < HS_; ++c)
                    kd[ops::cache_key_index(col, c, HS_)] = ks[ops::cache_key_index(col, c, HS_)];
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

// One query (row r, head h) against its slot's cache in `layer` (key/value head h / G): the
// attention op's decode schedule over the visible entries, oldest first, into y. The row's key and
// value are already in the cache. The weights of a slot's last row are kept for attention().
void InferenceSession::attend(std::int64_t r, std::int64_t h, std::int64_t layer) {
    const std::int64_t slot = row_slot_[std::size_t(r)], p = row_pos_[std::size_t(r)];
    ops::CacheRun run[3];
    const int nrun = runs(p, run);
    const float* q = qkv_.data() + r * QKV_ + h * HS_;
    const float* q_sink = rope_ ? q_sink_.data() + r * C_ + h * HS_ : q;
    const std::int64_t head = (layer * B_ + slot) * NKV_ + h / G_;
    float* s = probs_.data() + (r * NH_ + h) * cap_;
    const ops::DecodeQuery query{.head_size = HS_,
                                 .position = p,
                                 .sink_position = cap_ - 1,
                                 .scale = scale_,
                                 .slope = slopes_[std::size_t(h)]};
    const std::int64_t n = ops::attention_decode(q, q_sink, k_.data() + head * key_region_,
                                                 v_.data() + head * cap_ * HS_, run, nrun, query, s,
                                                 y_.data() + r * C_ + h * HS_);
    if (row_last_[std::size_t(r)]) {
        std::copy_n(s, n, attn_.data() + (slot * L_ + layer) * NH_ * cap_ + h * n);
        if (layer == 0 && h == 0) {
            std::int64_t* keys = keys_.data() + slot * cap_;
            for (int i = 0, k = 0; i < nrun; ++i)
                for (std::int64_t j = 0; j < run[i].count; ++j)
                    keys[k++] = run[i].position + j;
            key_count_[std::size_t(slot)] = n;
        }
    }
}

// Key/value head g of one layer for every row of the pass: the queries of its G query heads, its
// key and value (their columns of c_attn), RoPE, the key and value into the cache, then the
// attention of each query head. One task owns a key/value head's cache entries for the whole pass,
// so the rows of a prompt chunk see each other's keys without waiting at a barrier. `a` is the
// normalised rows (R, C).
void InferenceSession::attention_group(const float* a, std::int64_t R, std::int64_t g,
                                       std::int64_t layer) {
    const LayerWeights& w = layers_[std::size_t(layer)];
    const auto project = [&](std::int64_t o0, std::int64_t o1) {
        rows(a, R, C_, w.qkv.w.f32, w.qkv.w.f16, w.qkv.b, qkv_.data(), QKV_, o0, o1,
             LinearInto::overwrite);
    };
    project(g * G_ * HS_, (g + 1) * G_ * HS_);               // queries of heads g G .. g G + G - 1
    project(C_ + g * HS_, C_ + (g + 1) * HS_);               // key
    project(C_ + KVD_ + g * HS_, C_ + KVD_ + (g + 1) * HS_); // value
    const ops::RopeLayout layout = cfg_.rope_layout;
    for (std::int64_t r = 0; r < R; ++r) {
        const std::int64_t slot = row_slot_[std::size_t(r)], p = row_pos_[std::size_t(r)];
        float* q = qkv_.data() + r * QKV_ + g * G_ * HS_;
        float* k = qkv_.data() + r * QKV_ + C_ + g * HS_;
        const float* v = k + KVD_;
        if (rope_) {
            const float* cs = angles_.data() + r * 2 * HS_;
            for (std::int64_t h = 0; h < G_; ++h) {
                if (sliding_ && sinks_ > 0 && p >= cap_)
                    ops::rope_rotate(q + h * HS_, q_sink_.data() + r * C_ + (g * G_ + h) * HS_,
                                     cs + HS_, HS_, layout);
                ops::rope_rotate(q + h * HS_, q + h * HS_, cs, HS_, layout);
            }
            ops::rope_rotate(k, k, cs, HS_, layout);
        }
        const std::int64_t head = (layer * B_ + slot) * NKV_ + g;
        ops::cache_store(k, v, column_of(p), HS_, k_.data() + head * key_region_,
                         v_.data() + head * cap_ * HS_);
    }
    for (std::int64_t h = g * G_; h < (g + 1) * G_; ++h)
        for (std::int64_t r = 0; r < R; ++r)
            attend(r, h, layer);
}

// The forward pass of rows [0, R) described by row_slot_, row_token_, row_pos_ and row_last_, in
// one parallel region. Each phase is an omp for over fixed work items, ending at a barrier: per
// layer, the key/value heads, the attention projection, the MLP's two Linear layers. Norms need
// no phase of their own: each thread normalises every row itself, into its own buffer.
void InferenceSession::run_pass(std::int64_t R) {
    const std::int64_t C = C_;
    const std::int64_t nlast = std::int64_t(last_rows_.size());
    const ChosenThreads chosen(pass_threads(), R);
    const int threads = chosen.threads();
    // Allocates only when the thread count has grown since the last pass.
    if (std::int64_t(norm_.size()) < threads * max_rows_ * C) {
        norm_.assign(std::size_t(threads * max_rows_ * C), 0.0f);
        stats_.assign(std::size_t(threads * 2 * max_rows_), 0.0f);
        gate_up_.assign(std::size_t(threads * max_rows_ * 2 * feature_block), 0.0f);
    }
    const bool swiglu = cfg_.mlp == nn::MlpKind::swiglu;
    const std::int64_t first_slot = row_slot_[std::size_t(last_rows_[0])];
    bool head_direct = true;
    for (std::int64_t i = 0; i < nlast; ++i)
        head_direct =
            head_direct && row_slot_[std::size_t(last_rows_[std::size_t(i)])] == first_slot + i;
#pragma omp parallel num_threads(threads)
    {
        const std::int64_t t = omp_get_thread_num();
        float* const a = norm_.data() + t * max_rows_ * C;
        float* const stats = stats_.data() + t * 2 * max_rows_;
        float* const scratch = gate_up_.data() + t * max_rows_ * 2 * feature_block;
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
                ops::rope_angles(p, cfg_.rope_base, HS_, cs);
                if (sliding_ && sinks_ > 0 && p >= cap_)
                    ops::rope_angles(cap_ - 1, cfg_.rope_base, HS_, cs + HS_);
            }
        }
        for (std::int64_t l = 0; l < L_; ++l) {
            const LayerWeights& w = layers_[std::size_t(l)];
            // y = attention(norm_1(x)), one key/value head per task
            normalise(w.norm_1, x_.data(), a, stats, R);
#pragma omp for schedule(static)
            for (std::int64_t g = 0; g < NKV_; ++g)
                attention_group(a, R, g, l);
            // x += y W_proj^T + b
            linear_blocks(y_.data(), R, C, w.attn_out, x_.data(), C, LinearInto::add);
            // f = act(norm_2(x) W_fc^T + b) (R, H); x += f W_proj^T + b
            normalise(w.norm_2, x_.data(), a, stats, R);
            if (swiglu)
                swiglu_blocks(a, R, w.mlp_in, f_.data(), scratch);
            else
                linear_blocks(a, R, C, w.mlp_in, f_.data(), H_, LinearInto::overwrite, true);
            linear_blocks(f_.data(), R, H_, w.mlp_out, x_.data(), C, LinearInto::add);
        }
        // Hidden states = the final norm of every row (prefill may return them all); those of
        // the last rows of their slots are kept. No barrier: the classifier's input is
        // normalised again by each thread (the same kernel on the same row, the same bits).
#pragma omp for schedule(static) nowait
        for (std::int64_t r = 0; r < R; ++r) {
            normalise(final_norm_, x_.data() + r * C, hid_.data() + r * C, stats + 2 * r, 1);
            if (row_last_[std::size_t(r)])
                std::copy_n(hid_.data() + r * C, C, hidden_.data() + row_slot_[std::size_t(r)] * C);
        }
        // logits = hidden W_head^T for the last rows: straight into the slots' logits when the
        // last rows belong to consecutive slots (a step of every slot, a prefill), else gathered.
        for (std::int64_t i = 0; i < nlast; ++i)
            normalise(final_norm_, x_.data() + last_rows_[std::size_t(i)] * C, a + i * C, stats, 1);
        linear_blocks(a, nlast, C, head_,
                      head_direct ? logits_.data() + first_slot * V_ : head_out_.data(), V_,
                      LinearInto::overwrite);
        if (!head_direct) {
#pragma omp for schedule(static)
            for (std::int64_t i = 0; i < nlast; ++i)
                std::copy_n(head_out_.data() + i * V_, V_,
                            logits_.data() +
                                row_slot_[std::size_t(last_rows_[std::size_t(i)])] * V_);
        }
    }
}

} // namespace ouro::gen
