// nn/weights.hpp: GPT::view's typed view borrows the model's own tensors (no copies, later updates
// seen), names the right tensor for each part, and leaves out what a config does not have.
#include <ouro/nn/gpt.hpp>
#include <ouro/nn/weights.hpp>

#include <doctest/doctest.h>

using namespace ouro;
using namespace ouro::nn;

namespace {

GPTConfig tiny() {
    return GPTConfig::gpt2(11, 8, 2, 2, 8);
}

template <typename T> const Tensor<T>* at(const GPT<T>& m, const std::string& name) {
    return &m.parameter(name).value();
}

} // namespace

TEST_SUITE("nn") {
    TEST_CASE("ModelView") {
        SUBCASE("GPT-2: every part points at the parameter of that name") {
            Rng rng(1);
            GPTConfig c = tiny();
            c.norm_eps = 1e-6;
            const GPT<float> m(c, rng);
            const ModelView<float> v = m.view();
            CHECK(v.config.n_layer == 2);
            CHECK(v.config.norm_eps == 1e-6);
            CHECK(v.token_embedding == at(m, "transformer.wte.weight"));
            CHECK(v.position_embedding == at(m, "transformer.wpe.weight"));
            REQUIRE(v.blocks.size() == 2);
            const std::string h1 = "transformer.h.1.";
            const BlockView<float>& b = v.blocks[1];
            CHECK(b.norm_1.kind == NormKind::layernorm);
            CHECK(b.norm_1.weight == at(m, h1 + "ln_1.weight"));
            CHECK(b.norm_1.bias == at(m, h1 + "ln_1.bias"));
            CHECK(b.norm_1.eps == 1e-6);
            CHECK(b.qkv.weight == at(m, h1 + "attn.c_attn.weight"));
            CHECK(b.qkv.bias == at(m, h1 + "attn.c_attn.bias"));
            CHECK(b.attn_out.weight == at(m, h1 + "attn.c_proj.weight"));
            CHECK(b.norm_2.weight == at(m, h1 + "ln_2.weight"));
            CHECK(b.mlp_in.weight == at(m, h1 + "mlp.c_fc.weight"));
            CHECK(b.mlp_in.weight->shape() == Shape{32, 8}); // (OUT, IN)
            CHECK(b.mlp_out.bias == at(m, h1 + "mlp.c_proj.bias"));
            CHECK(v.final_norm.weight == at(m, "transformer.ln_f.weight"));
            // The tied classifier is wte itself, without a bias.
            CHECK(v.head.weight == at(m, "transformer.wte.weight"));
            CHECK(v.head.bias == nullptr);
        }
        SUBCASE("Llama: no position table, no biases, RMSNorm, a separate head") {
            Rng rng(2);
            const GPT<float> m(GPTConfig::llama(11, 8, 1, 2, 1, 8, 4), rng);
            const ModelView<float> v = m.view();
            CHECK(v.position_embedding == nullptr);
            CHECK(v.head.weight == at(m, "lm_head.weight"));
            CHECK(v.head.weight != v.token_embedding);
            const BlockView<float>& b = v.blocks[0];
            CHECK(b.norm_1.kind == NormKind::rmsnorm);
            CHECK(b.norm_1.bias == nullptr);
            CHECK(b.qkv.bias == nullptr);
            CHECK(b.qkv.weight->shape() == Shape{16, 8});    // q 8 rows, then k 4 and v 4
            CHECK(b.mlp_in.weight->shape() == Shape{48, 8}); // gate 24 rows, then up 24
            CHECK(b.mlp_out.weight->shape() == Shape{8, 24});
            CHECK(v.final_norm.kind == NormKind::rmsnorm);
        }
        SUBCASE("the view borrows: it sees later updates of the weights") {
            Rng rng(3);
            GPT<double> m(tiny(), rng);
            const ModelView<double> v = m.view();
            Var<double> w = m.parameter("transformer.h.0.ln_2.bias");
            w.value()[3] = 0.75;
            CHECK((*v.blocks[0].norm_2.bias)[3] == 0.75);
            CHECK(v.blocks[0].norm_2.bias->data() == w.value().data());
        }
    }
}
