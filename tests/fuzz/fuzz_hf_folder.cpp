// A Hugging Face folder: config.json and model.safetensors (import_hf, both architectures).
// Input: a little-endian uint32 n, n bytes of config.json, the rest as model.safetensors
// (make_seeds writes this layout from export_hf). A folder that imports computes a forward
// pass, and exports and imports back to the same parameters, bit for bit.
#include "fuzz_util.hpp"

#include <ouro/io/hugging_face.hpp>

#include <algorithm>
#include <cstdio>
#include <cstring>

using namespace ouro;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const char* bytes = reinterpret_cast<const char*>(data);
    const std::size_t start = std::min<std::size_t>(4, size);
    const std::size_t n = std::min<std::size_t>(fuzz::read_u32(data, size, 0), size - start);
    const auto folder = fuzz::scratch_dir() / "hf";
    std::filesystem::create_directories(folder);
    fuzz::write_scratch("hf/config.json", std::string_view(bytes + start, n));
    fuzz::write_scratch("hf/model.safetensors",
                        std::string_view(bytes + start + n, size - start - n));
    fuzz::refused_or_ok([&] {
        const io::HfModel imported = io::import_hf(folder);
        const nn::GPT<float>& model = *imported.model;
        const TensorI idx({1, 1}, {0});
        (void)imported.model->forward(idx);

        // What imports must export: an error here is a finding, not a refusal.
        const auto again = fuzz::scratch_dir() / "hf_again";
        io::HfModel back;
        try {
            io::export_hf(again, model, nullptr);
            back = io::import_hf(again);
        } catch (const Error& e) {
            std::fprintf(stderr, "%s\n", e.what());
            fuzz::broken("an imported model does not export and import back");
        }
        if (back.architecture != imported.architecture)
            fuzz::broken("an exported folder imports as another architecture");
        const auto a = model.named_parameters();
        const auto b = back.model->named_parameters();
        if (a.size() != b.size())
            fuzz::broken("an exported folder imports with other parameters");
        for (std::size_t i = 0; i < a.size(); ++i) {
            const auto& x = a[i].second.value();
            const auto& y = b[i].second.value();
            if (a[i].first != b[i].first || x.shape() != y.shape() ||
                std::memcmp(x.data(), y.data(), std::size_t(x.numel()) * sizeof(float)) != 0)
                fuzz::broken("export then import changed a parameter");
        }
    });
    return 0;
}
