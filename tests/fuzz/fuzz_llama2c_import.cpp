// llama2.c model files (legacy, version 1, version 2 int8) from a file: is_llama2c_model and
// import_llama2c agree on every file; an imported model is a Llama of the header's shapes, runs
// one forward pass of one token, and survives a version 1 export and import bit for bit.
#include "fuzz_util.hpp"

#include <ouro/io/llama2c.hpp>

#include <cstring>

using namespace ouro;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto path = fuzz::write_scratch(
        "model.bin", std::string_view(reinterpret_cast<const char*>(data), size));
    const bool recognised = io::is_llama2c_model(path);
    bool imported = false;
    fuzz::refused_or_ok([&] {
        const io::Llama2cModel m = io::import_llama2c(path);
        imported = true;
        const nn::GPTConfig& c = m.model->config;
        if (c.n_layer < 1 || c.vocab_size < 1 || c.norm != nn::NormKind::rmsnorm ||
            c.mlp != nn::MlpKind::swiglu || c.bias)
            fuzz::broken("import_llama2c returned a model that is not a Llama");
        const TensorI idx({1, 1}, {0});
        (void)m.model->forward(idx);

        const auto again = fuzz::scratch_dir() / "again.bin";
        io::export_llama2c(*m.model, again, io::Llama2cFormat::version1);
        const io::Llama2cModel back = io::import_llama2c(again);
        for (const auto& [name, p] : m.model->named_parameters()) {
            const TensorF& a = p.value();
            const TensorF& b = back.model->parameter(name).value();
            if (a.shape() != b.shape() ||
                std::memcmp(a.data(), b.data(), sizeof(float) * std::size_t(a.numel())) != 0)
                fuzz::broken("a version 1 export and import changed a weight");
        }
    });
    if (recognised != imported)
        fuzz::broken("is_llama2c_model and import_llama2c disagree");
    return 0;
}
