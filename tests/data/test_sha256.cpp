#include "data/data_test_util.hpp"

#include <ouro/core/error.hpp>
#include <ouro/data/sha256.hpp>

#include <doctest/doctest.h>

using namespace ouro;
using namespace ouro::data;

TEST_SUITE("data") {
    TEST_CASE("Sha256") {
        SUBCASE("FIPS 180-2 example vectors") {
            CHECK(sha256_hex("abc") ==
                  "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
            CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
                  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
            CHECK(sha256_hex(std::string(1'000'000, 'a')) ==
                  "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
            CHECK(sha256_hex("") ==
                  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        }
        SUBCASE("pieces of any size give the digest of the whole") {
            Rng rng(4);
            const std::string data = ouro::testing::random_bytes(rng, 1000);
            const std::string whole = sha256_hex(data);
            for (std::size_t piece : {1, 3, 55, 56, 63, 64, 65, 128, 999}) {
                Sha256 h;
                for (std::size_t i = 0; i < data.size(); i += piece)
                    h.update(std::string_view(data).substr(i, piece));
                CHECK(to_hex(h.finish()) == whole);
            }
            // Lengths around the padding boundary: 55 bytes leave room for the length in the
            // last block, 56 do not; 64, 119 and 120 (digests from coreutils' sha256sum).
            CHECK(sha256_hex(std::string(55, 'a')) ==
                  "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
            CHECK(sha256_hex(std::string(56, 'a')) ==
                  "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
            CHECK(sha256_hex(std::string(64, 'a')) ==
                  "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
            CHECK(sha256_hex(std::string(119, 'a')) ==
                  "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb");
            CHECK(sha256_hex(std::string(120, 'a')) ==
                  "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c");
        }
        SUBCASE("files") {
            ouro::testing::TempDir dir;
            ouro::testing::write_bytes(dir / "f", "abc");
            CHECK(sha256_file(dir / "f") ==
                  "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
            const auto missing = dir / "missing";
            CHECK_THROWS_WITH_AS(
                sha256_file(missing),
                ("sha256: cannot open " + missing.string() + ": No such file or directory").c_str(),
                IoError);
            const auto train = ouro::testing::shared_data_or_skip("tinystories/train.txt");
            if (train.empty())
                return;
            // The digest the shared data's README lists.
            CHECK(sha256_file(train) ==
                  "e86b8ea2ca1631aa19524bd838b04b5b402ca921b7e5866563892ea8dafe894d");
        }
    }
}
