// The report's definitions of columns and metrics (see glossary.hpp). One line each, in words a
// reader without the papers understands; the papers are named for those who want them.
#include "glossary.hpp"

#include <algorithm>
#include <map>

namespace collapse {

namespace {

// Columns that name what a row is about; they need no definition.
const std::vector<std::string>& label_columns() {
    static const std::vector<std::string> labels = {"decoder", "prompt", "model",  "checkpoint",
                                                    "step",    "sweep",  "metric", "value"};
    return labels;
}

const std::map<std::string, std::string>& glossary() {
    static const std::map<std::string, std::string> g = {
        // Repetition within a sample.
        {"rep-2", "Percent of a sample's token pairs that already appeared earlier in it "
                  "(Su et al. 2022)."},
        {"rep-3", "The same for runs of 3 tokens."},
        {"rep-4", "The same for runs of 4 tokens."},
        {"diversity", "(1 - rep-2/100) x (1 - rep-3/100) x (1 - rep-4/100): 1 when no phrase "
                      "repeats, 0 when everything does."},
        {"seq-rep-4", "Share of a sample's runs of 4 tokens that repeat an earlier run (Welleck "
                      "et al. 2019): 0 is no repetition, near 1 is a loop."},
        {"seq-rep-4 last 200", "seq-rep-4 of the last 200 tokens only."},
        {"holtzman%", "Holtzman's test (Holtzman et al. 2020): percent of samples that end with "
                      "one phrase of 3 or more tokens repeated back to back."},
        {"holtzman loop", "Whether the sample ends with one phrase repeated back to back "
                          "(Holtzman's test)."},
        {"phrase x copies", "The length of that phrase in tokens, and how many copies of it end "
                            "the sample."},
        {"loop%", "Percent of samples that end in a loop: one run of tokens repeated at least 3 "
                  "times, up to the end."},
        {"loop %", "Percent of samples that end in a loop: one run of tokens repeated at least 3 "
                   "times, up to the end."},
        {"loop-onset", "Mean position (tokens after the prompt) where that final loop starts."},
        {"loop onset", "Position (tokens after the prompt) where the final loop starts."},
        {"mean loop onset", "Mean position (tokens after the prompt) where the greedy samples' "
                            "final loop starts."},
        {"period", "Length in tokens of the phrase that repeats."},
        // Variety across samples.
        {"distinct-1", "Different tokens divided by all tokens, over all samples: lower means "
                       "fewer words in use."},
        {"distinct-2", "The same for token pairs."},
        {"zipf", "How steeply word frequency falls with rank (the slope on log-log axes): "
                 "larger means a few words dominate; human text is near 1."},
        {"self-bleu4", "How much each sample shares 4-token phrases with the others (Zhu et al. "
                       "2018): 1 when all samples are alike."},
        // The model's view of the text.
        {"nll", "Mean surprise of the model at the tokens it produced, -ln p in nats: low is "
                "predictable text."},
        {"entropy", "Mean uncertainty of the model's next-token choice, in nats: 0 is certain."},
        {"mean entropy (nats)", "Mean uncertainty of the model's next-token choice over this "
                                "part: 0 is certain."},
        {"mean p(token)", "Mean probability the model gave the token it chose in this part."},
        {"window start", "First position of the window of positions averaged in this row."},
        {"H human", "Uncertainty (entropy, nats) of the next-token choice on human stories."},
        {"H greedy", "The same on the model's greedy text."},
        {"H T=1", "The same on text sampled at temperature 1."},
        {"NLL human", "Surprise (-ln p, nats) at the token that actually came, on human stories."},
        {"NLL greedy", "The same on the model's greedy text."},
        {"NLL T=1", "The same on text sampled at temperature 1."},
        // Self-reinforcement (Xu et al. 2022, "Learning to break the loop").
        {"copy", "Which copy of the repeated sentence (1 is the first)."},
        {"TP story", "Token probability: mean probability of a story sentence's tokens in this "
                     "copy (Xu et al. 2022)."},
        {"IP story", "Increase rate: share of its tokens more probable than in the first copy."},
        {"WR story", "Winner rate: share of its tokens more probable than in the first copy and "
                     "also the model's first choice."},
        {"TP random", "TP for a sentence of random tokens."},
        {"IP random", "IP for a sentence of random tokens."},
        {"WR random", "WR for a sentence of random tokens."},
        // Past the trained context.
        {"positions", "How the model knows where a token is: learned (GPT-2), RoPE or ALiBi."},
        {"policy", "What the model sees past its trained context: stop, crop (recompute the last "
                   "window), slide (a sliding cache) or sinks (a sliding cache that keeps the "
                   "first tokens)."},
        {"tf nll first block", "Surprise (-ln p, nats) at human text inside the trained context."},
        {"tf nll past block", "The same past the trained context."},
        {"greedy seq-rep-4 first", "seq-rep-4 of greedy text inside the trained context."},
        {"greedy seq-rep-4 past", "seq-rep-4 of greedy text past the trained context."},
        {"greedy loop% past", "Percent of greedy samples whose part past the trained context "
                              "ends in a loop."},
        {"top-p seq-rep-4 first", "seq-rep-4 of nucleus-sampled text inside the context."},
        {"top-p seq-rep-4 past", "seq-rep-4 of nucleus-sampled text past the context."},
        {"top-p loop% past", "Percent of nucleus samples whose part past the context loops."},
        // The end of a story.
        {"end token", "Whether the end-of-story token stops the sample or is never chosen."},
        {"samples", "Number of samples."},
        {"tokens", "Generated tokens kept for this row."},
        {"mean tokens", "Mean generated tokens per sample."},
        {"ended %", "Percent of samples that stopped at the end-of-story token."},
        {"natural end", "Where the end-of-story token was first the model's top choice (tokens "
                        "after the prompt)."},
        {"natural end found %", "Percent of samples where the end-of-story token was at some "
                                "point the model's top choice."},
        {"mean natural end", "Mean position of that point (tokens after the prompt)."},
        {"seq-rep-4 before end", "seq-rep-4 of the text before that point."},
        {"seq-rep-4 after end", "seq-rep-4 of the text after it."},
        {"loop onset - end", "Tokens from that point to the start of the final loop."},
        // Along training.
        {"val loss", "Mean surprise (-ln p, nats) at held-out human stories: lower is a better "
                     "model."},
        {"rep/128", "Human text fed in: share of the model's top next-token choices that repeat "
                    "one of the previous 128 tokens (Welleck et al. 2020)."},
        {"wrep/128", "The same, counting only top choices that are also wrong (not the next "
                     "token of the human text)."},
        {"human rep/128", "Share of next tokens in human text that repeat one of the previous "
                          "128 tokens: the level to compare with."},
        {"greedy seq-rep-4", "seq-rep-4 of greedy samples."},
        // The training data.
        {"loop unit", "The phrase a sample loops on."},
        {"count in training data", "How often the phrase occurs in the training stories."},
        {"per million", "Occurrences per million phrases of its length in the training stories."},
        {"stories containing it", "Training stories that contain the phrase."},
        {"stories %", "Percent of the training stories that contain it."},
    };
    return g;
}

} // namespace

std::string definition(const std::string& column) {
    const auto it = glossary().find(column);
    return it == glossary().end() ? std::string() : it->second;
}

std::vector<std::pair<std::string, std::string>>
definitions(const std::vector<std::string>& columns) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const std::string& c : columns)
        if (const std::string d = definition(c); !d.empty())
            out.emplace_back(c, d);
    return out;
}

std::vector<std::string> undefined_columns(const std::vector<std::string>& columns) {
    std::vector<std::string> out;
    const auto& labels = label_columns();
    for (const std::string& c : columns)
        if (definition(c).empty() && std::find(labels.begin(), labels.end(), c) == labels.end())
            out.push_back(c);
    return out;
}

} // namespace collapse
