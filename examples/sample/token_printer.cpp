// TokenPrinter: plain or coloured streaming of generated tokens (see token_printer.hpp).
#include "token_printer.hpp"

#include <array>
#include <cstdlib>
#include <utility>

#include <unistd.h>

namespace sample {

namespace {

// Probability bands and their ANSI 256-colour backgrounds, from unlikely (dark red) to likely
// (dark green); white text reads on all of them.
struct Band {
    double below; // upper end of the band (exclusive)
    int background;
    const char* label;
};
constexpr std::array<Band, 6> bands{{{0.01, 52, "p<0.01"},
                                     {0.05, 88, "<0.05"},
                                     {0.2, 130, "<0.2"},
                                     {0.5, 100, "<0.5"},
                                     {0.8, 28, "<0.8"},
                                     {2.0, 22, ">=0.8"}}};

constexpr const char* reset = "\x1b[0m";
// Underlined, with a red underline where the terminal supports underline colours (SGR 58).
constexpr const char* repeat_style = "\x1b[1;4m\x1b[58;5;196m";

std::string band_style(const Band& b) {
    return "\x1b[38;5;231;48;5;" + std::to_string(b.background) + "m";
}

std::string band_style(double p) {
    for (const Band& b : bands)
        if (p < b.below)
            return band_style(b);
    return band_style(bands.back());
}

// The length of the longest prefix of `s` that does not end inside a UTF-8 character (invalid
// bytes count as complete: they are passed through).
std::size_t complete_utf8_prefix(std::string_view s) {
    const std::size_t n = s.size();
    for (std::size_t back = 1; back <= 3 && back <= n; ++back) {
        const auto byte = static_cast<unsigned char>(s[n - back]);
        if ((byte & 0xC0) == 0x80)
            continue; // a continuation byte: look further back for the lead byte
        const std::size_t need = (byte & 0xE0) == 0xC0   ? 2
                                 : (byte & 0xF0) == 0xE0 ? 3
                                 : (byte & 0xF8) == 0xF0 ? 4
                                                         : 1;
        return need > back ? n - back : n;
    }
    return n;
}

} // namespace

bool use_color(std::string_view mode, std::FILE* stream) {
    if (mode == "always")
        return true;
    if (mode == "never")
        return false;
    const char* no_color = std::getenv("NO_COLOR");
    return isatty(fileno(stream)) != 0 && (no_color == nullptr || *no_color == '\0');
}

std::string TokenPrinter::legend() const {
    if (!color_)
        return "";
    std::string line = "colours: p of each token under the model ";
    for (const Band& b : bands)
        line += band_style(b) + " " + b.label + " " + reset;
    // On a line of its own: both together are wider than 100 columns.
    line += "\n         " + std::string(repeat_style) + "underlined" + reset +
            ": extends a 4-gram seen before";
    return line;
}

void TokenPrinter::plain(std::string_view text) {
    std::fwrite(text.data(), 1, text.size(), out_);
    std::fflush(out_);
}

void TokenPrinter::start(std::vector<std::string> stops) {
    stops_ = ouro::gen::StopStrings(std::move(stops));
}

void TokenPrinter::token(std::string_view text, double prob, bool repeats_4gram) {
    last_prob_ = prob;
    last_repeats_ = repeats_4gram;
    stops_.push(text);
    write_token(stops_.take_settled(), prob, repeats_4gram);
}

void TokenPrinter::write_token(std::string_view text, double prob, bool repeats_4gram) {
    if (!color_) {
        plain(text);
        return;
    }
    pending_.append(text);
    const std::size_t ready = complete_utf8_prefix(pending_);
    std::string style = band_style(prob);
    if (repeats_4gram)
        style += repeat_style;
    write_styled(std::string_view(pending_).substr(0, ready), style);
    pending_.erase(0, ready);
    std::fflush(out_);
}

void TokenPrinter::finish() {
    write_token(stops_.take_rest(), last_prob_, last_repeats_);
    stops_ = ouro::gen::StopStrings();
    std::fwrite(pending_.data(), 1, pending_.size(), out_);
    pending_.clear();
    std::fputc('\n', out_);
    std::fflush(out_);
}

void TokenPrinter::write_styled(std::string_view text, const std::string& style) {
    // Line breaks go out uncoloured, so a background never fills the rest of a line.
    while (!text.empty()) {
        const std::size_t nl = text.find('\n');
        const std::string_view part = text.substr(0, nl);
        if (!part.empty())
            std::fprintf(out_, "%s%.*s%s", style.c_str(), int(part.size()), part.data(), reset);
        if (nl == std::string_view::npos)
            break;
        std::fputc('\n', out_);
        text.remove_prefix(nl + 1);
    }
}

} // namespace sample
