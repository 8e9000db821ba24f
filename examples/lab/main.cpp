// The collapse lab: reproduces decoding collapse on a trained model, measures it and explains it
// (COLLAPSE.md). One program, a sub-command per experiment:
//
//   lab demo                 the blog post's example (a good beginning, a middle that loses the
//                            plot, an end in a loop), greedy vs nucleus, E1 E2 E3 E5, report
//                            (scripts/demo.sh runs it; `scripts/demo.sh --retrain` trains first)
//   lab e1 ... lab e9        one experiment: a table on stdout, CSV + SVG in --out
//   lab all                  every experiment that has its inputs, and the report
//   lab bundle               turn a training checkpoint into a 16-bit sampling model + provenance
//
// Without --checkpoint the bundled model (models/tinystories-2.6m) is used, found above the
// program's own file (a build folder in the source tree) or under the current folder, never
// through a path compiled in (common/project_files.hpp). --seed has a fixed
// default (1234, shown by --help): an experiment run twice prints the same table. Bad flags or
// files: one line "lab: <message>" on stderr and exit code 1 (common/flags.hpp).
#include "common/flags.hpp"
#include "common/project_files.hpp"
#include "demo.hpp"
#include "experiments.hpp"
#include "lab.hpp"
#include "report.hpp"

#include <ouro/core/error.hpp>
#include <ouro/core/parallel.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <functional>

namespace fs = std::filesystem;
using namespace collapse;

namespace {

std::vector<fs::path> expand_checkpoints(const std::vector<std::string>& given) {
    std::vector<fs::path> out;
    for (const std::string& g : given) {
        if (fs::is_directory(g)) {
            std::vector<fs::path> found;
            for (const auto& e : fs::directory_iterator(g))
                if (e.path().extension() == ".safetensors" &&
                    e.path().filename().string().rfind("ckpt-", 0) == 0)
                    found.push_back(e.path());
            std::sort(found.begin(), found.end());
            if (found.empty())
                throw ouro::ConfigError("no ckpt-*.safetensors in " + g);
            out.insert(out.end(), found.begin(), found.end());
        } else {
            out.emplace_back(g);
        }
    }
    return out;
}

// The flags every sub-command shares.
struct CommonFlags {
    LabSettings s;
    std::string checkpoint, tokenizer, out = "lab-out", valid, train;
    std::vector<std::string> prompt_files;
    int threads = 0;
    bool progress = false, no_progress = false;
};

void add_common(CLI::App& app, CommonFlags& f) {
    LabSettings& s = f.s;
    flags::existing_path(app.add_option("--checkpoint", f.checkpoint,
                                        "model: an ouro checkpoint or bundle, a llama2.c or "
                                        "llm.c model (.bin) or a Hugging Face folder")
                             ->default_str("the bundled model"));
    flags::existing_path(app.add_option("--tokenizer", f.tokenizer,
                                        "tokenizer: a folder with vocab.json and merges.txt, or a "
                                        "llama2.c tokenizer.bin")
                             ->default_str("the checkpoint's folder"));
    flags::output_folder(app.add_option("--out", f.out, "folder for CSV, SVG and report.html")
                             ->capture_default_str());
    flags::existing_file(
        app.add_option("--valid", f.valid, "held-out TinyStories .txt: human text for E2, E4, E5")
            ->default_str("none"));
    flags::existing_file(app.add_option("--train", f.train, "the training stories (.txt) for E9")
                             ->default_str("none"));
    app.add_option("-p,--prompt", s.prompts, "a story beginning (repeatable)")
        ->default_str("8 built in");
    flags::existing_file(app.add_option("-f,--file", f.prompt_files,
                                        "a story beginning: the whole of this file (repeatable)")
                             ->default_str("none"));
    flags::whole(app.add_option("--samples", s.samples_per_prompt,
                                "samples per prompt for sampling decoders")
                     ->capture_default_str(),
                 1, 65536);
    flags::whole(app.add_option("-n,--max-new-tokens", s.max_new_tokens,
                                "tokens generated per sample (quick runs: at most 512)")
                     ->capture_default_str(),
                 1, flags::max_tokens);
    flags::seed(
        app.add_option("-s,--seed", s.seed, "seed of every random draw")->capture_default_str());
    flags::add_threads(app, f.threads, true);
    app.add_flag("--quick", s.quick, "smaller runs (as the demo)");
    app.add_flag("--progress", f.progress, "always draw progress bars");
    app.add_flag("--no-progress", f.no_progress, "never draw progress bars");
}

CLI::App* add_demo(CLI::App& app, DemoSettings& demo) {
    auto* c_demo = app.add_subcommand(
        "demo", "the blog post's example: beginning, middle, loop; E1 E2 E3 E5; report");
    flags::whole(c_demo
                     ->add_option("--past-end", demo.past_end,
                                  "greedy tokens generated past the story's natural end")
                     ->capture_default_str(),
                 200, flags::max_tokens);
    flags::existing_path(c_demo
                             ->add_option("--compare", demo.compare,
                                          "a second model (any format --checkpoint takes, e.g. "
                                          "a fully trained stories260K) measured the same way and "
                                          "compared with the first")
                             ->default_str("none"));
    flags::existing_path(c_demo
                             ->add_option("--compare-tokenizer", demo.compare_tokenizer,
                                          "the second model's tokenizer")
                             ->default_str("found beside it"));
    return c_demo;
}

CLI::App* add_bundle(CLI::App& app, BundleSettings& bundle) {
    auto* c_bundle = app.add_subcommand(
        "bundle", "write a 16-bit sampling model with its tokenizer and a provenance file");
    flags::existing_file(
        c_bundle->add_option("--from", bundle.checkpoint, "training checkpoint")->required());
    flags::existing_folder(
        c_bundle->add_option("--data", bundle.data_dir, "the prepared data folder (tokenizer)")
            ->default_str("beside --from, else the data folder it records"));
    flags::existing_file(
        c_bundle
            ->add_option("--train-text", bundle.train_text, "the training text (for its checksum)")
            ->required());
    flags::existing_file(
        c_bundle
            ->add_option("--valid-text", bundle.valid_text, "the held-out text (for its checksum)")
            ->default_str("none"));
    c_bundle->add_option("--command", bundle.command, "the command that trained the model")
        ->required();
    c_bundle->add_option("--commit", bundle.commit, "the project commit that trained it")
        ->default_str("none");
    flags::existing_file(c_bundle->add_option("--log", bundle.log, "the run's log.csv")
                             ->default_str("next to --from"));
    flags::output_folder(c_bundle->add_option("--to", bundle.out_dir, "output folder")->required());
    return c_bundle;
}

// The sub-commands of the experiments, by id; E4 and E6 take their models.
std::map<std::string, CLI::App*> add_experiments(CLI::App& app, std::vector<std::string>& extra,
                                                 std::vector<std::string>& ckpts) {
    std::map<std::string, CLI::App*> c;
    c["e4"] = app.add_subcommand("e4", "E4: past the trained context");
    flags::existing_path(c["e4"]
                             ->add_option("--extra-checkpoint", extra,
                                          "also test these models (e.g. learned/RoPE/ALiBi "
                                          "runs), each with its tokenizer in its folder")
                             ->default_str("none"));
    c["e6"] = app.add_subcommand("e6", "E6: collapse along training");
    flags::existing_path(
        c["e6"]
            ->add_option("--checkpoints", ckpts,
                         "checkpoints of one run, in order, or a folder of ckpt-*.safetensors")
            ->required());
    const std::map<std::string, std::string> help{
        {"e1", "E1: which decoders loop?"},
        {"e2", "E2: does uncertainty fall along a sample?"},
        {"e3", "E3: does repetition reinforce itself?"},
        {"e5", "E5: what happens at the end of a story?"},
        {"e7", "E7: temperature / top-p sweep"},
        {"e8", "E8: which remedies work, at what cost?"},
        {"e9", "E9: where do the loops come from?"}};
    for (const auto& [name, text] : help)
        c[name] = app.add_subcommand(name, text);
    return c;
}

// `lab all`: every experiment that has its inputs, and the report. The experiments are measured
// side by side (run_side_by_side: their decodes share the threads), then printed in their order,
// so the output does not depend on the thread count. The longest first (E9 builds its training
// index on one thread, E4's crop recomputes the context for every token), the shortest last.
int run_all(const LabSettings& s, const ExperimentInputs& inputs) {
    Lab lab(s);
    lab.human_stories(); // read (and encoded) once, before the experiments share the lab
    lab.train_stories();
    const bool human = !s.valid_text.empty();
    std::vector<std::string> ids;
    if (!s.train_text.empty())
        ids.push_back("e9");
    ids.insert(ids.end(), {"e4", "e1", "e7", "e8"});
    if (!inputs.checkpoints.empty())
        ids.push_back("e6");
    if (human)
        ids.insert(ids.end(), {"e5", "e2"});
    ids.push_back("e3");
    Measurements measured;
    std::vector<NamedPiece> pieces;
    for (const std::string& id : ids)
        pieces.push_back({id, [&, id] { measure_experiment(id, lab, measured, inputs); }});
    run_side_by_side(lab, "all experiments", pieces);
    std::vector<ExperimentResult> results;
    for (const char* id : {"e1", "e2", "e3", "e4", "e5", "e6", "e7", "e8", "e9"})
        if (std::find(ids.begin(), ids.end(), id) != ids.end()) {
            results.push_back(present_experiment(id, measured));
            emit(results.back(), s.out_dir);
        }
    const fs::path report = s.out_dir / "report.html";
    write_report(report, lab, nullptr, measured, results);
    std::printf("\nreport: %s\n", report.string().c_str());
    return 0;
}

// The settings from the common flags (after parsing).
void finish_settings(CommonFlags& f, bool bundle) {
    LabSettings& s = f.s;
    for (const std::string& file : f.prompt_files) {
        std::string text = flags::read_text_file("--file", file);
        while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
            text.pop_back(); // the line break an editor leaves at the end
        s.prompts.push_back(std::move(text));
    }
    s.checkpoint = !f.checkpoint.empty() ? fs::path(f.checkpoint)
                   : bundle              ? fs::path()
                            : project_files::find("models/tinystories-2.6m/model.safetensors",
                                                  "the bundled model", "pass --checkpoint MODEL");
    s.tokenizer = f.tokenizer;
    s.out_dir = f.out;
    s.valid_text = f.valid;
    s.train_text = f.train;
    s.progress = f.progress      ? ouro::examples::Progress::always
                 : f.no_progress ? ouro::examples::Progress::never
                                 : ouro::examples::Progress::automatic;
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"ouro collapse lab: reproduce, measure and explain decoding collapse"};
    // At most one; none is refused after parsing, so that a misspelt sub-command is named as an
    // unexpected argument rather than reported as a missing sub-command.
    app.require_subcommand(0, 1);
    app.fallthrough(); // the common flags may also follow the sub-command: lab demo --out x
    CommonFlags common;
    add_common(app, common);
    DemoSettings demo;
    CLI::App* c_demo = add_demo(app, demo);
    std::vector<std::string> extra, ckpts;
    const std::map<std::string, CLI::App*> c_experiments = add_experiments(app, extra, ckpts);
    auto* c_all = app.add_subcommand("all", "every experiment that has its inputs, and the report");
    flags::existing_path(c_all->add_option("--extra-checkpoint", extra, "models for E4 (see e4)")
                             ->default_str("none"));
    flags::existing_path(c_all->add_option("--checkpoints", ckpts, "checkpoints for E6 (see e6)")
                             ->default_str("none (E6 is left out)"));
    BundleSettings bundle;
    CLI::App* c_bundle = add_bundle(app, bundle);

    if (const std::optional<int> rc = flags::parse(app, "lab", argc, argv))
        return *rc;
    if (app.get_subcommands().empty())
        return flags::fail("lab", flags::UsageError("give a sub-command: demo, e1 ... e9, all or "
                                                    "bundle"));
    try {
        flags::apply_threads(common.threads);
        finish_settings(common, c_bundle->parsed());
        LabSettings& s = common.s;
        if (c_bundle->parsed()) {
            write_bundle(bundle);
            return 0;
        }
        if (c_demo->parsed()) {
            s.quick = true;
            return run_demo(s, demo);
        }
        const ExperimentInputs inputs{expand_checkpoints(extra), expand_checkpoints(ckpts)};
        if (c_all->parsed())
            return run_all(s, inputs);
        Lab lab(s);
        Measurements measured;
        for (const auto& [id, cmd] : c_experiments)
            if (cmd->parsed())
                emit(run_experiment(id, lab, measured, inputs), s.out_dir);
        return 0;
    } catch (const std::exception& e) {
        return flags::fail("lab", e);
    }
}
