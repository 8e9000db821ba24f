// Tokenizer throughput: encoding the TinyStories subset (6.7 MB) with GPT-2's tokenizer and with a
// 4096-token BPE, on 1 and 2 threads (bytes/s and tokens/s), and BPE training time for 512 and
// 4096 tokens. Reads ../shared/data (or $OURO_SHARED_DATA); skips with a message without it.
//
//   ./build/benchmarks/ouro_bench_tokenizer --benchmark_repetitions=10
//       --benchmark_report_aggregates_only=true
//
// Besides mean, median and stddev, a "min" row gives the fastest repetition's time: on a machine
// shared with other jobs, the least disturbed run. (Its rate counters are the minima of the rates,
// so take its speed from the time.)
#include "bench_util.hpp"

#include <ouro/core/parallel.hpp>
#include <ouro/data/tinystories.hpp>
#include <ouro/data/tokenizer.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>

using namespace ouro::data;

namespace {

std::filesystem::path shared_data() {
    if (const char* env = std::getenv("OURO_SHARED_DATA"))
        return env;
    return std::filesystem::path(__FILE__).parent_path() / ".." / ".." / "shared" / "data";
}

// The stories of train.txt, read once; null when the file is not there.
const std::vector<std::string>* stories() {
    static const std::unique_ptr<std::vector<std::string>> s = [] {
        const auto path = shared_data() / "tinystories" / "train.txt";
        return std::filesystem::exists(path)
                   ? std::make_unique<std::vector<std::string>>(read_stories_txt(path))
                   : nullptr;
    }();
    return s.get();
}

std::int64_t corpus_bytes(const std::vector<std::string>& texts) {
    std::int64_t n = 0;
    for (const auto& t : texts)
        n += std::int64_t(t.size());
    return n;
}

const Tokenizer* gpt2() {
    static const std::unique_ptr<Tokenizer> tok = []() -> std::unique_ptr<Tokenizer> {
        const auto dir = shared_data() / "gpt2";
        if (!std::filesystem::exists(dir / "vocab.json"))
            return nullptr;
        auto t = std::make_unique<Tokenizer>(Tokenizer::load(dir));
        if (t->encode("Once upon a time") != std::vector<std::int32_t>{7454, 2402, 257, 640})
            throw std::runtime_error("GPT-2 tokenizer gives wrong ids");
        return t;
    }();
    return tok.get();
}

const Tokenizer* bpe4096() {
    static const std::unique_ptr<Tokenizer> tok = []() -> std::unique_ptr<Tokenizer> {
        if (stories() == nullptr)
            return nullptr;
        return std::make_unique<Tokenizer>(Tokenizer::train(*stories(), {.vocab_size = 4096}));
    }();
    return tok.get();
}

// The fastest repetition: on a machine shared with other jobs, the least disturbed run.
double fastest(const std::vector<double>& v) {
    return *std::min_element(v.begin(), v.end());
}

void encode(benchmark::State& state, const Tokenizer* tok) {
    const auto* texts = stories();
    if (tok == nullptr || texts == nullptr) {
        state.SkipWithError("shared data not found (set OURO_SHARED_DATA)");
        return;
    }
    ouro::ThreadCountGuard guard(int(state.range(0)));
    // Checked once: every story decodes back to itself.
    const auto ids = tok->encode_corpus(*texts);
    std::int64_t tokens = 0;
    for (std::size_t i = 0; i < texts->size(); ++i) {
        if (tok->decode(ids[i]) != (*texts)[i])
            throw std::runtime_error("encode/decode does not round-trip");
        tokens += std::int64_t(ids[i].size());
    }
    for (auto _ : state)
        benchmark::DoNotOptimize(tok->encode_corpus(*texts));
    ouro::bench::report(state, 0);
    state.SetBytesProcessed(state.iterations() * corpus_bytes(*texts));
    state.counters["tokens/s"] =
        benchmark::Counter(double(tokens), benchmark::Counter::kIsIterationInvariantRate);
}

void BM_Tokenizer_encode_gpt2(benchmark::State& state) {
    encode(state, gpt2());
}
BENCHMARK(BM_Tokenizer_encode_gpt2)
    ->Arg(1)
    ->Arg(2)
    ->ArgName("threads")
    ->UseRealTime()
    ->ComputeStatistics("min", fastest);

void BM_Tokenizer_encode_bpe4096(benchmark::State& state) {
    encode(state, bpe4096());
}
BENCHMARK(BM_Tokenizer_encode_bpe4096)
    ->Arg(1)
    ->Arg(2)
    ->ArgName("threads")
    ->UseRealTime()
    ->ComputeStatistics("min", fastest);

void BM_Tokenizer_train(benchmark::State& state) {
    const auto* texts = stories();
    if (texts == nullptr) {
        state.SkipWithError("shared data not found (set OURO_SHARED_DATA)");
        return;
    }
    const auto vocab = std::int32_t(state.range(0));
    ouro::ThreadCountGuard guard(int(state.range(1)));
    if (Tokenizer::train(*texts, {.vocab_size = vocab}).vocab_size() != vocab)
        throw std::runtime_error("training gave the wrong vocabulary size");
    for (auto _ : state)
        benchmark::DoNotOptimize(Tokenizer::train(*texts, {.vocab_size = vocab}));
    ouro::bench::report(state, 0);
    state.SetBytesProcessed(state.iterations() * corpus_bytes(*texts));
}
BENCHMARK(BM_Tokenizer_train)
    ->Args({512, 2})
    ->Args({4096, 1})
    ->Args({4096, 2})
    ->ArgNames({"vocab", "threads"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->ComputeStatistics("min", fastest);

} // namespace

BENCHMARK_MAIN();
