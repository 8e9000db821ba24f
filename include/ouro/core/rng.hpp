// Rng: a small, explicitly seeded, counter-based random number generator (SplitMix64, Steele et al.
// 2014, "Fast splittable pseudorandom number generators"). There is no global RNG in ouro: every
// function that draws random numbers takes an Rng by reference, so a seed fully determines a run.
//
// The whole state is one 64-bit counter, so it is trivial to save in a checkpoint and restore.
// `stream_value(key, i)` gives the i-th value of an independent stream without touching any state,
// which lets parallel kernels (dropout) draw per-element numbers that do not depend on how the
// elements are split among threads.
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>

namespace ouro {

class Rng {
public:
    explicit Rng(std::uint64_t seed) : state_(seed) {}

    /// The next 64 random bits.
    std::uint64_t next_u64() { return mix(state_ += golden); }

    /// Uniform in [0, 1) with 53 random bits.
    double uniform() { return double(next_u64() >> 11) * 0x1.0p-53; }

    /// Uniform integer in [0, n) (n > 0), without modulo bias worth caring about for n < 2^32.
    std::uint64_t below(std::uint64_t n) {
        __extension__ using u128 = unsigned __int128;
        return std::uint64_t(u128(next_u64()) * n >> 64);
    }

    /// Standard normal, by the Box-Muller transform (two uniforms per value; no cached spare, so
    /// the state stays a single counter).
    double normal() {
        const double u1 = 1.0 - uniform(); // (0, 1]: log is finite
        const double u2 = uniform();
        return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
    }

    /// The complete state, for checkpoints.
    std::uint64_t state() const { return state_; }
    void set_state(std::uint64_t state) { state_ = state; }

    /// The i-th value of the stream named by `key`; pure, so parallel loops can call it.
    static std::uint64_t stream_value(std::uint64_t key, std::uint64_t i) {
        return mix(key + (i + 1) * golden);
    }
    /// stream_value mapped to a uniform float in [0, 1) with 24 random bits.
    static float stream_uniform(std::uint64_t key, std::uint64_t i) {
        return float(stream_value(key, i) >> 40) * 0x1.0p-24f;
    }

private:
    static constexpr std::uint64_t golden = 0x9e3779b97f4a7c15ULL;
    static std::uint64_t mix(std::uint64_t z) {
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }

    std::uint64_t state_;
};

} // namespace ouro
