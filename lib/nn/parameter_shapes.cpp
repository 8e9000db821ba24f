// Parameter names and shapes from a GPTConfig, mirroring the module constructors of gpt.hpp,
// block.hpp, causal_self_attention.hpp, mlp.hpp, linear.hpp and norm.hpp (GPT-2 and Llama blocks).
#include "ouro/nn/parameter_shapes.hpp"

#include "ouro/core/checked.hpp"

namespace ouro::nn {

std::int64_t parameter_tensor_count(const GPTConfig& c) {
    c.validate();
    const bool norm_bias = c.bias && c.norm == NormKind::layernorm;
    const std::int64_t per_block = (c.bias ? 8 : 4) + (norm_bias ? 4 : 2);
    const std::int64_t outside = (c.position == PositionEncoding::learned ? 2 : 1) + // embeddings
                                 (norm_bias ? 2 : 1) +                               // ln_f
                                 (c.tied_head ? 0 : 1);                              // lm_head
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
    auto norm = [&](const std::string& name) {
        out.emplace_back(name + ".weight", Shape{C});
        if (c.bias && c.norm == NormKind::layernorm)
            out.emplace_back(name + ".bias", Shape{C});
    };
    out.emplace_back("transformer.wte.weight", Shape{c.vocab_size, C});
    if (c.position == PositionEncoding::learned)
        out.emplace_back("transformer.wpe.weight", Shape{c.block_size, C});
    // The sizes that follow from C, the key/value width and the MLP's hidden size, checked.
    const std::optional<std::int64_t> qkv = checked_add(C, 2 * c.kv_dim());
    const std::int64_t H = c.hidden_size();
    const std::optional<std::int64_t> fc =
        c.mlp == MlpKind::swiglu ? checked_mul(H, std::int64_t(2)) : H;
    if (!qkv || !fc || H > (std::int64_t(1) << 48))
        throw ConfigError("GPTConfig: n_embd = " + std::to_string(C) +
                          " and mlp_hidden = " + std::to_string(H) + " overflow the layer sizes");
    for (std::int64_t i = 0; i < c.n_layer; ++i) {
        const std::string block = "transformer.h." + std::to_string(i) + ".";
        norm(block + "ln_1");
        linear(block + "attn.c_attn", C, *qkv);
        linear(block + "attn.c_proj", C, C);
        norm(block + "ln_2");
        linear(block + "mlp.c_fc", C, *fc);
        linear(block + "mlp.c_proj", H, C);
    }
    norm("transformer.ln_f");
    if (!c.tied_head)
        out.emplace_back("lm_head.weight", Shape{c.vocab_size, C});
    return out;
}

} // namespace ouro::nn
