// DType names and sizes (the 16-bit codecs are core/half.hpp).
#include "ouro/io/dtype.hpp"

namespace ouro::io {

const char* dtype_name(DType d) {
    switch (d) {
    case DType::F64:
        return "F64";
    case DType::F32:
        return "F32";
    case DType::F16:
        return "F16";
    case DType::BF16:
        return "BF16";
    case DType::I64:
        return "I64";
    case DType::I32:
        return "I32";
    case DType::U16:
        return "U16";
    case DType::U8:
        return "U8";
    }
    return "?";
}

bool parse_dtype(std::string_view name, DType& out) {
    for (DType d : {DType::F64, DType::F32, DType::F16, DType::BF16, DType::I64, DType::I32,
                    DType::U16, DType::U8})
        if (name == dtype_name(d)) {
            out = d;
            return true;
        }
    return false;
}

std::size_t dtype_size(DType d) {
    switch (d) {
    case DType::F64:
    case DType::I64:
        return 8;
    case DType::F32:
    case DType::I32:
        return 4;
    case DType::F16:
    case DType::BF16:
    case DType::U16:
        return 2;
    case DType::U8:
        return 1;
    }
    return 1;
}

} // namespace ouro::io
