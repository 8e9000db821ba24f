// BatchLoader: sequential (llm.c) and random windows over memory-mapped token shards.
#include "ouro/data/batch_loader.hpp"

#include "ouro/core/error.hpp"

#include <algorithm>
#include <string>

namespace ouro::data {

BatchLoader::BatchLoader(const std::vector<std::filesystem::path>& shards, std::int64_t B,
                         std::int64_t T, Sampling sampling, std::uint64_t seed)
    : B_(B), T_(T), sampling_(sampling), seed_(seed) {
    if (shards.empty())
        throw ConfigError("BatchLoader: no shards given");
    if (B < 1 || T < 1)
        throw ConfigError("BatchLoader: B and T must be positive, got B = " + std::to_string(B) +
                          ", T = " + std::to_string(T));
    for (const auto& path : shards)
        shards_.emplace_back(path);
    if (sampling == Sampling::sequential) {
        for (const TokenShard& s : shards_)
            if (s.size() < B * T + 1)
                throw ConfigError("BatchLoader: " + s.path().string() + " holds " +
                                  std::to_string(s.size()) + " tokens, fewer than the B*T+1 = " +
                                  std::to_string(B * T + 1) + " of one batch");
    } else {
        // A window of T + 1 tokens may start at 0 .. size - T - 1.
        std::int64_t total = 0;
        for (const TokenShard& s : shards_) {
            total += std::max<std::int64_t>(0, s.size() - T);
            window_ends_.push_back(total);
        }
        if (total == 0)
            throw ConfigError("BatchLoader: no shard holds the T+1 = " + std::to_string(T + 1) +
                              " tokens of one sequence");
    }
    reset();
}

void BatchLoader::reset() {
    position_ = LoaderPosition{};
    position_.rng_state = Rng(seed_).state();
}

std::int64_t BatchLoader::num_tokens() const {
    std::int64_t n = 0;
    for (const TokenShard& s : shards_)
        n += s.size();
    return n;
}

std::int64_t BatchLoader::batches_per_epoch() const {
    std::int64_t n = 0;
    for (const TokenShard& s : shards_)
        n += (s.size() - 1) / (B_ * T_);
    return n;
}

void BatchLoader::set_position(const LoaderPosition& position) {
    const std::string where = "BatchLoader::set_position: ";
    if (position.shard >= shards_.size())
        throw ConfigError(where + "shard " + std::to_string(position.shard) + " out of range (" +
                          std::to_string(shards_.size()) + " shards)");
    const std::int64_t size = shards_[position.shard].size();
    if (sampling_ == Sampling::sequential &&
        position.offset + std::uint64_t(B_ * T_ + 1) > std::uint64_t(size))
        throw ConfigError(where + "offset " + std::to_string(position.offset) + " in " +
                          shards_[position.shard].path().string() + " (" + std::to_string(size) +
                          " tokens) leaves no room for a batch of B*T+1 = " +
                          std::to_string(B_ * T_ + 1) + " tokens");
    position_ = position;
}

// Sequential: one run of B*T + 1 tokens; row b is tokens [b*T, b*T + T] of it.
// Random: row b is a window of T + 1 tokens at a start drawn uniformly over all windows.
void BatchLoader::next(TensorI& inputs, TensorI& targets) {
    const Shape shape{B_, T_};
    if (inputs.shape() != shape)
        inputs = TensorI(shape);
    if (targets.shape() != shape)
        targets = TensorI(shape);
    std::int32_t* in = inputs.data();
    std::int32_t* tg = targets.data();
    if (sampling_ == Sampling::sequential) {
        const auto tokens = shards_[position_.shard].tokens().subspan(position_.offset);
        const std::int64_t n = B_ * T_;
        for (std::int64_t i = 0; i < n; ++i) {
            in[i] = tokens[std::size_t(i)];
            tg[i] = tokens[std::size_t(i + 1)];
        }
        // Advance; move on when the next batch would run past the end of the shard.
        position_.offset += std::uint64_t(n);
        if (position_.offset + std::uint64_t(n + 1) >
            std::uint64_t(shards_[position_.shard].size())) {
            position_.offset = 0;
            if (++position_.shard == shards_.size()) {
                position_.shard = 0;
                ++position_.epoch;
            }
        }
    } else {
        Rng rng(0);
        rng.set_state(position_.rng_state);
        for (std::int64_t b = 0; b < B_; ++b) {
            const auto w = std::int64_t(rng.below(std::uint64_t(window_ends_.back())));
            const auto s =
                std::size_t(std::upper_bound(window_ends_.begin(), window_ends_.end(), w) -
                            window_ends_.begin());
            const std::int64_t start = w - (s == 0 ? 0 : window_ends_[s - 1]);
            const auto tokens = shards_[s].tokens().subspan(std::size_t(start));
            for (std::int64_t t = 0; t < T_; ++t) {
                in[b * T_ + t] = tokens[std::size_t(t)];
                tg[b * T_ + t] = tokens[std::size_t(t + 1)];
            }
        }
        position_.rng_state = rng.state();
    }
    ++position_.batches;
}

BatchLoader::Batch BatchLoader::next() {
    Batch batch;
    next(batch.inputs, batch.targets);
    return batch;
}

} // namespace ouro::data
