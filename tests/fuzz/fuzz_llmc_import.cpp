// llm.c checkpoint import (gpt2_124M.bin format).
#include "fuzz_util.hpp"

#include <ouro/io/gpt2_formats.hpp>

using namespace ouro;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto path = fuzz::write_scratch(
        "model.bin", std::string_view(reinterpret_cast<const char*>(data), size));
    fuzz::refused_or_ok([&] {
        auto model = io::import_llmc(path.string());
        if (model->config.n_layer < 1)
            fuzz::broken("import_llmc returned a model without layers");
    });
    return 0;
}
