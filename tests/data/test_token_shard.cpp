#include "data/data_test_util.hpp"

#include <ouro/core/error.hpp>
#include <ouro/data/token_shard.hpp>

#include <doctest/doctest.h>

#include <cstring>

using namespace ouro;
using namespace ouro::data;
using ouro::testing::read_bytes;
using ouro::testing::TempDir;
using ouro::testing::write_bytes;

namespace {

// A header as llm.c writes it, followed by `body` bytes.
std::string shard_bytes(std::int32_t magic, std::int32_t version, std::int32_t count,
                        const std::string& body) {
    std::string header(shard_header_bytes, '\0');
    std::memcpy(header.data(), &magic, 4);
    std::memcpy(header.data() + 4, &version, 4);
    std::memcpy(header.data() + 8, &count, 4);
    return header + body;
}

} // namespace

TEST_SUITE("data") {
    TEST_CASE("token shards") {
        TempDir dir;
        const auto path = dir / "train.bin";
        SUBCASE("written in llm.c's layout and read back") {
            const std::vector<std::int32_t> tokens = {0, 1, 50256, 65535, 7, 300};
            write_shard(path, tokens);
            const std::string bytes = read_bytes(path);
            REQUIRE(bytes.size() == 1024 + 2 * tokens.size());
            CHECK(bytes == shard_bytes(20240520, 1, 6,
                                       std::string("\0\0\1\0\x50\xc4\xff\xff\7\0\x2c\1", 12)));
            const TokenShard shard(path);
            CHECK(shard.size() == 6);
            CHECK(std::vector<std::int32_t>(shard.tokens().begin(), shard.tokens().end()) ==
                  tokens);
            CHECK(read_shard(path) == tokens);
            // No temporary file is left beside it.
            CHECK(std::distance(std::filesystem::directory_iterator(dir.path()),
                                std::filesystem::directory_iterator()) == 1);
        }
        SUBCASE("streamed in pieces, and empty") {
            ShardWriter writer(path);
            std::vector<std::int32_t> all;
            for (int i = 0; i < 100; ++i) {
                std::vector<std::int32_t> piece(std::size_t(i * 37 % 1000), i);
                writer.append(piece);
                all.insert(all.end(), piece.begin(), piece.end());
            }
            CHECK(writer.size() == std::int64_t(all.size()));
            writer.commit();
            CHECK(read_shard(path) == all);
            write_shard(dir / "empty.bin", {});
            CHECK(TokenShard(dir / "empty.bin").size() == 0);
        }
        SUBCASE("a writer that is not committed leaves the old file and no temporary") {
            write_shard(path, std::vector<std::int32_t>{1, 2, 3});
            {
                ShardWriter writer(path);
                writer.append(std::vector<std::int32_t>{9, 9});
            }
            CHECK(read_shard(path) == std::vector<std::int32_t>{1, 2, 3});
            CHECK(std::distance(std::filesystem::directory_iterator(dir.path()),
                                std::filesystem::directory_iterator()) == 1);
        }
        SUBCASE("tokens that do not fit 16 bits are refused") {
            ShardWriter writer(path);
            const std::vector<std::int32_t> bad = {5, 65536};
            CHECK_THROWS_WITH_AS(
                writer.append(bad),
                ("ShardWriter: " + path.string() + ": token 65536 does not fit in 16 bits").c_str(),
                ConfigError);
            CHECK(writer.size() == 0);
            const std::vector<std::int32_t> negative = {-1};
            CHECK_THROWS_AS(writer.append(negative), ConfigError);
        }
        SUBCASE("bad files are refused with the path and the problem") {
            const std::string p = path.string();
            write_bytes(path, shard_bytes(20240521, 1, 2, "abcd"));
            CHECK_THROWS_WITH_AS(
                TokenShard{path},
                ("TokenShard: " + p + ": bad magic 20240521 (expected 20240520): not a token shard")
                    .c_str(),
                FormatError);
            write_bytes(path, shard_bytes(20240520, 2, 2, "abcd"));
            CHECK_THROWS_WITH_AS(
                TokenShard{path},
                ("TokenShard: " + p + ": unsupported version 2 (expected 1)").c_str(), FormatError);
            write_bytes(path, shard_bytes(20240520, 1, 1000, "abcd"));
            CHECK_THROWS_WITH_AS(TokenShard{path},
                                 ("TokenShard: " + p +
                                  ": the header says 1000 tokens (2000 bytes) but 4 bytes follow "
                                  "it")
                                     .c_str(),
                                 FormatError);
            write_bytes(path, shard_bytes(20240520, 1, -3, "abcd"));
            CHECK_THROWS_AS(TokenShard{path}, FormatError);
            write_bytes(path, "tiny");
            CHECK_THROWS_WITH_AS(
                TokenShard{path},
                ("TokenShard: " + p + ": file of 4 bytes is shorter than the 1024-byte header")
                    .c_str(),
                FormatError);
            const auto missing = dir / "missing.bin";
            CHECK_THROWS_WITH_AS(
                TokenShard{missing},
                ("TokenShard: cannot open " + missing.string() + ": No such file or directory")
                    .c_str(),
                IoError);
        }
        SUBCASE("a shard moved to another owner stays readable") {
            write_shard(path, std::vector<std::int32_t>{4, 5});
            TokenShard a(path);
            TokenShard b(std::move(a));
            CHECK(a.size() == 0);
            CHECK(b.tokens()[1] == 5);
            a = std::move(b);
            CHECK(a.tokens()[0] == 4);
        }
    }
}
