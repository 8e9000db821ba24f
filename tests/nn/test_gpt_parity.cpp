// ouro's GPT against PyTorch: logits, loss, every parameter gradient and ten AdamW steps on the
// fixtures written by tests/reference/make_gpt_reference.py (which documents their contents) and,
// for Llama-style configurations (RMSNorm, SwiGLU, grouped-query attention, RoPE layouts, a
// separate classifier), by tests/reference/make_llama_reference.py.
// Errors are measured per tensor, relative to its largest magnitude: max|ours - torch| /
// max|torch|.
#include <ouro/autograd/backward.hpp>
#include <ouro/io/checkpoint.hpp>
#include <ouro/io/safetensors.hpp>
#include <ouro/nn/gpt.hpp>
#include <ouro/optim/adamw.hpp>
#include <ouro/optim/clip.hpp>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <string>
#include <utility>

using namespace ouro;

namespace {

template <typename T> double relative_error(const Tensor<T>& ours, const Tensor<T>& theirs) {
    REQUIRE(ours.shape() == theirs.shape());
    double diff = 0.0, scale = 0.0;
    for (std::int64_t i = 0; i < ours.numel(); ++i) {
        diff = std::max(diff, std::abs(double(ours[i]) - double(theirs[i])));
        scale = std::max(scale, std::abs(double(theirs[i])));
    }
    return scale == 0.0 ? diff : diff / scale;
}

struct Tolerances {
    double logits, grads, losses, final_weights;
};

template <typename T> void check_fixture(const std::string& file, const Tolerances& tol) {
    const std::string path = std::string(OURO_TEST_REFERENCE_DIR) + "/" + file;
    const io::Safetensors f = io::Safetensors::read(path);
    const nn::GPTConfig config = io::config_from_json(f.metadata("config"), path);
    Rng rng(0);
    nn::GPT<T> model(config, rng);
    for (auto& [name, p] : model.named_parameters()) {
        Var<T> q = p;
        q.value() = f.get<T>("param." + name, &p.shape());
    }
    const TensorI idx = f.get_int("input.idx");
    const TensorI targets = f.get_int("input.targets");

    const Var<T> logits = model.forward(idx);
    CHECK(relative_error(logits.value(), f.get<T>("expected.logits")) <= tol.logits);
    const Var<T> loss = ops::cross_entropy(logits, targets);
    CHECK(relative_error(loss.value(), f.get<T>("expected.loss")) <= tol.logits);
    backward(loss);
    // Named references, not structured bindings: INFO captures `name`, which clang 14 refuses.
    for (auto& named : model.named_parameters()) {
        const std::string& name = named.first;
        auto& p = named.second;
        INFO("gradient of " << name);
        CHECK(relative_error(p.grad(), f.get<T>("expected.grad." + name)) <= tol.grads);
    }

    const auto o = nlohmann::json::parse(f.metadata("optim"));
    model.zero_grad();
    optim::AdamW<T> opt(model.named_parameters(), {.beta1 = o["beta1"],
                                                   .beta2 = o["beta2"],
                                                   .eps = o["eps"],
                                                   .weight_decay = o["weight_decay"]});
    const TensorD expected_losses = f.get_double("expected.losses");
    for (std::int64_t step = 0; step < expected_losses.numel(); ++step) {
        opt.zero_grad();
        const Var<T> l = model.loss(idx, targets);
        INFO("AdamW step " << step);
        CHECK(std::abs(double(l.item()) - expected_losses[step]) <= tol.losses);
        backward(l);
        optim::clip_grad_norm(model.parameters(), double(o["clip"]));
        opt.step(double(o["lr"]));
    }
    for (auto& named : model.named_parameters()) {
        const std::string& name = named.first;
        auto& p = named.second;
        INFO("weights after 10 steps: " << name);
        Tensor<T> ours = p.value(), theirs = f.get<T>("expected.final." + name);
        if (name.ends_with("attn.c_attn.bias") && config.position != nn::PositionEncoding::rope) {
            // The key bias (channels C..C + KVD) adds the same q.b_k to every score of a softmax
            // row, so its true gradient is zero; the computed one is rounding noise, which Adam's
            // m / sqrt(v) turns into full-size steps of arbitrary sign. Not comparable. (With
            // RoPE the bias is rotated by the key's position, so its gradient is real.)
            const std::int64_t C = config.n_embd;
            for (std::int64_t i = C; i < C + config.kv_dim(); ++i)
                ours[i] = theirs[i] = T(0);
        }
        CHECK(relative_error(ours, theirs) <= tol.final_weights);
    }
}

// Each fixture in the precision its name ends with: float32 within the rounding it accumulates
// over a whole model, float64 within the reference's own rounding.
void check_fixtures(std::initializer_list<std::pair<const char*, const char*>> fixtures) {
    for (const auto& fixture : fixtures) {
        const std::string file = fixture.first;
        INFO(fixture.second << " (" << file << ")");
        if (file.ends_with("_float32.safetensors"))
            check_fixture<float>(file, {1e-4, 1e-3, 1e-4, 1e-3});
        else
            check_fixture<double>(file, {1e-10, 1e-10, 1e-10, 1e-8});
    }
}

} // namespace

TEST_SUITE("nn") {
    TEST_CASE("GPT matches PyTorch") {
        check_fixtures({{"gpt_learned_float32.safetensors", "learned positions"},
                        {"gpt_learned_float64.safetensors", "learned positions"},
                        {"gpt_rope_float64.safetensors", "RoPE"},
                        {"gpt_alibi_float64.safetensors", "ALiBi"}});
    }
    TEST_CASE("GPT in Llama configurations matches PyTorch") {
        check_fixtures(
            {{"llama_gqa_float32.safetensors", "GQA, interleaved RoPE, untied head"},
             {"llama_gqa_float64.safetensors", "GQA, interleaved RoPE, untied head"},
             {"llama_mqa_float64.safetensors", "MQA, rotate-half RoPE, biases, tied head"}});
    }
}
