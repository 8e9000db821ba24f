// N-grams as 64-bit keys, and a flat hash map from such keys to 32-bit values, shared by the
// degeneration metrics.
//
// An n-gram becomes one integer so that counting n-grams is one hash-map operation per n-gram:
// - packed: when every token fits in b bits and n * b <= 64, the key is the n tokens side by
//   side (token i of the n-gram in bits b * (n - 1 - i) and up). The common case: n <= 4 with
//   GPT-2's 50,257 ids or any vocabulary of at most 2^16.
// - chained: otherwise each position gets a dense id per order k, the id of the pair (id of the
//   (k - 1)-gram at that position, dense id of the k-th token), numbered in order of first
//   appearance. Exact for any n and any int32 tokens, at n hash-map operations per n-gram.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace ouro::lab::detail {

// splitmix64's finaliser: packed keys of small tokens differ only in low bits, which a mask of
// the raw key would keep colliding.
inline std::uint64_t mix64(std::uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

/// Open-addressing (linear probing) hash map from 64-bit keys to uint32 values, kept at most half
/// full, key and value side by side in one slot. The all-ones key marks an empty slot, so that key
/// itself is kept aside in `extra_`. No erase: the metrics only count and look up.
class KeyMap {
public:
    explicit KeyMap(std::size_t expected = 8) { rehash(capacity_for(expected)); }

    /// The value under key; when key is new it is inserted with `value` first. `inserted` says
    /// which. The reference is valid until the next insert.
    std::uint32_t& insert(std::uint64_t key, std::uint32_t value, bool& inserted) {
        if (key == empty) {
            inserted = !has_extra_;
            if (!has_extra_) {
                has_extra_ = true;
                extra_ = value;
            }
            return extra_;
        }
        if (2 * (used_ + 1) > slots_.size())
            rehash(2 * slots_.size());
        std::size_t i = std::size_t(mix64(key)) & mask_;
        while (slots_[i].key != empty) {
            if (slots_[i].key == key) {
                inserted = false;
                return slots_[i].value;
            }
            i = (i + 1) & mask_;
        }
        slots_[i] = {key, value};
        ++used_;
        inserted = true;
        return slots_[i].value;
    }

    /// Adds one to the count under key (a new key starts at 0) and returns the new count.
    std::uint32_t increment(std::uint64_t key) {
        bool inserted = false;
        return ++insert(key, 0, inserted);
    }

    /// The value under key, or nullptr.
    const std::uint32_t* find(std::uint64_t key) const {
        if (key == empty)
            return has_extra_ ? &extra_ : nullptr;
        std::size_t i = std::size_t(mix64(key)) & mask_;
        while (slots_[i].key != empty) {
            if (slots_[i].key == key)
                return &slots_[i].value;
            i = (i + 1) & mask_;
        }
        return nullptr;
    }
    std::uint32_t* find(std::uint64_t key) {
        return const_cast<std::uint32_t*>(std::as_const(*this).find(key));
    }

    std::size_t size() const { return used_ + (has_extra_ ? 1 : 0); }

    /// Removes every key and keeps the capacity.
    void clear() {
        std::fill(slots_.begin(), slots_.end(), Slot{});
        used_ = 0;
        has_extra_ = false;
    }

    /// f(key, value) for every entry, in slot order (which depends on the keys, not on time).
    template <typename F> void for_each(F&& f) const {
        for (const Slot& s : slots_)
            if (s.key != empty)
                f(s.key, s.value);
        if (has_extra_)
            f(empty, extra_);
    }

private:
    static constexpr std::uint64_t empty = ~std::uint64_t(0);
    struct Slot {
        std::uint64_t key = empty;
        std::uint32_t value = 0;
    };

    static std::size_t capacity_for(std::size_t expected) {
        return std::bit_ceil(std::max<std::size_t>(16, 2 * expected));
    }

    void rehash(std::size_t capacity) {
        std::vector<Slot> old(capacity);
        old.swap(slots_);
        mask_ = capacity - 1;
        for (const Slot& s : old) {
            if (s.key == empty)
                continue;
            std::size_t i = std::size_t(mix64(s.key)) & mask_;
            while (slots_[i].key != empty)
                i = (i + 1) & mask_;
            slots_[i] = s;
        }
    }

    std::vector<Slot> slots_;
    std::size_t used_ = 0; // keys in slots_
    std::size_t mask_ = 0;
    bool has_extra_ = false;
    std::uint32_t extra_ = 0;
};

/// The key of a single token: its 32 bits.
inline std::uint64_t token_key(std::int32_t token) {
    return std::uint64_t(std::uint32_t(token));
}

/// Bits needed to pack every token of `tokens`: at least 1, and 32 when a token is negative.
inline int token_bits(std::span<const std::int32_t> tokens) {
    std::uint32_t all = 1;
    for (const std::int32_t t : tokens)
        all |= std::uint32_t(t);
    return std::bit_width(all);
}

/// Turns the n-grams of one or more sequences into keys that are equal exactly when the n-grams
/// are. Keys from one NgramKeyer are comparable across all sequences it keyed; `bits` must be at
/// least token_bits of each of them.
class NgramKeyer {
public:
    NgramKeyer(int n, int bits) : n_(n), bits_(bits), packed_(n * bits <= 64) {
        if (!packed_)
            levels_.resize(std::size_t(n));
    }

    /// The keys of the n-grams of `tokens` in order of their first token: max(0, L - n + 1).
    void keys(std::span<const std::int32_t> tokens, std::vector<std::uint64_t>& out) {
        out.clear();
        const std::int64_t L = std::int64_t(tokens.size());
        if (L < n_)
            return;
        out.reserve(std::size_t(L - n_ + 1));
        if (packed_) {
            // Shift each token in at the bottom; the mask drops the token that left the window.
            const int width = n_ * bits_;
            const std::uint64_t mask =
                width == 64 ? ~std::uint64_t(0) : (std::uint64_t(1) << width) - 1;
            std::uint64_t key = 0;
            for (std::int64_t i = 0; i < L; ++i) {
                key = ((key << bits_) | std::uint32_t(tokens[i])) & mask;
                if (i >= n_ - 1)
                    out.push_back(key);
            }
            return;
        }
        // Level 0 numbers the tokens; level k numbers (level k - 1 id at i, token id at i + k).
        ids_.resize(std::size_t(L));
        tok_ids_.resize(std::size_t(L));
        bool inserted = false;
        for (std::int64_t i = 0; i < L; ++i) {
            KeyMap& m = levels_[0];
            tok_ids_[i] = m.insert(token_key(tokens[i]), std::uint32_t(m.size()), inserted);
        }
        std::copy(tok_ids_.begin(), tok_ids_.end(), ids_.begin());
        for (int k = 1; k < n_; ++k) {
            KeyMap& m = levels_[std::size_t(k)];
            for (std::int64_t i = 0; i + k < L; ++i) {
                const std::uint64_t pair = (std::uint64_t(ids_[i]) << 32) | tok_ids_[i + k];
                ids_[i] = m.insert(pair, std::uint32_t(m.size()), inserted);
            }
        }
        for (std::int64_t i = 0; i + n_ <= L; ++i)
            out.push_back(ids_[i]);
    }

private:
    int n_;
    int bits_;
    bool packed_;
    std::vector<KeyMap> levels_;
    std::vector<std::uint32_t> ids_;
    std::vector<std::uint32_t> tok_ids_;
};

} // namespace ouro::lab::detail
