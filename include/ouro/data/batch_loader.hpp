// BatchLoader: (B, T) batches of token windows from memory-mapped token shards, for training.
//
// inputs[b, t] is a token and targets[b, t] the one after it: each row is a window of T + 1
// consecutive tokens of one shard, inputs its first T and targets its last T.
//
// - sequential (llm.c's loader): batch after batch walks each shard in order, B * T tokens per
//   batch (the rows of a batch are consecutive), then moves to the next shard, and wraps around
//   to the first after the last (a new epoch). The tail of a shard too short for a whole batch is
//   skipped. Use it for validation: reset(), then the same batches every time.
// - random: each row is a window drawn uniformly from all windows of all shards, by the loader's
//   own Rng (seeded at construction; no global RNG).
//
// The position (where sequential reading is, the Rng state) is a small struct that a training
// checkpoint stores; restoring it continues with exactly the batches that would have come next.
#pragma once

#include "ouro/core/rng.hpp"
#include "ouro/core/tensor.hpp"
#include "ouro/data/token_shard.hpp"

#include <cstdint>
#include <filesystem>
#include <vector>

namespace ouro::data {

enum class Sampling { sequential, random };

/// Where a BatchLoader is: everything needed to continue exactly.
struct LoaderPosition {
    std::uint64_t shard = 0;     ///< sequential: the shard the next batch comes from
    std::uint64_t offset = 0;    ///< sequential: the token offset of the next batch in it
    std::uint64_t rng_state = 0; ///< random: the state of the loader's Rng
    std::uint64_t batches = 0;   ///< batches served since the start
    std::uint64_t epoch = 0;     ///< sequential: completed passes over all shards
    bool operator==(const LoaderPosition&) const = default;
};

class BatchLoader {
public:
    /// Maps the shards (IoError / FormatError as TokenShard). Throws ConfigError when no shard is
    /// given, B or T is not positive, a shard is shorter than one sequential batch (B * T + 1
    /// tokens), or no shard holds one random window (T + 1 tokens).
    BatchLoader(const std::vector<std::filesystem::path>& shards, std::int64_t B, std::int64_t T,
                Sampling sampling, std::uint64_t seed = 0);

    /// The next batch into inputs and targets, each (B, T); they are reallocated only when their
    /// shape differs.
    void next(TensorI& inputs, TensorI& targets);

    struct Batch {
        TensorI inputs;  ///< (B, T)
        TensorI targets; ///< (B, T), inputs shifted by one token
    };
    Batch next();

    LoaderPosition position() const { return position_; }
    /// Continues from a saved position. Throws ConfigError when it does not fit these shards
    /// (shard out of range, or no whole batch at the offset).
    void set_position(const LoaderPosition& position);
    /// Back to the start: the first shard, offset 0, the Rng as seeded.
    void reset();

    std::int64_t batch_size() const { return B_; }
    std::int64_t seq_len() const { return T_; }
    Sampling sampling() const { return sampling_; }
    std::size_t num_shards() const { return shards_.size(); }
    /// Tokens in all shards.
    std::int64_t num_tokens() const;
    /// Sequential batches in one pass over all shards.
    std::int64_t batches_per_epoch() const;

private:
    std::vector<TokenShard> shards_;
    std::int64_t B_, T_;
    Sampling sampling_;
    std::uint64_t seed_;
    std::vector<std::int64_t> window_ends_; // random: cumulative window counts per shard
    LoaderPosition position_;
};

} // namespace ouro::data
