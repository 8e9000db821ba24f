#include <ouro/io/dtype.hpp>

#include <doctest/doctest.h>

using namespace ouro::io;

TEST_SUITE("io") {
    TEST_CASE("dtype names and sizes") {
        SUBCASE("every dtype's name parses back to it") {
            for (const DType d : {DType::F64, DType::F32, DType::F16, DType::BF16, DType::I64,
                                  DType::I32, DType::U16, DType::U8}) {
                DType parsed = DType::U8;
                CHECK(parse_dtype(dtype_name(d), parsed));
                CHECK(parsed == d);
            }
        }
        SUBCASE("sizes") {
            CHECK(dtype_size(DType::F64) == 8);
            CHECK(dtype_size(DType::F32) == 4);
            CHECK(dtype_size(DType::BF16) == 2);
            CHECK(dtype_size(DType::U8) == 1);
        }
        SUBCASE("unknown names are refused") {
            DType d = DType::F32;
            CHECK_FALSE(parse_dtype("F8", d));
            CHECK_FALSE(parse_dtype("f32", d));
        }
        SUBCASE("the 16-bit codecs are the library's one codec") {
            CHECK(float_to_half(1.0f) == ouro::float_to_half(1.0f));
            CHECK(bfloat16_to_float(0x3f80) == 1.0f);
        }
    }
}
