// llm.c token shards: map and check the file, then read every token.
#include "fuzz_util.hpp"

#include <ouro/data/token_shard.hpp>

using namespace ouro;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto path = fuzz::write_scratch(
        "shard.bin", std::string_view(reinterpret_cast<const char*>(data), size));
    fuzz::refused_or_ok([&] {
        const data::TokenShard shard(path);
        std::uint64_t sum = 0;
        for (const std::uint16_t t : shard.tokens())
            sum += t;
        if (1024 + 2 * shard.tokens().size() != size)
            fuzz::broken("a shard's token count disagrees with its size");
        (void)sum;
    });
    return 0;
}
