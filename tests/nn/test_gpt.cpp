#include <ouro/autograd/backward.hpp>
#include <ouro/nn/gpt.hpp>

#include <doctest/doctest.h>

using namespace ouro;
using namespace ouro::nn;

namespace {

GPTConfig tiny(PositionEncoding position = PositionEncoding::learned) {
    GPTConfig c = GPTConfig::gpt2(11, 8, 2, 2, 8);
    c.position = position;
    return c;
}

} // namespace

TEST_SUITE("nn") {
    TEST_CASE("GPT") {
        SUBCASE("parameter names equal the GPT-2 checkpoint keys, in nanoGPT's order") {
            Rng rng(1);
            GPT<float> model(tiny(), rng);
            std::vector<std::string> names;
            for (auto& [name, p] : model.named_parameters())
                names.push_back(name);
            const std::vector<std::string> block = {
                "ln_1.weight",        "ln_1.bias",        "attn.c_attn.weight", "attn.c_attn.bias",
                "attn.c_proj.weight", "attn.c_proj.bias", "ln_2.weight",        "ln_2.bias",
                "mlp.c_fc.weight",    "mlp.c_fc.bias",    "mlp.c_proj.weight",  "mlp.c_proj.bias"};
            std::vector<std::string> expected = {"transformer.wte.weight",
                                                 "transformer.wpe.weight"};
            for (int l = 0; l < 2; ++l)
                for (const auto& s : block)
                    expected.push_back("transformer.h." + std::to_string(l) + "." + s);
            expected.push_back("transformer.ln_f.weight");
            expected.push_back("transformer.ln_f.bias");
            CHECK(names == expected);
            CHECK(model.parameter("transformer.h.1.attn.c_attn.weight").shape() == Shape{24, 8});
        }
        SUBCASE("parameter counts of the reference configs (PERF.md)") {
            Rng rng(1);
            CHECK(GPT<float>(GPTConfig::xs(), rng).num_parameters() == 875264);
            CHECK(GPT<float>(GPTConfig::s(), rng).num_parameters() == 5853184);
        }
        SUBCASE("GPT-2 initialisation statistics") {
            Rng rng(3);
            GPTConfig c = GPTConfig::xs();
            GPT<float> model(c, rng);
            auto stddev = [](const TensorF& t) {
                double s = 0, s2 = 0;
                for (float v : t.values()) {
                    s += v;
                    s2 += double(v) * v;
                }
                const double n = double(t.numel());
                return std::sqrt(s2 / n - (s / n) * (s / n));
            };
            CHECK(stddev(model.parameter("transformer.wte.weight").value()) ==
                  doctest::Approx(0.02).epsilon(0.02));
            CHECK(stddev(model.parameter("transformer.h.0.mlp.c_proj.weight").value()) ==
                  doctest::Approx(0.02 / std::sqrt(8.0)).epsilon(0.02));
            CHECK(model.parameter("transformer.h.0.ln_1.weight").value()[0] == 1.0f);
            CHECK(model.parameter("transformer.h.0.attn.c_attn.bias").value()[0] == 0.0f);
        }
        SUBCASE("no position embedding with RoPE and ALiBi; no biases without bias") {
            Rng rng(1);
            CHECK_THROWS_AS(
                GPT<float>(tiny(PositionEncoding::rope), rng).parameter("transformer.wpe.weight"),
                ConfigError);
            GPTConfig c = tiny(PositionEncoding::alibi);
            c.bias = false;
            GPT<float> model(c, rng);
            for (auto& [name, p] : model.named_parameters())
                CHECK(name.find("bias") == std::string::npos);
        }
        SUBCASE("forward gives (B, T, V) logits and a loss near log V at start") {
            Rng rng(2);
            GPT<float> model(tiny(), rng);
            TensorI idx({2, 8});
            for (auto& v : idx.values())
                v = std::int32_t(rng.below(11));
            const VarF logits = model.forward(idx);
            CHECK(logits.shape() == Shape{2, 8, 11});
            const VarF loss = model.loss(idx, idx);
            CHECK(loss.item() == doctest::Approx(std::log(11.0)).epsilon(0.05));
            backward(loss);
            CHECK(model.parameter("transformer.wte.weight").has_grad());
        }
        SUBCASE("rejects bad inputs and configs") {
            Rng rng(1);
            GPT<float> model(tiny(), rng);
            CHECK_THROWS_WITH_AS(model.forward(TensorI({8})), "GPT: idx must be (B, T), got (8)",
                                 ShapeError);
            CHECK_THROWS_WITH_AS(model.forward(TensorI({1, 9})),
                                 "GPT: positions 0..8 do not fit the learned position embedding "
                                 "of block_size 8",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(model.loss(TensorI({1, 4}), TensorI({1, 3})),
                                 "GPT: targets must match idx: idx is (1, 4), targets are (1, 3)",
                                 ShapeError);
            GPTConfig bad = tiny();
            bad.n_embd = 9;
            CHECK_THROWS_WITH_AS(GPT<float>(bad, rng),
                                 "GPTConfig: n_embd = 9 is not a multiple of n_head = 2",
                                 ConfigError);
            // RoPE and ALiBi have no table to run out of: longer inputs are allowed.
            GPT<float> rope(tiny(PositionEncoding::rope), rng);
            CHECK(rope.forward(TensorI({1, 12})).shape() == Shape{1, 12, 11});
        }
        SUBCASE("dropout needs an Rng when training, and is off in eval mode") {
            Rng rng(1);
            GPTConfig c = tiny();
            c.dropout = 0.5;
            GPT<float> model(c, rng);
            TensorI idx({1, 4});
            CHECK_THROWS_WITH_AS(model.forward(idx),
                                 "GPT: training with dropout needs an Rng in the context",
                                 ConfigError);
            Rng drop(9);
            const VarF a = model.forward(idx, {.rng = &drop});
            model.eval();
            const VarF b = model.forward(idx);
            const VarF b2 = model.forward(idx);
            CHECK(b.value()[0] == b2.value()[0]);
            CHECK(a.value()[0] != b.value()[0]);
        }
        SUBCASE("the activation log names every stage after its module") {
            Rng rng(1);
            GPT<float> model(tiny(), rng);
            std::vector<std::pair<std::string, VarF>> acts;
            model.loss(TensorI({1, 4}), TensorI({1, 4}), {.activations = &acts});
            std::vector<std::string> names;
            for (auto& [n, v] : acts)
                names.push_back(n);
            CHECK(names.front() == "transformer.wte");
            CHECK(std::find(names.begin(), names.end(), "transformer.h.1.attn.c_attn") !=
                  names.end());
            CHECK(std::find(names.begin(), names.end(), "transformer.h.0.mlp.gelu") != names.end());
            CHECK(names.back() == "loss");
        }
    }
}
