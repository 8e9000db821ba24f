// `lab bundle`: a training checkpoint becomes a model to ship: weights only, in IEEE half
// precision (sampling widens them to float), the tokenizer beside it, and a provenance file that
// says how it was made (command, data checksums, config, final losses, project commit).
#include "demo.hpp"

#include <ouro/core/atomic_file.hpp>
#include <ouro/core/error.hpp>
#include <ouro/data/sha256.hpp>
#include <ouro/io/checkpoint.hpp>
#include <ouro/io/model_bundle.hpp>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace collapse {

namespace {

// Last train loss (mean of the last 20 logged steps, as one step is noisy) and last val loss of
// a training log.csv (step,loss,val_loss,...).
struct FinalLosses {
    double train = std::nan(""), val = std::nan("");
    std::int64_t val_step = -1;
};

FinalLosses read_log(const fs::path& log) {
    std::ifstream in(log);
    if (!in)
        throw ouro::IoError("bundle: cannot read the training log " + log.string());
    std::string line;
    std::getline(in, line);
    if (line.rfind("step,loss,val_loss", 0) != 0)
        throw ouro::FormatError(log.string() + ": not a training log (header '" + line + "')");
    std::vector<double> losses;
    FinalLosses f;
    while (std::getline(in, line)) {
        std::stringstream ss(line);
        std::string step, loss, val;
        std::getline(ss, step, ',');
        std::getline(ss, loss, ',');
        std::getline(ss, val, ',');
        if (!loss.empty())
            losses.push_back(std::stod(loss));
        if (!val.empty()) {
            f.val = std::stod(val);
            f.val_step = std::stoll(step);
        }
    }
    if (losses.empty())
        throw ouro::FormatError(log.string() + ": no logged steps");
    const std::size_t n = std::min<std::size_t>(20, losses.size());
    double s = 0;
    for (std::size_t i = losses.size() - n; i < losses.size(); ++i)
        s += losses[i];
    f.train = s / double(n);
    return f;
}

} // namespace

void write_bundle(const BundleSettings& b) {
    const fs::path out(b.out_dir);
    const fs::path data =
        b.data_dir.empty() ? ouro::io::find_tokenizer(b.checkpoint) : fs::path(b.data_dir);
    ouro::io::ModelBundle m = ouro::io::load_model_bundle(b.checkpoint, data);
    const fs::path log =
        b.log.empty() ? fs::path(b.checkpoint).parent_path() / "log.csv" : fs::path(b.log);
    const FinalLosses losses = read_log(log);
    fs::create_directories(out);
    ouro::io::TrainingState state = m.state;
    state.data_position.clear(); // a sampling model does not resume training
    ouro::io::save_checkpoint((out / "model.safetensors").string(), *m.model, nullptr, state,
                              ouro::io::DType::F16);
    m.tokenizer.save(out);

    nlohmann::ordered_json p;
    p["model"] = "model.safetensors";
    p["weights"] = "F16 (IEEE half), widened to float when loaded";
    p["parameters"] = m.model->num_parameters();
    p["config"] = nlohmann::json::parse(ouro::io::config_to_json(m.config));
    p["step"] = m.state.step;
    p["tokenizer"] = state.tokenizer;
    p["train_text"] = {{"path", b.train_text}, {"sha256", ouro::data::sha256_file(b.train_text)}};
    if (!b.valid_text.empty())
        p["valid_text"] = {{"path", b.valid_text},
                           {"sha256", ouro::data::sha256_file(b.valid_text)}};
    p["final_train_loss_mean_last_20_steps"] = losses.train;
    p["final_val_loss"] = losses.val;
    p["final_val_loss_step"] = losses.val_step;
    p["command"] = b.command;
    p["project_commit"] = b.commit.empty() ? "unknown" : b.commit;
    p["training_settings"] = nlohmann::json::parse(m.state.metadata_value("train_config").empty()
                                                       ? std::string("{}")
                                                       : m.state.metadata_value("train_config"));
    ouro::write_file_atomic(out / "provenance.json", p.dump(2) + "\n");
    std::printf("wrote %s (F16, %lld parameters) with its tokenizer and provenance.json\n",
                (out / "model.safetensors").string().c_str(), (long long)m.model->num_parameters());
}

} // namespace collapse
