// The settings of a training run as JSON (saved in every checkpoint) and their checks; see
// trainer.hpp.
#include "trainer.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>

namespace ouro::train {
using Json = nlohmann::ordered_json;

std::string TrainSettings::to_json() const {
    Json j;
    j["data_dir"] = data_dir;
    j["synthetic"] = synthetic;
    j["synthetic_vocab"] = synthetic_vocab;
    j["init"] = init;
    j["model"] = Json::parse(io::config_to_json(model));
    j["batch_size"] = batch_size;
    j["grad_accum"] = grad_accum;
    j["steps"] = steps;
    j["lr"] = lr;
    j["min_lr"] = min_lr;
    j["warmup"] = warmup;
    j["lr_decay_steps"] = lr_decay_steps;
    j["weight_decay"] = weight_decay;
    j["beta1"] = beta1;
    j["beta2"] = beta2;
    j["clip"] = clip;
    j["seed"] = seed;
    j["eval_every"] = eval_every;
    j["eval_batches"] = eval_batches;
    j["sample_every"] = sample_every;
    j["sample_tokens"] = sample_tokens;
    j["checkpoint_every"] = checkpoint_every;
    j["out_dir"] = out_dir;
    j["log_path"] = log_path;
    return j.dump();
}

TrainSettings TrainSettings::from_json(const std::string& text) {
    TrainSettings s;
    Json j;
    try {
        j = Json::parse(text);
        s.data_dir = j.at("data_dir").get<std::string>();
        s.synthetic = j.at("synthetic").get<bool>();
        s.synthetic_vocab = j.at("synthetic_vocab").get<std::int64_t>();
        // Written since --init exists; a run saved before it started from scratch.
        s.init = j.value("init", std::string());
        s.model = io::config_from_json(j.at("model").dump(), "training settings");
        s.batch_size = j.at("batch_size").get<std::int64_t>();
        s.grad_accum = j.at("grad_accum").get<std::int64_t>();
        s.steps = j.at("steps").get<std::int64_t>();
        s.lr = j.at("lr").get<double>();
        s.min_lr = j.at("min_lr").get<double>();
        s.warmup = j.at("warmup").get<std::int64_t>();
        s.lr_decay_steps = j.at("lr_decay_steps").get<std::int64_t>();
        s.weight_decay = j.at("weight_decay").get<double>();
        s.beta1 = j.at("beta1").get<double>();
        s.beta2 = j.at("beta2").get<double>();
        s.clip = j.at("clip").get<double>();
        s.seed = j.at("seed").get<std::uint64_t>();
        s.eval_every = j.at("eval_every").get<std::int64_t>();
        s.eval_batches = j.at("eval_batches").get<std::int64_t>();
        s.sample_every = j.at("sample_every").get<std::int64_t>();
        s.sample_tokens = j.at("sample_tokens").get<std::int64_t>();
        s.checkpoint_every = j.at("checkpoint_every").get<std::int64_t>();
        s.out_dir = j.at("out_dir").get<std::string>();
        s.log_path = j.at("log_path").get<std::string>();
    } catch (const nlohmann::json::exception& e) {
        throw ConfigError(std::string("training settings: ") + e.what());
    } catch (const FormatError& e) {
        throw ConfigError(e.what());
    }
    return s;
}

namespace {

// A learning rate as the user wrote it ("0.001", "1e+300"), not std::to_string's 300 digits.
std::string number(double v) {
    char text[32];
    std::snprintf(text, sizeof text, "%g", v);
    return text;
}

} // namespace

void TrainSettings::validate() const {
    auto at_least = [](const char* name, std::int64_t v, std::int64_t min) {
        if (v < min)
            throw ConfigError(std::string("--") + name + " must be at least " +
                              std::to_string(min) + ", got " + std::to_string(v));
    };
    at_least("batch-size", batch_size, 1);
    at_least("grad-accum", grad_accum, 1);
    at_least("steps", steps, 1);
    at_least("warmup", warmup, 0);
    at_least("eval-every", eval_every, 0);
    at_least("eval-batches", eval_batches, 1);
    at_least("sample-every", sample_every, 0);
    at_least("checkpoint-every", checkpoint_every, 0);
    if (synthetic)
        at_least("synthetic-vocab", synthetic_vocab, 2);
    if (!synthetic && data_dir.empty())
        throw ConfigError("give --data DIR (made by prepare) or --synthetic");
    if (!(lr >= 0.0) || !(min_lr >= 0.0) || min_lr > lr)
        throw ConfigError("need 0 <= --min-lr <= --lr, got " + number(min_lr) + " and " +
                          number(lr));
    if (!(clip >= 0.0))
        throw ConfigError("--clip must be >= 0 (0 = off)");
}

} // namespace ouro::train
