// Parameter names and shapes from a GPTConfig, mirroring the module constructors of gpt.hpp,
// block.hpp, causal_self_attention.hpp, mlp.hpp, linear.hpp and layer_norm.hpp.
#include "ouro/nn/parameter_shapes.hpp"

#include "ouro/core/checked.hpp"

namespace ouro::nn {

std::int64_t parameter_tensor_count(const GPTConfig& c) {
    c.validate();
    const std::int64_t per_block = c.bias ? 12 : 6;
    const std::int64_t outside = (c.position == PositionEncoding::learned ? 2 : 1) + // embeddings
                                 (c.bias ? 2 : 1);                                   // ln_f
    const std::optional<std::int64_t> blocks = mul_within(c.n_layer, per_block);
    const std::optional<std::int64_t> total = blocks ? checked_add(*blocks, outside) : std::nullopt;
    if (!total)
        throw ConfigError("GPTConfig: n_layer = " + std::to_string(c.n_layer) +
                          " implies more than 2^63 parameter tensors");
    return *total;
}

std::vector<std::pair<std::string, Shape>> parameter_shapes(const GPTConfig& c) {
    c.validate();
    const std::int64_t C = c.n_embd;
    std::vector<std::pair<std::string, Shape>> out;
    auto linear = [&](const std::string& name, std::int64_t in, std::int64_t out_features) {
        out.emplace_back(name + ".weight", Shape{out_features, in});
        if (c.bias)
            out.emplace_back(name + ".bias", Shape{out_features});
    };
    auto layer_norm = [&](const std::string& name) {
        out.emplace_back(name + ".weight", Shape{C});
        if (c.bias)
            out.emplace_back(name + ".bias", Shape{C});
    };
    out.emplace_back("transformer.wte.weight", Shape{c.vocab_size, C});
    if (c.position == PositionEncoding::learned)
        out.emplace_back("transformer.wpe.weight", Shape{c.block_size, C});
    // wte's shape has been checked: C <= 2^48, so 3 C and 4 C cannot overflow.
    const std::int64_t C3 = 3 * C, C4 = 4 * C;
    for (std::int64_t i = 0; i < c.n_layer; ++i) {
        const std::string block = "transformer.h." + std::to_string(i) + ".";
        layer_norm(block + "ln_1");
        linear(block + "attn.c_attn", C, C3);
        linear(block + "attn.c_proj", C, C);
        layer_norm(block + "ln_2");
        linear(block + "mlp.c_fc", C, C4);
        linear(block + "mlp.c_proj", C4, C);
    }
    layer_norm("transformer.ln_f");
    return out;
}

} // namespace ouro::nn
