// safetensors parsing from memory, then every tensor read in every way its dtype allows.
// Properties: each range lies in the data section and matches shape x dtype size.
#include "fuzz_util.hpp"

#include <ouro/io/safetensors.hpp>

using namespace ouro;
using namespace ouro::io;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::refused_or_ok([&] {
        const Safetensors f =
            Safetensors::parse(std::string(reinterpret_cast<const char*>(data), size), "fuzz");
        for (const std::string& name : f.names()) {
            const SafetensorsEntry& e = f.entry(name);
            if (e.begin > e.end || e.end > size ||
                e.end - e.begin != std::size_t(e.shape.numel()) * dtype_size(e.dtype))
                fuzz::broken("a safetensors entry's range does not fit its shape or the file");
            fuzz::refused_or_ok([&] { (void)f.get_float(name); });
            fuzz::refused_or_ok([&] { (void)f.get_double(name, &e.shape); });
            fuzz::refused_or_ok([&] { (void)f.get_int(name); });
        }
        for (const auto& [key, value] : f.metadata())
            (void)f.metadata(key);
    });
    return 0;
}
