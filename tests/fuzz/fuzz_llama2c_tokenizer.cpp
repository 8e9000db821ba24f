// llama2.c's tokenizer.bin, then text to encode with it. Input: a little-endian uint32 whose low
// 31 bits are the length n of the tokenizer part, n bytes, and the rest as the text (make_seeds
// writes this layout). With the top bit clear the part is the whole tokenizer.bin; with it set,
// the part's first 4 bytes (max_token_length) and then <unk>, BOS, EOS and the 256 byte pieces
// <0x00>..<0xFF> as llama2.c's export writes them come first, and the part's pieces follow: so
// most inputs have byte fallback, which the exact round trip below needs.
// A tokenizer that loads saves back to the same bytes; encode gives ids inside the vocabulary and
// the same ids as the plain run.c encode of the data tests (on the first 32 bytes of the text),
// and decodes back to " " + text wherever the header's promise holds.
#include "fuzz_util.hpp"
#include "llama2c_test_util.hpp"

#include <ouro/core/atomic_file.hpp>
#include <ouro/data/tokenizer.hpp>

#include <algorithm>
#include <vector>

using namespace ouro;

namespace {

bool is_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// Whether `piece` is "<0xHH>" spelling byte b (hex digits in either case), as the library reads it.
bool spells_byte(const std::string& piece, int b) {
    if (piece.size() != 6 || !piece.starts_with("<0x") || piece[5] != '>' || !is_hex(piece[3]) ||
        !is_hex(piece[4]))
        return false;
    return std::stoi(piece.substr(3, 2), nullptr, 16) == b;
}

void check_ids(const data::Tokenizer& tok, const std::vector<std::int32_t>& ids) {
    for (const std::int32_t id : ids)
        if (id < 0 || id >= tok.vocab_size())
            fuzz::broken("encode gave an id outside the vocabulary");
}

// <unk>, BOS, EOS and the byte pieces as tokenizer.bin entries (without max_token_length).
const std::string& standard_pieces() {
    static const std::string s = testing::tokenizer_bin(0, testing::vocabulary({})).substr(4);
    return s;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const char* bytes = reinterpret_cast<const char*>(data);
    const std::uint32_t head = fuzz::read_u32(data, size, 0);
    const std::size_t start = std::min<std::size_t>(4, size);
    const std::size_t n = std::min<std::size_t>(head & 0x7fffffffu, size - start);
    const std::string part(bytes + start, n);
    const std::string text(bytes + start + n, size - start - n);
    const std::string bin = head >> 31 ? part.substr(0, 4) + standard_pieces() +
                                             part.substr(std::min<std::size_t>(4, n))
                                       : part;
    const auto path = fuzz::write_scratch("tokenizer.bin", bin);
    fuzz::refused_or_ok([&] {
        const data::Tokenizer tok = data::Tokenizer::load_llama2c(path);
        const auto saved = fuzz::scratch_dir() / "saved.bin";
        tok.save_llama2c(saved);
        if (read_file(saved, "fuzz") != bin)
            fuzz::broken("a loaded tokenizer.bin does not save back to the same bytes");

        const std::vector<std::int32_t> ids = tok.encode(text);
        check_ids(tok, ids);
        const std::string decoded = tok.decode(ids);
        std::vector<std::int32_t> with_bos = ids;
        with_bos.insert(with_bos.begin(), tok.bos_id());
        (void)tok.decode(with_bos);
        const std::vector<std::int32_t> special = tok.encode_with_special(text);
        check_ids(tok, special);
        (void)tok.decode(special);

        const std::vector<testing::Piece> pieces = testing::read_pieces(bin);
        const std::size_t V = pieces.size();
        bool byte_pieces = V >= 259;
        for (int b = 0; b < 256 && byte_pieces; ++b)
            byte_pieces = spells_byte(pieces[std::size_t(3 + b)].text, b);
        // The plain encode checks only <0x41> for byte fallback: compare where both agree. It
        // rescans everything after each merge, so it sees a short prefix of a small vocabulary.
        const bool plain_byte_pieces = V >= 259 && pieces[3 + 0x41].text == "<0x41>";
        const std::string prefix = text.substr(0, 32);
        if (byte_pieces == plain_byte_pieces && V <= 1024 &&
            testing::naive_encode(pieces, prefix) != tok.encode(prefix))
            fuzz::broken("encode differs from the plain run.c encode");

        // decode(encode(x)) == " " + x needs byte pieces (no <unk>), no other piece spelled with
        // "<0x" (a merge of byte pieces would otherwise decode as its spelling) and neither BOS
        // nor EOS inside " " + x (they decode as nothing).
        const std::string prefixed = text.empty() ? text : " " + text;
        bool exact = byte_pieces && text.find("<0x") == std::string::npos &&
                     prefixed.find(pieces[1].text) == std::string::npos &&
                     prefixed.find(pieces[2].text) == std::string::npos;
        for (std::size_t id = 0; id < V && exact; ++id)
            exact = (id >= 3 && id < 259) || pieces[id].text.find("<0x") == std::string::npos;
        if (exact && decoded != prefixed)
            fuzz::broken("decode(encode(x)) != \" \" + x");
    });
    return 0;
}
