// A count of every allocation the test program makes through operator new (all threads), so tests
// can check promises like "decoding a token allocates nothing". alloc_counter.cpp replaces the
// global operator new and delete for the whole test program.
#pragma once

#include <cstdint>

namespace ouro::testing {

/// Allocations through operator new since the program started.
std::int64_t allocations_so_far();

/// Allocations made while fn() runs.
template <typename F> std::int64_t allocations_in(F&& fn) {
    const std::int64_t before = allocations_so_far();
    fn();
    return allocations_so_far() - before;
}

} // namespace ouro::testing
