// A file's tensors against a config's parameters, checked before any model is built.
#include "tensor_checks.hpp"

#include "ouro/nn/parameter_shapes.hpp"

namespace ouro::io::detail {

std::vector<std::pair<std::string, Shape>> expected_parameters(const Safetensors& f,
                                                               const nn::GPTConfig& config) {
    const std::string& path = f.source();
    try {
        const std::int64_t needed = nn::parameter_tensor_count(config);
        const auto held = std::int64_t(f.tensor_count());
        if (needed > held)
            throw FormatError(path + ": the config needs " + std::to_string(needed) +
                              " weight tensors (n_layer = " + std::to_string(config.n_layer) +
                              "), but the file holds " + std::to_string(held));
        // parameter_tensor_count <= tensors in the file: listing them is cheap now.
        return nn::parameter_shapes(config);
    } catch (const FormatError&) {
        throw;
    } catch (const Error& e) {
        throw FormatError(path + ": the config cannot be built: " + e.what());
    }
}

void check_float_tensors(const Safetensors& f,
                         std::span<const std::pair<std::string, Shape>> expected) {
    const std::string& path = f.source();
    for (const auto& [name, shape] : expected) {
        if (!f.contains(name))
            throw FormatError(path + ": no tensor '" + name + "', which the config needs as " +
                              shape.to_string());
        const SafetensorsEntry& e = f.entry(name);
        if (!(e.shape == shape))
            throw FormatError(path + ": tensor '" + name + "' is " + e.shape.to_string() +
                              ", but the config needs " + shape.to_string());
        if (e.dtype != DType::F32 && e.dtype != DType::F64 && e.dtype != DType::F16 &&
            e.dtype != DType::BF16)
            throw FormatError(path + ": tensor '" + name + "' is " + dtype_name(e.dtype) +
                              ", but weights must be F32, F64, F16 or BF16");
    }
}

} // namespace ouro::io::detail
