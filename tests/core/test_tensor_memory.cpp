#include <ouro/core/tensor.hpp>
#include <ouro/core/tensor_memory.hpp>

#include <doctest/doctest.h>

#include <cstdint>

using namespace ouro;

TEST_SUITE("core") {
    TEST_CASE("tensor memory") {
        release_cached_tensor_memory();
        const std::size_t limit = cache_limit();
        const std::int64_t large = 1 << 16; // 256 KiB of floats: cached
        const std::int64_t small = 100;     // 400 bytes: never cached

        SUBCASE("blocks are 64-byte aligned and new tensors are zero") {
            for (std::int64_t n : {std::int64_t(1), small, large}) {
                TensorF t({n}, 3.0f);
                CHECK(reinterpret_cast<std::uintptr_t>(t.data()) % 64 == 0);
            }
            TensorF reused({large}); // may be the block the 3.0s were in
            bool all_zero = true;
            for (float v : reused.values())
                all_zero = all_zero && v == 0.0f;
            CHECK(all_zero);
        }
        SUBCASE("a freed large block serves the next request of its size") {
            const float* first = nullptr;
            {
                TensorF t({large});
                first = t.data();
            }
            if (caches_tensor_memory()) {
                CHECK(cached_tensor_bytes() >= std::size_t(large) * sizeof(float));
                TensorF again({large});
                CHECK(again.data() == first);
                CHECK(cached_tensor_bytes() == 0);
            } else {
                CHECK(cached_tensor_bytes() == 0);
            }
        }
        SUBCASE("small blocks are not cached") {
            { TensorF t({small}); }
            CHECK(cached_tensor_bytes() == 0);
        }
        SUBCASE("the limit bounds the cache, and release empties it") {
            { TensorF a({large}), b({large}), c({large}); }
            if (caches_tensor_memory())
                CHECK(cached_tensor_bytes() > 2 * std::size_t(large) * sizeof(float));
            set_cache_limit(std::size_t(large) * sizeof(float) + 8192);
            CHECK(cached_tensor_bytes() <= cache_limit());
            release_cached_tensor_memory();
            CHECK(cached_tensor_bytes() == 0);
            set_cache_limit(0);
            { TensorF t({large}); }
            CHECK(cached_tensor_bytes() == 0);
        }
        set_cache_limit(limit);
        release_cached_tensor_memory();
    }
}
