// GPT-2 tokenizer files: vocab.json up to the first NUL byte, merges.txt after it. A tokenizer
// that loads must encode and decode text exactly.
#include "fuzz_util.hpp"

#include <ouro/data/tokenizer.hpp>

using namespace ouro;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view all(reinterpret_cast<const char*>(data), size);
    const std::size_t nul = std::min(all.find('\0'), all.size());
    std::filesystem::create_directories(fuzz::scratch_dir() / "tok");
    fuzz::write_scratch("tok/vocab.json", all.substr(0, nul));
    fuzz::write_scratch("tok/merges.txt", nul < all.size() ? all.substr(nul + 1) : "");
    fuzz::refused_or_ok([&] {
        const data::Tokenizer tok = data::Tokenizer::load(fuzz::scratch_dir() / "tok");
        const std::string text = "Once upon a time, a little dog\n\n  saw \xff\xfe 42 birds!";
        if (tok.decode(tok.encode(text)) != text)
            fuzz::broken("a loaded tokenizer does not round-trip text");
    });
    return 0;
}
