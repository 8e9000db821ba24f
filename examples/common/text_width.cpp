// Wrapping text and --help to the terminal width; see text_width.hpp.
#include "common/text_width.hpp"

#include <memory>

namespace flags {

std::size_t width_of(std::string_view text) {
    std::size_t n = 0;
    for (const char c : text)
        n += (static_cast<unsigned char>(c) & 0xC0) != 0x80; // not a continuation byte
    return n;
}

namespace {

std::string wrap_line(std::string_view line, std::size_t width, std::size_t indent) {
    const std::size_t lead = line.find_first_not_of(' ') == std::string_view::npos
                                 ? line.size()
                                 : line.find_first_not_of(' ');
    const std::string margin(lead + indent, ' ');
    std::string out(line.substr(0, lead));
    std::size_t used = lead;
    bool first_word = true;
    std::size_t i = lead;
    while (i < line.size()) {
        const std::size_t end = std::min(line.find(' ', i), line.size());
        const std::string_view word = line.substr(i, end - i);
        if (!word.empty()) {
            const std::size_t w = width_of(word);
            if (!first_word && used + 1 + w > width) {
                out += '\n' + margin;
                used = margin.size();
            } else if (!first_word) {
                out += ' ';
                ++used;
            }
            out += word;
            used += w;
            first_word = false;
        }
        i = end + 1;
    }
    return out;
}

// CLI11's formatter with the names and descriptions broken to fit: a name with its type and
// default too long for one line continues on the next, 4 columns in; a description is wrapped
// within the description column.
class FittingFormatter : public CLI::Formatter {
public:
    std::string make_option(const CLI::Option* opt, bool is_positional) const override {
        std::string out =
            wrap("  " + make_option_name(opt, is_positional) + make_option_opts(opt), columns, 4);
        const std::string desc = make_option_desc(opt);
        if (!desc.empty()) {
            const std::size_t last = out.rfind('\n') == std::string::npos ? 0 : out.rfind('\n') + 1;
            const std::size_t used = width_of(std::string_view(out).substr(last));
            if (used >= column_width_ || last > 0)
                out += '\n' + std::string(column_width_, ' ');
            else
                out += std::string(column_width_ - used, ' ');
            for (const char c : desc)
                out += c == '\n' ? '\n' + std::string(column_width_, ' ') : std::string(1, c);
        }
        return out + '\n';
    }
    std::string make_option_desc(const CLI::Option* opt) const override {
        const std::size_t room = columns > column_width_ + 20 ? columns - column_width_ : 20;
        return wrap(CLI::Formatter::make_option_desc(opt), room);
    }
    std::string make_description(const CLI::App* app) const override {
        return wrap(CLI::Formatter::make_description(app), columns);
    }
    std::string make_footer(const CLI::App* app) const override {
        return wrap(CLI::Formatter::make_footer(app), columns);
    }
};

} // namespace

std::string wrap(std::string_view text, std::size_t width, std::size_t indent) {
    std::string out;
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t end = std::min(text.find('\n', start), text.size());
        const std::string_view line = text.substr(start, end - start);
        out += width_of(line) > width ? wrap_line(line, width, indent) : std::string(line);
        if (end == text.size())
            break;
        out += '\n';
        start = end + 1;
    }
    return out;
}

void fit_help(CLI::App& app) {
    static const auto formatter = std::make_shared<FittingFormatter>();
    app.formatter(formatter);
    for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; }))
        fit_help(*sub);
}

} // namespace flags
