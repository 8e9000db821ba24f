#include "ouro/core/tensor_memory.hpp"

#include <map>
#include <mutex>
#include <new>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#define OURO_CACHE_TENSORS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define OURO_CACHE_TENSORS 0
#endif
#endif
#ifndef OURO_CACHE_TENSORS
#define OURO_CACHE_TENSORS 1
#endif

namespace ouro {
namespace {

using detail::tensor_alignment;

// Every block starts with a header of one alignment unit that records its size, so that a free
// knows which size class it returns to.
constexpr std::size_t header = tensor_alignment;
// Blocks below this size come and go through the C++ allocator, whose bins serve them well.
constexpr std::size_t smallest_cached = std::size_t(64) << 10;
// Cached sizes are rounded up to pages, so that near sizes share a class.
constexpr std::size_t page = 4096;

struct Cache {
    std::mutex mutex;
    std::map<std::size_t, std::vector<void*>> free_blocks; // block size -> blocks (with header)
    std::size_t cached = 0;
    std::size_t limit = std::size_t(4) << 30;
};

Cache& cache() {
    static Cache* c = new Cache(); // never destroyed: tensors may be freed by static destructors
    return *c;
}

void* system_allocate(std::size_t size) {
    return ::operator new (size, std::align_val_t{tensor_alignment});
}
void system_free(void* block) noexcept {
    ::operator delete (block, std::align_val_t{tensor_alignment});
}

// Frees cached blocks until the cache holds at most `target` bytes. Caller holds the mutex.
void shrink_to(Cache& c, std::size_t target) noexcept {
    auto it = c.free_blocks.end();
    while (c.cached > target && it != c.free_blocks.begin()) {
        --it; // largest sizes first: fewest frees
        while (!it->second.empty() && c.cached > target) {
            system_free(it->second.back());
            it->second.pop_back();
            c.cached -= it->first;
        }
    }
}

} // namespace

bool caches_tensor_memory() {
    return OURO_CACHE_TENSORS != 0;
}

std::size_t cached_tensor_bytes() {
    Cache& c = cache();
    std::lock_guard lock(c.mutex);
    return c.cached;
}

std::size_t cache_limit() {
    Cache& c = cache();
    std::lock_guard lock(c.mutex);
    return c.limit;
}

void set_cache_limit(std::size_t bytes) {
    Cache& c = cache();
    std::lock_guard lock(c.mutex);
    c.limit = bytes;
    shrink_to(c, bytes);
}

void release_cached_tensor_memory() {
    Cache& c = cache();
    std::lock_guard lock(c.mutex);
    shrink_to(c, 0);
}

namespace detail {

void* allocate_tensor_memory(std::size_t bytes) {
    std::size_t size = bytes + header;
    if (OURO_CACHE_TENSORS && size >= smallest_cached) {
        size = (size + page - 1) / page * page;
        Cache& c = cache();
        std::lock_guard lock(c.mutex);
        if (auto it = c.free_blocks.find(size); it != c.free_blocks.end() && !it->second.empty()) {
            void* block = it->second.back();
            it->second.pop_back();
            c.cached -= size;
            return static_cast<char*>(block) + header;
        }
    }
    void* block = system_allocate(size);
    *static_cast<std::size_t*>(block) = size;
    return static_cast<char*>(block) + header;
}

void free_tensor_memory(void* p) noexcept {
    if (p == nullptr)
        return;
    void* block = static_cast<char*>(p) - header;
    const std::size_t size = *static_cast<const std::size_t*>(block);
    if (OURO_CACHE_TENSORS && size >= smallest_cached) {
        Cache& c = cache();
        std::lock_guard lock(c.mutex);
        if (c.cached + size <= c.limit) {
            try {
                c.free_blocks[size].push_back(block);
                c.cached += size;
                return;
            } catch (...) { // no memory for the cache's own bookkeeping: free the block instead
            }
        }
    }
    system_free(block);
}

} // namespace detail
} // namespace ouro
