// convert: moves a model between the formats ouro reads, with its tokenizer, so that nobody has
// to write C++ to do it.
//
//   convert runs/xs/ckpt-002000.safetensors out/hf --to hf          # a Hugging Face folder
//   convert ../shared/data/tinyllamas/stories260K.bin out/s260 --to hf --tokenizer tok512.bin
//   convert out/hf out/model.safetensors --to ouro                  # and back
//   convert runs/xs/ckpt-002000.safetensors out/gpt2.bin --to llmc  # llm.c's train_gpt2.c
//   convert out/s260 out/stories260K.bin --to llama2c               # llama2.c's run.c
//   convert runs/xs/ckpt-002000.safetensors out/model --to bundle   # 16-bit sampling model
//
// The input's format is read from its contents (io::detect_model_format): an ouro checkpoint or
// sampling bundle (.safetensors), a llama2.c or llm.c model (.bin), or a Hugging Face folder
// (GPT2LMHeadModel, LlamaForCausalLM). The tokenizer is the one beside the input
// (io::find_tokenizer) or --tokenizer; the model and the tokenizer are checked against each other
// (io::load_model_bundle) before anything is written.
//
// Outputs (examples/convert/outputs.hpp says what may be replaced):
//   hf       a folder: model.safetensors (float32), config.json, generation_config.json and the
//            tokenizer files (io/hugging_face.hpp)
//   ouro     a checkpoint file (float32 weights; the step and the training settings of an ouro
//            input are kept, the optimizer state is not) with the tokenizer beside it
//   bundle   a folder: model.safetensors (an ouro checkpoint with IEEE half weights, what `lab
//            bundle` ships), the tokenizer, provenance.json
//   llmc     an llm.c version-3 (float32) file, the tokenizer beside it; GPT-2 shaped models only
//   llama2c  a llama2.c file (legacy layout, or --llama2c-format version1), the tokenizer beside
//            it; Llama models only (RoPE pairs are permuted to llama2.c's interleaved layout)
// Weights are copied exactly, except into a bundle (rounded to half precision). Errors: one line
// "convert: <message>" on stderr and exit code 1.
#include "outputs.hpp"

#include "common/text_width.hpp"

#include <ouro/core/atomic_file.hpp>
#include <ouro/core/error.hpp>
#include <ouro/data/sha256.hpp>
#include <ouro/io/checkpoint.hpp>
#include <ouro/io/gpt2_formats.hpp>
#include <ouro/io/hugging_face.hpp>
#include <ouro/io/llama2c.hpp>
#include <ouro/io/model_bundle.hpp>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <string>

namespace {

namespace io = ouro::io;
namespace nn = ouro::nn;
namespace fs = std::filesystem;

struct Options {
    std::string input, output, to, tokenizer;
    std::string llama2c_format = "legacy";
    bool overwrite = false;
};

std::string describe(const nn::GPTConfig& c) {
    std::string arch;
    try {
        arch = io::to_string(io::hf_architecture(c));
    } catch (const ouro::ConfigError&) {
        arch = std::string("position ") + nn::to_string(c.position) + ", " + nn::to_string(c.norm) +
               ", " + nn::to_string(c.mlp);
    }
    return arch + ", " + std::to_string(c.n_layer) + " layers, " + std::to_string(c.n_head) +
           " heads (" + std::to_string(c.kv_heads()) + " for keys and values), " +
           std::to_string(c.n_embd) + " channels, vocabulary " + std::to_string(c.vocab_size) +
           ", context " + std::to_string(c.block_size);
}

std::string tokenizer_kind(const ouro::data::Tokenizer& t) {
    return t.kind() == ouro::data::TokenizerKind::llama2c ? "llama2.c tokenizer" : "byte-level BPE";
}

// What an ouro checkpoint written by convert records: the input's step and settings (an ouro
// input), no data position (it does not resume training) and the tokenizer written beside it.
io::TrainingState output_state(const io::ModelBundle& in, const ouro::data::Tokenizer& tok,
                               const fs::path& tokenizer_dir) {
    io::TrainingState s = in.state;
    s.data_position.clear();
    s.tokenizer =
        ouro::data::tokenizer_identity(tok, convert::tokenizer_location(tok, tokenizer_dir));
    return s;
}

void write_provenance(const fs::path& dir, const io::ModelBundle& in, std::int64_t parameters,
                      const Options& o, const io::TrainingState& state) {
    nlohmann::ordered_json p;
    p["model"] = "model.safetensors";
    p["weights"] = "F16 (IEEE half), widened to float when loaded";
    p["parameters"] = parameters;
    p["config"] = nlohmann::json::parse(io::config_to_json(in.config));
    p["step"] = state.step;
    p["tokenizer"] = state.tokenizer;
    std::error_code ec;
    const bool folder = fs::is_directory(o.input, ec);
    p["converted_from"] = {
        {"path", o.input},
        {"format", io::to_string(in.format)},
        {"sha256", ouro::data::sha256_file(folder ? fs::path(o.input) / "model.safetensors"
                                                  : fs::path(o.input))}};
    p["command"] = "convert " + o.input + " " + o.output + " --to bundle";
    if (!state.metadata_value("train_config").empty())
        p["training_settings"] = nlohmann::json::parse(state.metadata_value("train_config"));
    ouro::write_file_atomic(dir / "provenance.json", p.dump(2) + "\n");
}

std::string join(const std::vector<std::string>& names) {
    std::string s;
    for (const std::string& n : names)
        s += (s.empty() ? "" : ", ") + n;
    return s;
}

// A line of output, wrapped to fit 100 columns (continuation lines 4 columns in).
void print(const std::string& text) {
    std::printf("%s\n", flags::wrap(text, flags::columns, 4).c_str());
}

int run(const Options& o) {
    const fs::path in(o.input), out(o.output);
    const fs::path tokenizer_path =
        o.tokenizer.empty() ? io::find_tokenizer(in) : fs::path(o.tokenizer);
    io::ModelBundle m = io::load_model_bundle(in, tokenizer_path);
    print("read " + o.input + " (" + io::to_string(m.format) +
          "): " + std::to_string(m.model->num_parameters()) + " parameters, " + describe(m.config));
    print("tokenizer " + m.tokenizer_dir + " (" + tokenizer_kind(m.tokenizer) + ", " +
          std::to_string(m.tokenizer.vocab_size()) + " tokens)");

    // Whether the target holds this model is checked before anything is written.
    std::unique_ptr<nn::GPT<float>> model = std::move(m.model);
    if (o.to == "hf") {
        io::hf_architecture(m.config);
    } else if (o.to == "llama2c" && m.config.position == nn::PositionEncoding::rope &&
               m.config.rope_layout != ouro::ops::RopeLayout::interleaved) {
        model = io::with_rope_layout(*model, ouro::ops::RopeLayout::interleaved);
    }

    std::vector<std::string> files;
    if (o.to == "hf") {
        convert::CreatedFolders created = convert::prepare_folder(out, o.to, o.overwrite);
        io::export_hf(out, *model, &m.tokenizer);
        created.keep();
        files = {"model.safetensors", "config.json",           "generation_config.json",
                 "tokenizer.json",    "tokenizer_config.json", "special_tokens_map.json"};
        if (m.tokenizer.kind() == ouro::data::TokenizerKind::llama2c)
            files.push_back("tokenizer.bin");
        else
            files.insert(files.end(), {"vocab.json", "merges.txt"});
    } else if (o.to == "bundle") {
        convert::CreatedFolders created = convert::prepare_folder(out, o.to, o.overwrite);
        files = convert::TokenizerFiles(m.tokenizer, out, true).commit();
        const io::TrainingState state = output_state(m, m.tokenizer, out);
        io::save_checkpoint((out / "model.safetensors").string(), *model, nullptr, state,
                            io::DType::F16);
        write_provenance(out, m, model->num_parameters(), o, state);
        created.keep();
        files.insert(files.begin(), "model.safetensors");
        files.push_back("provenance.json");
    } else {
        convert::CreatedFolders created = convert::prepare_file(out, o.to, o.overwrite);
        const fs::path dir = out.parent_path().empty() ? fs::path(".") : out.parent_path();
        // Staged and compared first: a refused tokenizer or model writes nothing.
        convert::TokenizerFiles tokenizer_files(m.tokenizer, dir, o.overwrite);
        if (o.to == "ouro") {
            // The checkpoint records the identity of the tokenizer files beside it.
            io::save_checkpoint(out.string(), *model, nullptr,
                                output_state(m, m.tokenizer, tokenizer_files.staged()));
        } else if (o.to == "llmc") {
            io::export_llmc(out.string(), *model);
        } else {
            io::export_llama2c(*model, out,
                               o.llama2c_format == "version1" ? io::Llama2cFormat::version1
                                                              : io::Llama2cFormat::legacy);
        }
        files.push_back(out.filename().string());
        for (const std::string& f : tokenizer_files.commit())
            files.push_back("beside it " + f);
        created.keep();
    }
    print("wrote " + o.output + " (--to " + o.to + "): " + join(files));
    if (o.to == "llama2c" && m.tokenizer.kind() != ouro::data::TokenizerKind::llama2c)
        print("note: llama2.c's run.c reads only a tokenizer.bin; this model's byte-level BPE is "
              "written as vocab.json + merges.txt, which ouro's programs read");
    if (o.to == "bundle")
        std::printf("note: the weights are rounded to IEEE half precision\n");
    return 0;
}

std::string one_line(std::string text) {
    std::replace(text.begin(), text.end(), '\n', ' ');
    return text;
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"Convert a model between ouro checkpoints, Hugging Face folders (GPT-2, Llama), "
                 "llm.c and llama2.c files and 16-bit sampling bundles, with its tokenizer"};
    Options o;
    app.add_option("input", o.input,
                   "the model: an ouro checkpoint or bundle, a llama2.c or llm.c .bin, or a "
                   "Hugging Face folder (told apart by their contents)")
        ->required();
    app.add_option("output", o.output, "the file or folder to write (see --to)")->required();
    app.add_option("--to", o.to,
                   "hf (folder), ouro (.safetensors file), bundle (folder, 16-bit weights), llmc "
                   "(.bin file), llama2c (.bin file)")
        ->required()
        ->check(CLI::IsMember({"hf", "ouro", "bundle", "llmc", "llama2c"}));
    app.add_option("--tokenizer", o.tokenizer,
                   "folder with vocab.json + merges.txt, or a llama2.c tokenizer.bin (default: "
                   "the one beside the input, else the data folder an ouro checkpoint records)");
    app.add_option("--llama2c-format", o.llama2c_format,
                   "layout of a llama2.c output: legacy (run.c) or version1 (export.py)")
        ->capture_default_str()
        ->check(CLI::IsMember({"legacy", "version1"}));
    app.add_flag("--overwrite", o.overwrite, "replace an existing output");
    flags::fit_help(app);
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::fprintf(stderr, "convert: %s\n", one_line(e.what()).c_str());
        return 1;
    }
    try {
        return run(o);
    } catch (const std::exception& e) {
        std::fflush(stdout);
        std::fprintf(stderr, "convert: %s\n", one_line(e.what()).c_str());
        return 1;
    }
}
