// Tokenizer encode on arbitrary bytes (valid UTF-8 or not), with and without special tokens:
// decode(encode(x)) == x, and every id is inside the vocabulary.
#include "fuzz_util.hpp"

#include <ouro/data/tokenizer.hpp>

#include <vector>

using namespace ouro;

namespace {

const data::Tokenizer& tokenizer() {
    static const data::Tokenizer tok = [] {
        const std::vector<std::string> corpus = {
            "Once upon a time, there was a little girl named Lily. She liked to play outside.",
            "One day, Tom found a big red ball in the park. He was very happy!",
            "\"Can I play too?\" asked the cat. 'Yes,' said the dog. They played all day.",
            "Numbers 123 and 4567, tabs\tand  spaces,\nnew lines\r\n and unicode: caf\xc3\xa9 "
            "\xe2\x80\x94 \xf0\x9f\x99\x82."};
        return data::Tokenizer::train(corpus, {.vocab_size = 400});
    }();
    return tok;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const data::Tokenizer& tok = tokenizer();
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    for (const bool special : {false, true}) {
        const std::vector<std::int32_t> ids =
            special ? tok.encode_with_special(text) : tok.encode(text);
        for (const std::int32_t id : ids)
            if (id < 0 || id >= tok.vocab_size())
                fuzz::broken("encode gave an id outside the vocabulary");
        if (tok.decode(ids) != text)
            fuzz::broken("decode(encode(x)) != x");
    }
    return 0;
}
