// CandidateSet: the working distribution that the stages of a sampler chain edit, as llama.cpp's
// token-data array: a list of candidate tokens, each with its id and its current logit, which the
// stages shrink (truncations), reorder (a sort that later truncations reuse) and modify
// (penalties, temperature). Probabilities are p_i = w_i / S with w_i = exp(z_i - z_ref) and
// S = sum w_i over the candidates, computed on demand and kept until a logit changes.
//
// Ties. Every truncation that keeps a prefix of an order (top-k, top-p, typical) keeps all the
// candidates tied with the last one it keeps, and greedy argmax takes the lowest id among equal
// logits, so which tokens survive depends on the distribution only, never on token ids.
//
// Banned tokens. A logit of -inf means the token can never be chosen (p = 0). Truncations drop
// such candidates; the selections never pick them; when every candidate is banned the selections
// throw ConfigError.
//
// Numerics. w_i uses the library's float exp (within 1 ulp; see lib/numerics/exp.hpp) and every sum
// is taken in double in an order fixed by the candidate list alone, so a chain's result depends
// only on its inputs and the Rng, never on threads (nothing here is parallel).
//
// Memory. The buffers grow to V on the first assign() and are reused afterwards: a chain run
// token after token does not allocate.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

namespace ouro::gen {

class CandidateSet {
public:
    /// Loads V raw logits (V = logits.size()): every token becomes a candidate, in id order.
    /// Throws ShapeError when V is 0 or above 2^31 - 1 ("sampler: logits are empty"), and
    /// ConfigError for a NaN or +inf logit ("sampler: logit 7 is nan"); -inf means banned.
    void assign(std::span<const float> logits);

    /// Number of candidates n, and V of the last assign().
    std::int64_t size() const { return n_; }
    std::int64_t vocab_size() const { return vocab_; }
    /// Token id of candidate i.
    std::int32_t id(std::int64_t i) const { return dense_ ? std::int32_t(i) : id_[i]; }
    /// Token id and current logit of each candidate (n entries). In a dense list the ids are
    /// written out (0, 1, ..., V - 1) on the first call only: id(i) does not need them.
    std::span<const std::int32_t> ids() const;
    std::span<const float> logits() const { return {z_.data(), std::size_t(n_)}; }
    /// The logits, for a stage to write; it must call logits_changed() afterwards.
    std::span<float> mutable_logits() { return {z_.data(), std::size_t(n_)}; }
    /// Drops the cached probabilities. `order_kept` says the new logits are still non-increasing
    /// where the old ones were (temperature), so a sorted list stays sorted.
    void logits_changed(bool order_kept = false);

    /// True while candidate i is token i for every token (nothing removed or reordered yet).
    bool dense() const { return dense_; }
    /// True when the logits are known to be non-increasing along the list.
    bool sorted() const { return sorted_; }
    /// Position of token `id` in the list, or -1 when it is not a candidate (or id is outside
    /// [0, V)). O(1) after an O(n) index rebuild the first time after the list changes.
    std::int64_t find(std::int32_t id);

    /// Computes w and S if a logit or the list changed since the last call. Throws ConfigError
    /// ("sampler: no token left to choose: every logit is -inf") when no candidate is finite,
    /// and "sampler: a logit is inf or nan (logits must stay finite or -inf)" when a logit
    /// written through mutable_logits() is +inf or NaN (no stage of the library writes one).
    void ensure_weights();
    /// w_i (n entries) and S; valid after ensure_weights().
    std::span<const float> weights() const { return {w_.data(), std::size_t(n_)}; }
    double weight_sum() const { return sum_; }
    /// The logit the weights are relative to: w_i = exp(z_i - weight_reference()). It is the
    /// largest logit when the weights were computed (a later truncation may have removed it).
    float weight_reference() const { return z_ref_; }
    /// p_i = w_i / S (calls ensure_weights).
    double probability(std::int64_t i);
    /// H = -sum p log p in nats (calls ensure_weights).
    double entropy();
    /// The largest logit among the candidates (-inf when all are banned or n = 0).
    float max_logit() const;
    /// Position of the candidate with the largest logit, the lowest id among ties. Throws
    /// ConfigError as ensure_weights when every candidate is banned or a logit is +inf or NaN.
    std::int64_t argmax() const;

    /// Keeps candidate i when keep(i) is true, in order (a stable compaction; a sorted list stays
    /// sorted). keep sees the positions before the compaction.
    template <typename Keep> void keep_if(Keep keep);
    /// Keeps the candidates with logit >= min(threshold, max logit): at least the argmax and its
    /// ties. Drops banned tokens.
    void keep_logit_at_least(double threshold);
    /// Keeps the candidates with w >= min(threshold, max w), threshold in weight units (a
    /// probability times S): at least the argmax and its ties. Drops banned tokens.
    void keep_weight_at_least(double threshold);
    /// Walks the candidates by decreasing logit and keeps the shortest prefix whose count reaches
    /// `count` (0: no count limit) or whose probability mass reaches `mass` (1: no mass limit),
    /// whichever comes first, plus every candidate tied with the last one kept. Drops banned
    /// tokens. top-k is keep_top(k, 1), top-p is keep_top(0, p).
    void keep_top(std::int64_t count, double mass);
    /// The same walk by increasing distance |z - centre| (typical sampling), with a mass limit
    /// only: keeps the shortest prefix whose mass reaches `mass`, plus the ties of the last one.
    void keep_nearest(double centre, double mass);

    /// Position of the candidate where the running sum of w first exceeds u * S, walking the list
    /// in order (u in [0, 1)); never a candidate with w = 0, never -1. Calls ensure_weights (and
    /// throws as it does).
    std::int64_t draw(double u);

    /// Number of candidates above which keep_top and keep_nearest find their cut with a
    /// histogram instead of sorting the whole list.
    static constexpr std::int64_t small_list = 256;
    /// top-k counts up to this (and below a quarter of the list) are found with a heap of k
    /// logits, after which the list is short.
    static constexpr std::int64_t heap_limit = 256;

private:
    struct Keyed {
        double key;
        float z, w;
        std::int32_t id;
    };
    void compact();
    void sort_by_logit();
    void keep_mass_superset(double target);
    template <typename Key, typename Bin>
    double cut(Key key, Bin bin_of, std::int64_t count, double target);
    float kth_largest_logit(std::int64_t k);
    void rebuild_positions();

    std::int64_t n_ = 0, vocab_ = 0;
    // id_ holds the ids once the list is not dense (or once ids() wrote them out).
    mutable std::vector<std::int32_t> id_;
    std::vector<std::int32_t> pos_, mask_;
    std::vector<float> z_, w_, heap_;
    std::vector<double> block_sum_;
    std::vector<Keyed> keyed_;
    float z_ref_ = 0.0f;
    double sum_ = 0.0;
    mutable float max_ = 0.0f; // the largest logit, while max_valid_
    bool dense_ = false, sorted_ = false, positions_valid_ = false;
    bool weights_valid_ = false, sum_valid_ = false;
    mutable bool max_valid_ = false, ids_written_ = false;

    // S is the sum of per-block sums (blocks of `block` candidates, each summed in the fixed
    // order of numerics::sum_double), which lets draw() skip whole blocks.
    static constexpr std::int64_t block = 256;
    // The histogram of cut(), whose bins the caller's bin function assigns.
    static constexpr int bins = 1024;
    std::array<std::int32_t, bins> bin_count_{};
    std::array<double, bins> bin_mass_{}, bin_mass_odd_{};
};

template <typename Keep> void CandidateSet::keep_if(Keep keep) {
    // The predicate first, into a mask of 0 / -1 (a loop the compiler vectorises for the simple
    // predicates of the stages), then the compaction by the mask.
    std::int32_t* m = mask_.data();
    for (std::int64_t i = 0; i < n_; ++i)
        m[i] = keep(i) ? -1 : 0;
    compact();
}

} // namespace ouro::gen
