// Hugging Face GPT-2 model.safetensors import; the head count (which the file cannot give) is
// 1 or 2, from the input's length.
#include "fuzz_util.hpp"

#include <ouro/io/gpt2_formats.hpp>

using namespace ouro;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto path = fuzz::write_scratch(
        "model.safetensors", std::string_view(reinterpret_cast<const char*>(data), size));
    fuzz::refused_or_ok([&] {
        auto model = io::import_hf_gpt2(path.string(), std::int64_t(1 + size % 2));
        const TensorI idx({1, 1}, {0});
        (void)model->forward(idx);
    });
    return 0;
}
