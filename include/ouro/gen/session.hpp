// InferenceSession: runs a trained nn::GPT<float> forward with a KV cache, for sampling. There is
// no autograd tape (no Var, no graph) and no allocation once the session is built: every buffer
// is sized up front for B sequences (slots) and a cache of `context` entries per slot.
//
// Usage:
//   InferenceSession session(model, {.batch_size = 1});
//   session.prefill(0, prompt);                 // the prompt's keys and values go into slot 0
//   for (...) {
//       const std::int32_t next = choose(session.logits(0));
//       session.step({&next, 1});               // one new token per slot
//   }
//
// Slots are independent sequences, each at its own position: step() feeds one token to every
// slot that is given one (InferenceSession::skip for the others) and computes, for each, the
// logits of that last position, the last hidden state (the output of the final norm, which
// contrastive search compares) and the attention weights of the new token in every layer and
// head. A slot's results do not depend on the other slots, on the thread count, or on whether its
// tokens came through prefill() or one step() at a time: every row goes through the same
// operations in the same order, so they agree to the bit.
//
// The session has no model code of its own. It reads the weights through GPT::view() (any block
// variant: GPT-2 or Llama, learned / RoPE / ALiBi, grouped-query attention, tied or separate
// classifier) and runs the decode schedule of each op, which lives in that op's file beside its
// forward, backward and reference: ops::linear_rows (matmul.hpp, float or half weights),
// ops::attention_decode and the cache layout (attention.hpp), ops::rope_rotate (rope.hpp), and
// the serial row kernels of layernorm, rmsnorm, gelu and swiglu. What it owns is the slots, the
// cache with its ring and sinks, and the parallel phases.
//
// One pass (a step, or a chunk of a prompt) is one OpenMP parallel region with four barriers per
// layer. Threads share out the key/value heads (the queries of its query heads, its keys, values,
// cache entries and attention for every row), then fixed blocks of the output features of each
// other Linear layer (the weights, which bound batch-1 decoding, are read once per pass); every
// thread computes the norms of all rows itself rather than wait for them. The work items never
// depend on the thread count. Unless a thread count was set explicitly, each pass runs with the
// whole team or with one thread, whichever a ThreadChooser (core/thread_chooser.hpp) shared by
// every session of the process measured faster per row: on a machine where another program
// keeps a core busy, the barriers would otherwise make the team slower than one thread.
//
// The cache and positions. A token at position p (its index in the sequence) is embedded with
// wpe[p] (learned positions), or its query and key are rotated by p (RoPE), or its scores carry
// ALiBi's distance bias. Without a sliding cache a slot holds positions 0 .. context-1 and
// feeding one more is an error. With `sliding`, a full slot evicts its oldest entry: it keeps the
// first `sink_tokens` entries forever (StreamingLLM's attention sinks, Xiao et al. 2023, "Efficient
// streaming language models with attention sinks") and a window of the most recent
// context - sink_tokens entries, in a ring. Positions are those of StreamingLLM, i.e. within the
// cache: once full, the query sits at cache position context - 1, the sinks at 0 .. k-1 and the
// window just before the query. Within the window, cache distances equal true distances, so keys
// are stored RoPE-rotated at their true positions and never re-rotated; only the scores against
// the sinks differ, and for them the query is rotated a second time, at its cache position (and
// ALiBi takes the cache distance). Sliding needs RoPE or ALiBi: learned positions bake the
// position into every cached key and value.
#pragma once

#include "ouro/core/half.hpp"
#include "ouro/core/thread_chooser.hpp"
#include "ouro/nn/gpt.hpp"
#include "ouro/ops/attention.hpp"
#include "ouro/ops/matmul.hpp"

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace ouro::gen {

/// Whether a model's positions allow a sliding cache (the slide and sinks policies): RoPE and
/// ALiBi do; learned positions bake the position into every cached key and value.
bool can_slide(const nn::GPTConfig& config);
/// The one check of that rule: throws ConfigError "<what> needs RoPE or ALiBi positions; this
/// model has learned positions (use 'crop' or 'stop')" unless can_slide(config), e.g. with what =
/// "generate: the 'slide' policy" or "InferenceSession: a sliding cache".
void require_sliding_positions(const nn::GPTConfig& config, const std::string& what);

struct SessionOptions {
    std::int64_t batch_size = 1; ///< B, independent sequences (slots)
    /// Cache entries per slot: the most tokens one query attends to. 0 means block_size; more
    /// than block_size only with RoPE or ALiBi (learned positions stop at block_size).
    std::int64_t context = 0;
    /// When a slot is full, evict its oldest entry after the sinks instead of refusing the token.
    /// RoPE or ALiBi only.
    bool sliding = false;
    /// With sliding: entries 0 .. sink_tokens-1 are never evicted (0 = a plain sliding window).
    std::int64_t sink_tokens = 0;
    /// Rows per pass when prefill() feeds a prompt (the activation buffers hold this many rows).
    std::int64_t prefill_chunk = 64;
    /// Keep a copy of the weight matrices (every Linear layer and the LM head) in IEEE half
    /// precision and decode from it: half the bytes to read per token, float arithmetic. The
    /// logits then move by about 1e-3 of their scale from the float model's.
    bool half_weights = false;
};

class InferenceSession {
public:
    /// In step(), a slot given this value is not fed.
    static constexpr std::int32_t skip = -1;

    /// Reads the weights of `model` in place (with half_weights the matrices are also copied
    /// once, rounded to half): the model must outlive the session, and changing its weights makes
    /// the cached keys and values stale (reset the slots; a half copy is not refreshed). Dropout
    /// is never applied. Throws ConfigError with the option and its value, e.g.
    ///   "InferenceSession: batch_size must be at least 1, got 0"
    ///   "InferenceSession: context 300 is longer than block_size 256, and learned positions
    ///    have no embedding past it"
    ///   "InferenceSession: a sliding cache needs RoPE or ALiBi positions; this model has learned
    ///    positions (use 'crop' or 'stop')"
    ///   "InferenceSession: sink_tokens = 64 leaves no room for a sliding window in a context of
    ///    64"
    InferenceSession(const nn::GPT<float>& model, const SessionOptions& options = {});
    /// The same, except that with options.half_weights the matrices are read from the half
    /// precision copy of `half_from` (a session of the same model with half_weights) instead of a
    /// copy of its own: one read-only copy for many sessions (one per thread). The copy lives as
    /// long as any session that reads it; `half_from` is only read here (it may be decoding on
    /// another thread). Throws as above, and ConfigError "InferenceSession: the session to share
    /// half weights with has none" or "... was built from another model".
    InferenceSession(const nn::GPT<float>& model, const SessionOptions& options,
                     const InferenceSession& half_from);

    std::int64_t batch_size() const { return B_; }
    /// Cache entries per slot.
    std::int64_t context() const { return cap_; }
    bool sliding() const { return sliding_; }
    bool half_weights() const { return half_ != nullptr; }
    /// The half-precision copy this session reads (shared by the sessions built from it), or
    /// nullptr without half_weights.
    const std::vector<Half>* half_copy() const { return half_.get(); }
    std::int64_t sink_tokens() const { return sinks_; }
    const nn::GPTConfig& config() const { return cfg_; }

    /// Empties one slot (or all of them).
    void reset(std::int64_t slot);
    void reset();

    /// Tokens fed to the slot since its reset: the position of the next one.
    std::int64_t length(std::int64_t slot) const;
    /// Entries in the slot's cache: the keys the last token attended to.
    std::int64_t cached(std::int64_t slot) const;
    /// Whether the slot can take another token (always, with a sliding cache).
    bool can_feed(std::int64_t slot) const;

    /// Feeds `tokens` to `slot` after what it holds, in chunks of prefill_chunk rows (a full
    /// sliding cache takes them one at a time, evicting as it goes). Afterwards logits(slot),
    /// hidden(slot) and attention(slot, layer) are those of the last token. When `hidden_out` is
    /// not empty it must hold tokens.size() * C floats and receives the hidden state of every
    /// token, in order. Throws ConfigError (nothing is fed) for an empty list, a token outside the
    /// vocabulary or tokens that do not fit a non-sliding cache; ShapeError for a wrong
    /// hidden_out size.
    void prefill(std::int64_t slot, std::span<const std::int32_t> tokens,
                 std::span<float> hidden_out = {});

    /// Feeds tokens[b] to slot b for every b with tokens[b] != skip, all in one pass. Throws
    /// ShapeError when tokens.size() != batch_size(), ConfigError (nothing is fed) for a token
    /// outside the vocabulary or a full slot without a sliding cache:
    ///   "InferenceSession: slot 0 is full: position 64 does not fit a context of 64 (use a
    ///    sliding cache or crop the context)"
    void step(std::span<const std::int32_t> tokens);

    /// Makes slot `to` a copy of slot `from`: cache, length and results. With last = n >= 0 only
    /// the cache entries of the last n tokens are copied, for slots kept in lockstep (contrastive
    /// search): `to` must already hold the same entries for every earlier token, and must have the
    /// same length (ConfigError otherwise). Copies only entries in use.
    void copy_slot(std::int64_t from, std::int64_t to, std::int64_t last = -1);

    /// The logits (V) of the slot's last token. These accessors throw ConfigError for a slot
    /// outside [0, B) and (logits, hidden) for a slot that holds no tokens: "InferenceSession::
    /// logits: slot 0 holds no tokens". The spans stay valid until the slot is fed again.
    std::span<const float> logits(std::int64_t slot) const;
    /// The slot's last hidden state (C): the output of ln_f for its last token, i.e. the input of
    /// the LM head.
    std::span<const float> hidden(std::int64_t slot) const;
    /// The attention weights of the slot's last token in `layer`: NH rows of cached(slot)
    /// weights, row h for head h, columns in the order of key_positions(slot). Each row sums to 1.
    std::span<const float> attention(std::int64_t slot, std::int64_t layer) const;
    /// The positions (in the sequence) of the cache entries the last token attended to, oldest
    /// first: 0 .. length-1 until the cache is full; then the sinks and the window.
    std::span<const std::int64_t> key_positions(std::int64_t slot) const;

private:
    // A weight matrix, read in place from the model or (half_weights) from the session's copy.
    struct Matrix {
        const float* f32 = nullptr;
        const Half* f16 = nullptr;
    };
    struct Linear {
        Matrix w;
        const float* b = nullptr;
    };
    struct Norm {
        nn::NormKind kind;
        const float *w, *b;
        double eps;
    };
    struct LayerWeights {
        Norm norm_1;
        Linear qkv, attn_out;
        Norm norm_2;
        Linear mlp_in, mlp_out;
    };

    InferenceSession(const nn::GPT<float>& model, const SessionOptions& options,
                     const InferenceSession* half_from);
    void check_slot(std::int64_t slot, const char* what) const;
    std::int64_t column_of(std::int64_t position) const;
    int runs(std::int64_t position, ops::CacheRun* out) const;
    void run_pass(std::int64_t rows);
    void attend(std::int64_t row, std::int64_t h, std::int64_t layer);
    void attention_group(const float* a, std::int64_t rows, std::int64_t g, std::int64_t layer);
    void linear_blocks(const float* in, std::int64_t rows, std::int64_t in_features,
                       const Linear& layer, float* out, std::int64_t out_features,
                       ops::LinearInto into, bool gelu = false) const;
    void swiglu_blocks(const float* in, std::int64_t rows, const Linear& layer, float* out,
                       float* scratch) const;
    void normalise(const Norm& n, const float* x, float* out, float* stats,
                   std::int64_t rows) const;

    nn::GPTConfig cfg_;
    // B slots, K cache entries per slot (cap_), C channels, NH query heads, NKV key/value heads,
    // G = NH / NKV query heads per key/value head, HS head size, KVD = NKV x HS, QKV = C + 2 KVD,
    // H MLP hidden features, V vocabulary, L layers.
    std::int64_t B_, cap_, C_, NH_, NKV_, G_, HS_, KVD_, QKV_, H_, V_, L_, max_rows_, sinks_,
        window_;
    bool sliding_, rope_, alibi_;
    std::vector<LayerWeights> layers_;
    const float *wte_, *wpe_;
    Norm final_norm_;
    Linear head_; ///< the classifier: wte when tied, else lm_head
    /// The half-precision copies, when half_weights (shared with sessions built from this one).
    std::shared_ptr<const std::vector<Half>> half_;
    float scale_;
    std::vector<float> slopes_; ///< ALiBi slope per head, zeros otherwise

    // Cache: k_ (L, B, NKV, key region) with each head's keys transposed in blocks (see
    // ops::cache_key_index), v_ (L, B, NKV, context, HS).
    std::vector<float> k_, v_;
    std::int64_t key_region_;
    std::vector<std::int64_t> length_;
    // Results per slot: logits (B, V), hidden (B, C), attention (B, L, NH, context) with the
    // weights of one (slot, layer) packed as NH rows of cached(slot), key positions (B, context).
    std::vector<float> logits_, hidden_, attn_;
    std::vector<std::int64_t> keys_, key_count_;

    // One pass: row r feeds token row_token_[r] at position row_pos_[r] of slot row_slot_[r];
    // row_last_[r] marks the last row of its slot in the pass (its results are kept).
    std::vector<std::int64_t> row_slot_, row_pos_, last_rows_;
    std::vector<std::int32_t> row_token_;
    std::vector<char> row_last_;
    // Activations (max_rows rows): x residual stream (C), qkv (QKV), q_sink (C) queries rotated
    // at their cache position, y attention output (C), f MLP hidden (H), angles: RoPE (cos, sin)
    // pairs (2 positions x HS/2 x 2), probs ((rows, NH, context) weights), hid: final-norm outputs
    // (C), head_out: logits of the last rows (B, V). Per thread: norm, normalised rows (rows, C),
    // stats (2 rows), and swiglu's gate and up halves of one feature block (rows, 2 x block).
    std::vector<float> x_, qkv_, q_sink_, y_, f_, angles_, probs_, hid_, head_out_, norm_, stats_,
        gate_up_;
};

} // namespace ouro::gen
