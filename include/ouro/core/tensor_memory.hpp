// Tensor storage: 64-byte aligned blocks, with a cache of freed large blocks.
//
// A training step frees and allocates the same large buffers every step (activations, their
// gradients, the logits). Handed back to malloc, blocks above its thresholds return to the
// kernel and come back as fresh pages, each faulted in and zeroed by the kernel: at config XS that
// was 60,000 page faults and a quarter of the step's time in the kernel. So freed blocks of at
// least 64 KiB are kept, by size, and reused by the next request of the same size; small blocks
// go straight to the C++ allocator. The cache holds at most cache_limit() bytes (a freed block
// that would exceed it is returned to the system) and can be emptied at any time. Builds with
// AddressSanitizer do not cache, so a use after free is still reported.
#pragma once

#include <cstddef>

namespace ouro {

/// Whether this build caches freed blocks at all (not under AddressSanitizer).
bool caches_tensor_memory();
/// Bytes held by the cache (freed blocks kept for reuse), and the most it may hold.
std::size_t cached_tensor_bytes();
std::size_t cache_limit();
/// Sets the cache's limit (default 4 GiB); 0 turns caching off. Blocks above the new limit are
/// returned to the system.
void set_cache_limit(std::size_t bytes);
/// Returns every cached block to the system.
void release_cached_tensor_memory();

namespace detail {

inline constexpr std::size_t tensor_alignment = 64;

/// A block of `bytes` (a multiple of tensor_alignment), aligned to tensor_alignment; throws
/// std::bad_alloc when the system has no memory left.
void* allocate_tensor_memory(std::size_t bytes);
/// Frees a block from allocate_tensor_memory (nullptr is ignored).
void free_tensor_memory(void* p) noexcept;

struct AlignedDelete {
    void operator()(void* p) const noexcept { free_tensor_memory(p); }
};

} // namespace detail
} // namespace ouro
