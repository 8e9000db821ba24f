// SamplerChain: settings checks, the order string, the per-token loop over the stages, and the
// TokenDecision record.
#include "ouro/gen/sampler.hpp"

#include "checks.hpp"

#include "ouro/gen/search.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <string_view>

namespace ouro::gen {

namespace {

using Stage = detail::SamplerStage;
constexpr int stage_count = int(Stage::temperature) + 1;

constexpr const auto& stage_names = sampler_stage_names;

constexpr Stage penalties_group[] = {
    Stage::logit_bias, Stage::repetition_penalty, Stage::frequency_penalty, Stage::presence_penalty,
    Stage::dry,        Stage::no_repeat_ngram};

const char* name_of(Stage s) {
    return stage_names[std::size_t(s)];
}

std::string known_names() {
    std::string known = "penalties";
    for (const char* n : stage_names)
        known += std::string(", ") + n;
    return known;
}

bool active(Stage st, const SamplerSettings& s) {
    switch (st) {
    case Stage::logit_bias:
        return !s.logit_bias.empty();
    case Stage::repetition_penalty:
        return s.repetition_penalty != 1.0;
    case Stage::frequency_penalty:
        return s.frequency_penalty != 0.0;
    case Stage::presence_penalty:
        return s.presence_penalty != 0.0;
    case Stage::dry:
        return s.dry_multiplier > 0.0;
    case Stage::no_repeat_ngram:
        return s.no_repeat_ngram > 0;
    case Stage::top_n_sigma:
        return s.top_n_sigma > 0.0;
    case Stage::top_k:
        return s.top_k > 0;
    case Stage::typical:
        return s.typical < 1.0;
    case Stage::top_p:
        return s.top_p < 1.0;
    case Stage::min_p:
        return s.min_p > 0.0;
    case Stage::epsilon:
        return s.epsilon > 0.0;
    case Stage::eta:
        return s.eta > 0.0;
    case Stage::xtc:
        return s.xtc_probability > 0.0;
    case Stage::temperature:
        return s.temperature != 1.0 && s.temperature != 0.0;
    }
    return false;
}

using detail::format_number;

// "top_p is 0.9", for the error about a setting whose stage is missing from the order.
std::string setting_text(Stage st, const SamplerSettings& s) {
    switch (st) {
    case Stage::logit_bias:
        return "logit_bias has " + std::to_string(s.logit_bias.size()) + " entries";
    case Stage::repetition_penalty:
        return "repetition_penalty is " + format_number(s.repetition_penalty);
    case Stage::frequency_penalty:
        return "frequency_penalty is " + format_number(s.frequency_penalty);
    case Stage::presence_penalty:
        return "presence_penalty is " + format_number(s.presence_penalty);
    case Stage::dry:
        return "dry_multiplier is " + format_number(s.dry_multiplier);
    case Stage::no_repeat_ngram:
        return "no_repeat_ngram is " + std::to_string(s.no_repeat_ngram);
    case Stage::top_n_sigma:
        return "top_n_sigma is " + format_number(s.top_n_sigma);
    case Stage::top_k:
        return "top_k is " + std::to_string(s.top_k);
    case Stage::typical:
        return "typical is " + format_number(s.typical);
    case Stage::top_p:
        return "top_p is " + format_number(s.top_p);
    case Stage::min_p:
        return "min_p is " + format_number(s.min_p);
    case Stage::epsilon:
        return "epsilon is " + format_number(s.epsilon);
    case Stage::eta:
        return "eta is " + format_number(s.eta);
    case Stage::xtc:
        return "xtc_probability is " + format_number(s.xtc_probability);
    case Stage::temperature:
        return "temperature is " + format_number(s.temperature);
    }
    return "";
}

// "top_p(0.95)", "repetition_penalty(1.3, last 64)".
std::string describe_stage(Stage st, const SamplerSettings& s) {
    const std::string window =
        s.penalty_window > 0 ? ", last " + std::to_string(s.penalty_window) : "";
    const std::string name = name_of(st);
    switch (st) {
    case Stage::logit_bias:
        return name + "(" + std::to_string(s.logit_bias.size()) +
               (s.logit_bias.size() == 1 ? " token)" : " tokens)");
    case Stage::repetition_penalty:
        return name + "(" + format_number(s.repetition_penalty) + window + ")";
    case Stage::frequency_penalty:
        return name + "(" + format_number(s.frequency_penalty) + window + ")";
    case Stage::presence_penalty:
        return name + "(" + format_number(s.presence_penalty) + window + ")";
    case Stage::dry:
        return name + "(multiplier " + format_number(s.dry_multiplier) + ", base " +
               format_number(s.dry_base) + ", allowed_length " +
               std::to_string(s.dry_allowed_length) + window + ")";
    case Stage::no_repeat_ngram:
        return name + "(" + std::to_string(s.no_repeat_ngram) + ")";
    case Stage::top_n_sigma:
        return name + "(" + format_number(s.top_n_sigma) + ")";
    case Stage::top_k:
        return name + "(" + std::to_string(s.top_k) + ")";
    case Stage::typical:
        return name + "(" + format_number(s.typical) + ")";
    case Stage::top_p:
        return name + "(" + format_number(s.top_p) + ")";
    case Stage::min_p:
        return name + "(" + format_number(s.min_p) + ")";
    case Stage::epsilon:
        return name + "(" + format_number(s.epsilon) + ")";
    case Stage::eta:
        return name + "(" + format_number(s.eta) + ")";
    case Stage::xtc:
        return name + "(probability " + format_number(s.xtc_probability) + ", threshold " +
               format_number(s.xtc_threshold) + ")";
    case Stage::temperature:
        return name + "(" + format_number(s.temperature) + ")";
    }
    return name;
}

void validate(const SamplerSettings& s) {
    using namespace detail;
    check_at_least("temperature", s.temperature, 0.0);
    check_count("top_k", s.top_k);
    check_open_closed("top_p", s.top_p);
    check_closed("min_p", s.min_p);
    check_open_closed("typical", s.typical);
    check_closed_open("epsilon", s.epsilon);
    check_closed_open("eta", s.eta);
    check_at_least("top_n_sigma", s.top_n_sigma, 0.0);
    check_positive("mirostat_tau", s.mirostat_tau);
    check_positive("mirostat_eta", s.mirostat_eta);
    check_positive("repetition_penalty", s.repetition_penalty);
    check_count("penalty_window", s.penalty_window);
    check_finite("frequency_penalty", s.frequency_penalty);
    check_finite("presence_penalty", s.presence_penalty);
    check_count("no_repeat_ngram", s.no_repeat_ngram);
    check_at_least("dry_multiplier", s.dry_multiplier, 0.0);
    check_at_least("dry_base", s.dry_base, 1.0);
    if (s.dry_allowed_length < 1)
        bad_setting("dry_allowed_length", ">= 1", std::to_string(s.dry_allowed_length));
    check_closed("xtc_probability", s.xtc_probability);
    check_open_closed("xtc_threshold", s.xtc_threshold);
    for (const auto& [t, b] : s.logit_bias) {
        if (t < 0)
            throw ConfigError("sampler: logit_bias token " + std::to_string(t) + " is negative");
        if (!(b < INFINITY))
            throw ConfigError("sampler: logit_bias for token " + std::to_string(t) +
                              " must be finite or -inf, got " + format_number(b));
    }
    if (s.mirostat && is_greedy(s))
        throw ConfigError("sampler: mirostat cannot be combined with greedy decoding (greedy or "
                          "temperature 0)");
}

// The stages named by `order`, in its order, each once.
std::vector<Stage> parse_order(const std::string& order) {
    std::vector<Stage> listed;
    std::array<bool, stage_count> seen{};
    auto add = [&](Stage st) {
        if (seen[std::size_t(st)])
            throw ConfigError(std::string("sampler: stage '") + name_of(st) +
                              "' appears twice in the order '" + order + "'");
        seen[std::size_t(st)] = true;
        listed.push_back(st);
    };
    std::string_view rest = order;
    while (true) {
        const std::size_t comma = rest.find(',');
        std::string_view name = rest.substr(0, comma);
        while (!name.empty() && name.front() == ' ')
            name.remove_prefix(1);
        while (!name.empty() && name.back() == ' ')
            name.remove_suffix(1);
        if (name.empty())
            throw ConfigError("sampler: empty stage name in the order '" + order + "'");
        if (name == "penalties") {
            for (const Stage st : penalties_group)
                add(st);
        } else if (name == "greedy" || name == "sample" || name == "mirostat" ||
                   name == "mirostat_v2") {
            throw ConfigError("sampler: '" + std::string(name) +
                              "' is not a stage: the final step (sample, greedy or mirostat_v2) "
                              "follows from the settings greedy, temperature and mirostat");
        } else {
            const auto it = std::find(stage_names.begin(), stage_names.end(), name);
            if (it == stage_names.end())
                throw ConfigError("sampler: unknown stage '" + std::string(name) +
                                  "' (known: " + known_names() + ")");
            add(Stage(it - stage_names.begin()));
        }
        if (comma == std::string_view::npos)
            break;
        rest.remove_prefix(comma + 1);
    }
    return listed;
}

} // namespace

bool is_greedy(const SamplerSettings& settings) {
    return settings.greedy || settings.temperature == 0.0;
}

SamplerChain::SamplerChain(const SamplerSettings& s)
    : s_(s), mirostat_(s.mirostat_tau, s.mirostat_eta, s.mirostat_surprise) {}

SamplerChain SamplerChain::from_settings(const SamplerSettings& s, const std::string& order) {
    validate(s);
    const bool blank = order.find_first_not_of(' ') == std::string::npos;
    const std::vector<Stage> listed = parse_order(blank ? default_sampler_order : order);
    std::array<bool, stage_count> in_order{};
    for (const Stage st : listed)
        in_order[std::size_t(st)] = true;
    for (int i = 0; i < stage_count; ++i)
        if (!in_order[std::size_t(i)] && active(Stage(i), s))
            throw ConfigError("sampler: " + setting_text(Stage(i), s) + " but the order '" + order +
                              "' has no '" + name_of(Stage(i)) + "' stage");

    SamplerChain chain(s);
    for (const Stage st : listed)
        if (active(st, s)) {
            chain.stages_.push_back(st);
            chain.description_ += describe_stage(st, s) + " -> ";
        }
    if (s.mirostat) {
        chain.selection_ = Selection::mirostat;
        chain.description_ +=
            "mirostat_v2(tau " + format_number(s.mirostat_tau) + ", eta " +
            format_number(s.mirostat_eta) +
            (s.mirostat_surprise == MirostatSurprise::raw ? ", raw surprise)" : ")");
    } else if (is_greedy(s)) {
        chain.selection_ = Selection::greedy;
        chain.description_ += "greedy";
    } else {
        chain.description_ += "sample";
    }
    return chain;
}

void SamplerChain::reset() {
    mirostat_.reset();
}

void SamplerChain::set_alternatives(std::int64_t n) {
    detail::check_count("alternatives", n);
    alternatives_ = n;
}

std::string SamplerChain::describe() const {
    return description_;
}

void SamplerChain::apply(Stage stage, std::span<const std::int32_t> history,
                         std::span<const std::int32_t> window, Rng& rng) {
    const auto count = [&] {
        if (!counted_)
            counts_.build(window, c_.vocab_size());
        counted_ = true;
    };
    switch (stage) {
    case Stage::logit_bias:
        gen::logit_bias(c_, s_.logit_bias);
        break;
    case Stage::repetition_penalty:
        count();
        gen::repetition_penalty(c_, counts_, s_.repetition_penalty);
        break;
    case Stage::frequency_penalty:
        count();
        gen::frequency_penalty(c_, counts_, s_.frequency_penalty);
        break;
    case Stage::presence_penalty:
        count();
        gen::presence_penalty(c_, counts_, s_.presence_penalty);
        break;
    case Stage::dry:
        gen::dry(c_, dry_.compute(window, c_.vocab_size()), s_.dry_multiplier, s_.dry_base,
                 s_.dry_allowed_length);
        break;
    case Stage::no_repeat_ngram:
        gen::no_repeat_ngram(c_, history, s_.no_repeat_ngram);
        break;
    case Stage::top_n_sigma:
        gen::top_n_sigma(c_, s_.top_n_sigma);
        break;
    case Stage::top_k:
        gen::top_k(c_, s_.top_k);
        break;
    case Stage::typical:
        gen::typical(c_, s_.typical);
        break;
    case Stage::top_p:
        gen::top_p(c_, s_.top_p);
        break;
    case Stage::min_p:
        gen::min_p(c_, s_.min_p);
        break;
    case Stage::epsilon:
        gen::epsilon(c_, s_.epsilon);
        break;
    case Stage::eta:
        gen::eta(c_, s_.eta);
        break;
    case Stage::xtc:
        gen::xtc(c_, s_.xtc_probability, s_.xtc_threshold, rng);
        break;
    case Stage::temperature:
        gen::temperature(c_, s_.temperature);
        break;
    }
}

std::int32_t SamplerChain::sample(std::span<const float> logits,
                                  std::span<const std::int32_t> history, Rng& rng,
                                  TokenDecision* decision) {
    c_.assign(logits);
    const std::int64_t V = c_.vocab_size();
    for (std::size_t i = 0; i < history.size(); ++i)
        if (history[i] < 0 || history[i] >= V)
            throw ConfigError("sampler: history token " + std::to_string(history[i]) +
                              " at position " + std::to_string(i) +
                              " is outside the vocabulary (V = " + std::to_string(V) + ")");
    const std::size_t n = std::size_t(s_.penalty_window);
    const std::span<const std::int32_t> window =
        n > 0 && n < history.size() ? history.last(n) : history;
    counted_ = false;

    // For changed_by: is the raw argmax still the argmax after each stage?
    std::int32_t raw_best = -1;
    bool best_now = true;
    const char* demoted_by = nullptr;
    if (decision)
        raw_best = c_.id(c_.argmax());
    for (const Stage st : stages_) {
        apply(st, history, window, rng);
        if (decision) {
            const std::int64_t p = c_.find(raw_best);
            const bool best = p >= 0 && c_.argmax() == p;
            if (best_now && !best)
                demoted_by = name_of(st);
            else if (best)
                demoted_by = nullptr;
            best_now = best;
        }
    }

    std::int64_t pos = 0;
    const char* selection = "sample";
    switch (selection_) {
    case Selection::greedy:
        pos = select_greedy(c_);
        selection = "greedy";
        break;
    case Selection::sample:
        pos = select_sample(c_, rng);
        break;
    case Selection::mirostat:
        pos = mirostat_.select(c_, rng);
        selection = "mirostat_v2";
        break;
    }
    const std::int32_t token = c_.id(pos);
    if (decision) {
        fill_raw_decision(logits, token, *decision, alternatives_);
        decision->prob_final = c_.probability(pos);
        decision->entropy_final = c_.entropy();
        decision->changed_by.assign(token == raw_best ? "" : demoted_by ? demoted_by : selection);
    }
    return token;
}

} // namespace ouro::gen
