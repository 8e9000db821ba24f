// The real llama2.c TinyStories models of the shared data folder, decoded greedily by the
// inference session: the token ids must be exactly those of llama2.c's run.c (recorded once from
// run.c built with its own Makefile flags: `run MODEL -z TOKENIZER -t 0.0 -n 256`), with 1 and 2
// threads, and the text that of stories260K-greedy-256.txt, what run.c printed.
#include "test_util.hpp"

#include <ouro/core/parallel.hpp>
#include <ouro/data/tokenizer.hpp>
#include <ouro/gen/session.hpp>
#include <ouro/io/llama2c.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

using namespace ouro;

namespace {

// run.c's greedy tokens after BOS, 256 steps.
const std::vector<std::int32_t> stories260k_ids = {
    403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267,
    337, 410, 408, 419, 292, 411, 322, 265, 282, 295, 433, 426, 385, 328, 432, 358, 394, 261, 370,
    432, 352, 266, 268, 388, 426, 338, 391, 266, 267, 337, 335, 312, 432, 398, 312, 286, 267, 414,
    270, 333, 415, 426, 13,  438, 310, 439, 419, 357, 336, 432, 313, 438, 310, 432, 278, 316, 439,
    419, 298, 414, 267, 265, 282, 295, 433, 426, 436, 317, 286, 296, 418, 269, 279, 292, 416, 439,
    413, 409, 416, 327, 263, 415, 294, 267, 400, 426, 338, 336, 432, 313, 442, 391, 267, 337, 335,
    364, 420, 268, 388, 432, 398, 359, 280, 303, 439, 413, 272, 417, 264, 312, 426, 436, 13,  438,
    310, 286, 296, 418, 269, 279, 292, 416, 439, 413, 409, 416, 327, 263, 415, 294, 267, 400, 426,
    338, 336, 432, 313, 442, 439, 423, 262, 304, 420, 422, 432, 317, 426, 359, 279, 292, 416, 439,
    413, 409, 416, 327, 263, 415, 294, 267, 400, 426, 436, 13,  438, 310, 279, 292, 416, 439, 413,
    391, 267, 281, 421, 427, 311, 357, 432, 384, 358, 336, 432, 313, 442, 439, 423, 262, 304, 420,
    422, 432, 357, 426, 359, 279, 292, 416, 439, 413, 409, 416, 327, 263, 415, 294, 267, 400, 426,
    436, 320, 285, 357, 336, 432, 313, 455, 289, 439, 413, 263, 304, 420, 422, 432, 317, 426, 410,
    448, 411, 280, 303, 281, 421, 427, 364, 426};

const std::vector<std::int32_t> babyllama_ids = {
    3,  34, 9,  22, 4,  3,  18, 20, 7,  9,  3,  5,  3,  6,  10, 16, 4,  25, 3,  6,  8,  4,  13, 4,
    3,  17, 5,  12, 3,  5,  3,  14, 10, 6,  6,  14, 4,  3,  21, 10, 13, 14, 3,  9,  5,  16, 4,  11,
    3,  31, 10, 14, 15, 19, 3,  30, 8,  4,  3,  14, 7,  28, 4,  11, 3,  6,  7,  3,  20, 14, 5,  15,
    3,  7,  18, 6,  12, 10, 11, 4,  3,  10, 9,  3,  6,  8,  4,  3,  12, 18, 9,  12, 8,  10, 9,  4,
    19, 3,  34, 9,  4,  3,  11, 5,  15, 25, 3,  12, 8,  4,  3,  17, 4,  9,  6,  3,  6,  7,  3,  6,
    8,  4,  3,  20, 5,  13, 26, 3,  17, 10, 6,  8,  3,  8,  4,  13, 3,  16, 7,  16, 16, 15, 3,  5,
    9,  11, 3,  11, 5,  11, 11, 15, 19, 3,  30, 8,  4,  3,  12, 5,  17, 3,  5,  3,  23, 10, 21, 3,
    23, 7,  37, 3,  7,  9,  3,  6,  8,  4,  3,  21, 13, 7,  18, 9,  11, 19, 3,  30, 8,  4,  3,  17,
    5,  9,  6,  4,  11, 3,  6,  7,  3,  20, 14, 5,  15, 3,  17, 10, 6,  8,  3,  10, 6,  25, 3,  23,
    18, 6,  3,  12, 8,  4,  3,  17, 5,  12, 3,  6,  7,  7,  3,  8,  4,  5,  28, 15, 19, 3,  30, 8,
    4,  3,  17, 5,  12, 3,  12, 7,  3,  8,  5,  20, 20, 15, 3,  6};

// Greedy decoding from BOS (id 1) for `steps` tokens, stopping at BOS as run.c does.
std::vector<std::int32_t> greedy(const nn::GPT<float>& model, std::int64_t steps) {
    gen::InferenceSession session(model);
    std::int32_t token = 1;
    session.prefill(0, {&token, 1});
    std::vector<std::int32_t> out;
    while (std::int64_t(out.size()) < steps) {
        const auto logits = session.logits(0);
        token = std::int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
        if (token == 1)
            break;
        out.push_back(token);
        if (std::int64_t(out.size()) < steps)
            session.step({&token, 1});
    }
    return out;
}

} // namespace

TEST_SUITE("gen") {
    TEST_CASE("llama2.c models decode as run.c does") {
        const auto files = ouro::testing::shared_data_or_skip(
            {"tinyllamas/stories260K.bin", "tinyllamas/tok512.bin",
             "tinyllamas/stories260K-greedy-256.txt", "tinyllamas/babyllama/model5000_tok105.bin"});
        if (files.empty())
            return;
        const auto &s260 = files[0], &tok512 = files[1], &text = files[2], &baby = files[3];
        SUBCASE("stories260K: run.c's 256 greedy tokens and text, with 1 and 2 threads") {
            const auto model = io::import_llama2c(s260).model;
            for (const int threads : {1, 2}) {
                CAPTURE(threads);
                ThreadCountGuard guard(threads);
                const std::vector<std::int32_t> ids = greedy(*model, 256);
                CHECK(ids == stories260k_ids);
            }
            const data::Tokenizer tok = data::Tokenizer::load_any(tok512);
            std::string printed;
            std::int32_t prev = 1;
            for (const std::int32_t id : stories260k_ids)
                printed += tok.decode_next(std::exchange(prev, id), id);
            std::ifstream in(text, std::ios::binary);
            const std::string expected((std::istreambuf_iterator<char>(in)), {});
            CHECK(printed + "\n" == expected);
        }
        SUBCASE("BabyLlama (character level): run.c's 256 greedy tokens, with 1 and 2 threads") {
            const auto model = io::import_llama2c(baby).model;
            for (const int threads : {1, 2}) {
                CAPTURE(threads);
                ThreadCountGuard guard(threads);
                CHECK(greedy(*model, 256) == babyllama_ids);
            }
        }
    }
}
