// llama2.c's real tokenizers from the shared data folder: tok512.bin of stories260K (with the text
// run.c printed for it) and the character-level tok105.bin. Each test says when it skips.
#include "data/data_test_util.hpp"
#include "data/llama2c_test_util.hpp"

#include <ouro/data/tokenizer.hpp>

#include <doctest/doctest.h>

#include <algorithm>

using namespace ouro;
using namespace ouro::data;
using namespace ouro::testing;

namespace {
using Ids = std::vector<std::int32_t>;
} // namespace

TEST_SUITE("data") {
    TEST_CASE("Tokenizer (llama2.c): stories260K's tok512.bin") {
        const auto path = ouro::testing::shared_data_or_skip("tinyllamas/tok512.bin");
        if (path.empty())
            return;
        const Tokenizer tok = Tokenizer::load_any(path);
        const std::vector<Piece> pieces = read_pieces(read_bytes(path));
        CHECK(tok.kind() == TokenizerKind::llama2c);
        CHECK(tok.vocab_size() == 512);
        CHECK(pieces.size() == 512);
        CHECK(tok.bos_id() == 1);
        CHECK(tok.eos_id() == 2);
        CHECK(tok.token(1) == "\n<s>\n");
        CHECK(tok.token(2) == "\n</s>\n");
        CHECK(tok.token(3 + '\n') == "\n");
        CHECK(tok.token(259) == " t");
        CHECK(tokenizer_identity(tok, path) ==
              "llama2c:512:037cb335abb25d1fa9e8ecae30ed2a3a8ace9302862ebcdc05d51a6bbb10c312");
        TempDir dir;
        tok.save_llama2c(dir / "tok512.bin");
        CHECK(read_bytes(dir / "tok512.bin") == read_bytes(path));

        // Ids traced by hand through run.c's algorithm: " Once", " upon", " a", " time".
        CHECK(tok.encode("Once upon a time") == Ids{403, 407, 261, 378});
        CHECK(tok.decode(Ids{1, 403, 407, 261, 378}) == "Once upon a time");
        CHECK(tok.encode("Hello\n\nworld") == Ids{346, 306, 414, 13, 13, 424, 304, 341});
        const std::string utf8 = "caf\xC3\xA9 \xE6\x97\xA5\xF0\x9F\x99\x82";
        CHECK(tok.encode(utf8) == Ids{280, 412, 431, 485, 410, 233, 154, 168, 243, 162, 156, 133});
        CHECK(tok.decode(with_bos(tok.encode(utf8))) == utf8);
        Rng rng(11);
        for (int t = 0; t < 40; ++t) {
            const std::string text = ouro::testing::random_utf8(rng, rng.below(30));
            const Ids ids = tok.encode(text);
            CHECK(ids == naive_encode(pieces, text));
            CHECK(tok.decode(with_bos(ids)) == text);
        }
    }

    TEST_CASE("Tokenizer (llama2.c): the text stories260K printed") {
        const auto files = ouro::testing::shared_data_or_skip(
            {"tinyllamas/tok512.bin", "tinyllamas/stories260K-greedy-256.txt"});
        if (files.empty())
            return;
        const auto &tok_path = files[0], &text_path = files[1];
        const Tokenizer tok = Tokenizer::load_llama2c(tok_path);
        std::string text = read_bytes(text_path);
        REQUIRE(text.ends_with("\n"));
        text.pop_back(); // run.c's own newline after the last token
        // The model's own ids need not come back (BPE segmentations are not unique); decoding
        // must.
        const Ids ids = tok.encode(text);
        MESSAGE(text.size() << " bytes re-encode to " << ids.size() << " tokens");
        CHECK(ids == naive_encode(read_pieces(read_bytes(tok_path)), text));
        CHECK(std::find(ids.begin(), ids.end(), 0) == ids.end()); // no <unk>
        CHECK(std::count(ids.begin(), ids.end(), 3 + '\n') ==
              std::count(text.begin(), text.end(), '\n'));
        const Ids with = with_bos(ids);
        CHECK(tok.decode(with) == text);
        std::string streamed;
        for (std::size_t i = 1; i < with.size(); ++i)
            streamed += tok.decode_next(with[i - 1], with[i]);
        CHECK(streamed == text);
    }

    TEST_CASE("Tokenizer (llama2.c): the character-level tok105.bin") {
        const auto path = ouro::testing::shared_data_or_skip("tinyllamas/babyllama/tok105.bin");
        if (path.empty())
            return;
        const Tokenizer tok = Tokenizer::load_any(path);
        CHECK(tok.vocab_size() == 105);
        const Ids ids = tok.encode("Once upon a time");
        CHECK(ids == Ids{3, 34, 9, 22, 4, 3, 18, 20, 7, 9, 3, 5, 3, 6, 10, 16, 4});
        CHECK(tok.token(ids[1]) == "O");
        CHECK(tok.decode(with_bos(ids)) == "Once upon a time");
        CHECK(tok.encode("\n") == Ids{3, 0}); // no newline piece and no byte pieces: <unk>
        TempDir dir;
        tok.save_llama2c(dir / "tok105.bin");
        CHECK(read_bytes(dir / "tok105.bin") == read_bytes(path));
    }
}
