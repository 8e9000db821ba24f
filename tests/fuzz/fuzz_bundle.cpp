// A sampling bundle: a checkpoint and a tokenizer folder, matched by load_model_bundle. Input:
// uint32 checkpoint length, uint32 vocab.json length, then the checkpoint, vocab.json and the
// rest as merges.txt (make_seeds writes this layout).
#include "fuzz_util.hpp"

#include <ouro/io/model_bundle.hpp>

#include <algorithm>

using namespace ouro;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const char* bytes = reinterpret_cast<const char*>(data);
    const std::size_t a = std::min<std::size_t>(fuzz::read_u32(data, size, 0), size);
    const std::size_t start = std::min<std::size_t>(8, size);
    const std::size_t ck_end = std::min(size, start + a);
    const std::size_t b = std::min<std::size_t>(fuzz::read_u32(data, size, 4), size - ck_end);
    const auto ck =
        fuzz::write_scratch("bundle.safetensors", std::string_view(bytes + start, ck_end - start));
    std::filesystem::create_directories(fuzz::scratch_dir() / "tok");
    fuzz::write_scratch("tok/vocab.json", std::string_view(bytes + ck_end, b));
    fuzz::write_scratch("tok/merges.txt", std::string_view(bytes + ck_end + b, size - ck_end - b));
    fuzz::refused_or_ok([&] {
        const io::ModelBundle m = io::load_model_bundle(ck, fuzz::scratch_dir() / "tok");
        if (m.model->config.vocab_size != m.tokenizer.vocab_size())
            fuzz::broken("a bundle's model and tokenizer disagree on the vocabulary");
        const TensorI idx({1, 1}, {0});
        (void)m.model->forward(idx);
    });
    return 0;
}
