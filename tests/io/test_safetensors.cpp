#include <ouro/core/error.hpp>
#include <ouro/io/safetensors.hpp>

#include "test_util.hpp"

#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>

using namespace ouro;
using namespace ouro::io;
using ouro::testing::safetensors_bytes;

TEST_SUITE("io") {
    TEST_CASE("safetensors") {
        SUBCASE("round trip of every stored dtype, metadata and order") {
            SafetensorsWriter w;
            w.add("b.weight", TensorF({2, 3}, {1, 2, 3, 4, 5, 6}));
            w.add("a.half", TensorF({3}, {0.5f, -1.0f, 65504.0f}), DType::F16);
            w.add("c.bf16", TensorF({2}, {1.0f, -3.0f}), DType::BF16);
            w.add("d.double", TensorD({2}, {0.1, 1e300}));
            w.add("e.ids", TensorI({2, 2}, {1, -2, 3, 2147483647}));
            w.set_metadata("step", "42");
            const std::string bytes = w.serialize();
            std::uint64_t header_len;
            std::memcpy(&header_len, bytes.data(), 8);
            CHECK((8 + header_len) % 8 == 0);

            const Safetensors f = Safetensors::parse(bytes, "mem");
            CHECK(f.names() ==
                  std::vector<std::string>{"b.weight", "a.half", "c.bf16", "d.double", "e.ids"});
            CHECK(f.metadata("step") == "42");
            const TensorF b = f.get_float("b.weight");
            CHECK(b.shape() == Shape{2, 3});
            CHECK(b[5] == 6.0f);
            CHECK(f.get_float("a.half")[2] == 65504.0f);
            CHECK(f.entry("a.half").dtype == DType::F16);
            CHECK(f.get_float("c.bf16")[1] == -3.0f);
            CHECK(f.get_double("d.double")[0] == 0.1);
            CHECK(f.get_double("d.double")[1] == 1e300);
            CHECK(f.get_int("e.ids")[3] == 2147483647);
        }
        SUBCASE("a header written by the Python library parses") {
            // Layout as safetensors' Python writer makes it: metadata first, offsets per tensor.
            const std::string json =
                R"({"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
            std::string bytes = safetensors_bytes(json, 8);
            const float v[2] = {1.5f, -2.5f};
            std::memcpy(bytes.data() + 8 + json.size(), v, 8);
            const Safetensors f = Safetensors::parse(bytes, "py");
            CHECK(f.metadata("format") == "pt");
            CHECK(f.get_float("w")[1] == -2.5f);
        }
        SUBCASE("atomic write to disk and read back") {
            const auto dir = std::filesystem::temp_directory_path() / "ouro_test_safetensors";
            std::filesystem::create_directories(dir);
            const std::string path = (dir / "t.safetensors").string();
            SafetensorsWriter w;
            w.add("x", TensorF({1}, {3.0f}));
            w.write(path);
            CHECK(Safetensors::read(path).get_float("x")[0] == 3.0f);
            // No temporary file is left beside it.
            int files = 0;
            for (auto& e : std::filesystem::directory_iterator(dir))
                files += e.is_regular_file();
            CHECK(files == 1);
            std::filesystem::remove_all(dir);
        }
        SUBCASE("refuses corrupt and truncated files, naming the file and the problem") {
            CHECK_THROWS_WITH_AS(Safetensors::parse("abc", "f.st"),
                                 "f.st: file is 3 bytes, too short for a safetensors header",
                                 FormatError);
            std::string lying(8, '\0');
            lying[0] = 100; // header length 100, but only 2 bytes follow
            CHECK_THROWS_WITH_AS(Safetensors::parse(lying + "{}", "f.st"),
                                 "f.st: header length 100 runs past the end of the file (10 bytes)",
                                 FormatError);
            CHECK_THROWS_WITH_AS(Safetensors::parse(safetensors_bytes("[1]", 0), "f.st"),
                                 "f.st: header is not a JSON object", FormatError);
            CHECK_THROWS_WITH_AS(
                Safetensors::parse(
                    safetensors_bytes(R"({"w":{"dtype":"Q4","shape":[1],"data_offsets":[0,4]}})",
                                      4),
                    "f.st"),
                "f.st: tensor 'w' has unknown dtype \"Q4\"", FormatError);
            CHECK_THROWS_WITH_AS(
                Safetensors::parse(
                    safetensors_bytes(
                        R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}})", 12),
                    "f.st"),
                "f.st: tensor 'w' data_offsets [0,12] hold 12 bytes, shape (2, 2) of F32 needs 16",
                FormatError);
            // A file cut short: the tensor's data runs past the end.
            CHECK_THROWS_WITH_AS(
                Safetensors::parse(
                    safetensors_bytes(R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})",
                                      10),
                    "f.st"),
                "f.st: tensor 'w' data_offsets [0,16] run past the end of the data (10 bytes)",
                FormatError);
            const Safetensors ok = Safetensors::parse(
                safetensors_bytes(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 4),
                "f.st");
            CHECK_THROWS_WITH_AS(ok.get_float("v"), "f.st: no tensor named 'v'", FormatError);
            const Shape want{2};
            CHECK_THROWS_WITH_AS(ok.get_float("w", &want), "f.st: tensor 'w' is (1), expected (2)",
                                 FormatError);
            CHECK_THROWS_WITH_AS(ok.metadata("step"), "f.st: metadata has no 'step'", FormatError);
            CHECK_THROWS_AS(Safetensors::read("/nonexistent/x.safetensors"), IoError);
        }
        SUBCASE("refuses byte ranges that are reversed, wrap, overlap or leave gaps") {
            auto one = [](const std::string& offsets, std::size_t data) {
                return safetensors_bytes(
                    R"({"w":{"dtype":"F32","shape":[2],"data_offsets":)" + offsets + "}}", data);
            };
            // end < begin: the copy used to start 8 bytes past the buffer's end minus 8.
            CHECK_THROWS_WITH_AS(Safetensors::parse(one("[16,8]", 16), "f.st"),
                                 "f.st: tensor 'w' data_offsets [16,8] end before they begin",
                                 FormatError);
            // begin + size wraps around 2^64 to the expected 8 bytes.
            CHECK_THROWS_WITH_AS(
                Safetensors::parse(one("[18446744073709551608,0]", 8), "f.st"),
                "f.st: tensor 'w' data_offsets [18446744073709551608,0] end before they begin",
                FormatError);
            CHECK_THROWS_WITH_AS(
                Safetensors::parse(one("[18446744073709551608,18446744073709551615]", 8), "f.st"),
                "f.st: tensor 'w' data_offsets [18446744073709551608,18446744073709551615] run "
                "past the end of the data (8 bytes)",
                FormatError);
            CHECK_THROWS_WITH_AS(Safetensors::parse(one("[-8,0]", 8), "f.st"),
                                 "f.st: tensor 'w' has invalid data_offsets [-8,0]", FormatError);
            CHECK_THROWS_WITH_AS(Safetensors::parse(one("[0,8.0]", 8), "f.st"),
                                 "f.st: tensor 'w' has invalid data_offsets [0,8.0]", FormatError);
            // The ranges must tile the data: no gap, no overlap, nothing after the last.
            CHECK_THROWS_WITH_AS(Safetensors::parse(one("[8,16]", 16), "f.st"),
                                 "f.st: tensor 'w' data_offsets [8,16] leave bytes 0..8 of the "
                                 "data unused",
                                 FormatError);
            CHECK_THROWS_WITH_AS(Safetensors::parse(one("[0,8]", 12), "f.st"),
                                 "f.st: the tensors hold 8 bytes of data, but 12 follow the header",
                                 FormatError);
            CHECK_THROWS_WITH_AS(
                Safetensors::parse(
                    safetensors_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                      R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                                      8),
                    "f.st"),
                "f.st: tensor 'b' data_offsets [4,8] overlap those of tensor 'a', which end at "
                "byte 8",
                FormatError);
        }
        SUBCASE("refuses shapes whose element count overflows, before allocating") {
            // As the audit's 93-byte file that crashed read + get_float: (2^62 + 4) x 4 elements
            // of F32 wrapped to 16 elements, which matched the 64 bytes given.
            const std::string crash = safetensors_bytes(
                R"({"w":{"dtype":"F32","shape":[4611686018427387908,4],"data_offsets":[0,64]}})",
                64);
            CHECK_THROWS_WITH_AS(Safetensors::parse(crash, "f.st"),
                                 "f.st: tensor 'w' has shape [4611686018427387908,4] with more "
                                 "than 2^48 elements",
                                 FormatError);
            ouro::testing::TempDir dir;
            ouro::testing::write_bytes(dir / "crash.safetensors", crash);
            ouro::testing::check_throws_message<FormatError>(
                [&] { Safetensors::read((dir / "crash.safetensors").string()).get_float("w"); },
                (dir / "crash.safetensors").string() +
                    ": tensor 'w' has shape [4611686018427387908,4] with more than 2^48 elements");
            // A dimension above int64 would read back negative.
            CHECK_THROWS_WITH_AS(
                Safetensors::parse(
                    safetensors_bytes(
                        R"({"w":{"dtype":"U8","shape":[9223372036854775808],"data_offsets":[0,0]}})",
                        0),
                    "f.st"),
                "f.st: tensor 'w' has an invalid shape [9223372036854775808]", FormatError);
            // A dtype that disagrees with the byte count.
            CHECK_THROWS_WITH_AS(
                Safetensors::parse(
                    safetensors_bytes(R"({"w":{"dtype":"F64","shape":[2],"data_offsets":[0,8]}})",
                                      8),
                    "f.st"),
                "f.st: tensor 'w' data_offsets [0,8] hold 8 bytes, shape (2) of F64 needs 16",
                FormatError);
        }
        SUBCASE("JSON errors of every kind become FormatError naming the file") {
            // nlohmann's out_of_range for a number no double holds.
            CHECK_THROWS_WITH_AS(
                Safetensors::parse(
                    safetensors_bytes(
                        R"({"w":{"dtype":"F32","shape":[1e400],"data_offsets":[0,4]}})", 4),
                    "f.st"),
                "f.st: header is not valid JSON: number overflow parsing '1e400'", FormatError);
            CHECK_THROWS_AS(Safetensors::parse(safetensors_bytes("{\"w\": [", 0), "f.st"),
                            FormatError);
            CHECK_THROWS_WITH_AS(
                Safetensors::parse(
                    safetensors_bytes(R"({"w":{"dtype":7,"shape":[1],"data_offsets":[0,4]}})", 4),
                    "f.st"),
                "f.st: tensor 'w' has unknown dtype 7", FormatError);
            CHECK_THROWS_WITH_AS(
                Safetensors::parse(safetensors_bytes(R"({"__metadata__":{"a":1}})", 0), "f.st"),
                "f.st: metadata 'a' is not a string", FormatError);
            // A name that is not UTF-8 would make a file no reader accepts: refused on writing.
            SafetensorsWriter w;
            w.add("w\xff", TensorF({1}));
            CHECK_THROWS_WITH_AS(w.serialize(),
                                 "SafetensorsWriter: a tensor name or metadata value is not valid "
                                 "UTF-8 (invalid UTF-8 byte at index 1: 0xFF)",
                                 ConfigError);
        }
        SUBCASE("a header length larger than the file is refused before reading the header") {
            std::string huge(8, '\xff'); // 2^64 - 1
            CHECK_THROWS_WITH_AS(Safetensors::parse(huge + "{}", "f.st"),
                                 "f.st: header length 18446744073709551615 runs past the end of "
                                 "the file (10 bytes)",
                                 FormatError);
        }
    }
}
