// A strict little XML well-formedness check for the writers' tests: every start tag is closed
// (or self-closed) in order, attribute values are quoted, '<' and '&' appear in text only as
// markup and entity references. Returns the first problem, or "" when there is none. Also the
// count of a string's occurrences in a document, which the writers' tests ask often.
#pragma once

#include <cctype>
#include <string>
#include <string_view>
#include <vector>

namespace ouro::testing {

/// How many times `what` occurs in s (overlapping occurrences count).
inline std::size_t count(const std::string& s, const std::string& what) {
    std::size_t n = 0;
    for (auto at = s.find(what); at != std::string::npos; at = s.find(what, at + 1))
        ++n;
    return n;
}

inline std::string xml_problem(std::string_view x) {
    std::vector<std::string> stack;
    std::size_t i = 0;
    auto entity_ok = [&](std::size_t at) {
        const std::size_t semi = x.find(';', at);
        if (semi == std::string_view::npos || semi - at > 8)
            return false;
        const std::string_view e = x.substr(at + 1, semi - at - 1);
        if (e == "amp" || e == "lt" || e == "gt" || e == "quot" || e == "apos")
            return true;
        if (e.size() >= 2 && e[0] == '#') {
            for (std::size_t k = 1; k < e.size(); ++k)
                if (!std::isdigit(static_cast<unsigned char>(e[k])))
                    return false;
            return true;
        }
        return false;
    };
    while (i < x.size()) {
        if (x[i] == '&') {
            if (!entity_ok(i))
                return "bad entity at " + std::to_string(i);
            ++i;
            continue;
        }
        if (x[i] != '<') {
            ++i;
            continue;
        }
        if (x.substr(i, 2) == "<?") {
            const auto end = x.find("?>", i);
            if (end == std::string_view::npos)
                return "unterminated <?";
            i = end + 2;
            continue;
        }
        const bool closing = x.substr(i, 2) == "</";
        std::size_t j = i + (closing ? 2 : 1);
        const std::size_t name_start = j;
        while (j < x.size() &&
               (std::isalnum(static_cast<unsigned char>(x[j])) || x[j] == ':' || x[j] == '-'))
            ++j;
        const std::string name(x.substr(name_start, j - name_start));
        if (name.empty())
            return "'<' without a tag name at " + std::to_string(i);
        if (closing) {
            if (j >= x.size() || x[j] != '>')
                return "bad end tag </" + name;
            if (stack.empty() || stack.back() != name)
                return "</" + name + "> does not close " + (stack.empty() ? "" : stack.back());
            stack.pop_back();
            i = j + 1;
            continue;
        }
        bool self_closing = false;
        while (true) {
            while (j < x.size() && std::isspace(static_cast<unsigned char>(x[j])))
                ++j;
            if (j >= x.size())
                return "unterminated <" + name;
            if (x[j] == '>') {
                ++j;
                break;
            }
            if (x.substr(j, 2) == "/>") {
                self_closing = true;
                j += 2;
                break;
            }
            const std::size_t a = j;
            while (j < x.size() &&
                   (std::isalnum(static_cast<unsigned char>(x[j])) || x[j] == '-' || x[j] == ':'))
                ++j;
            if (j == a || j + 1 >= x.size() || x[j] != '=' || x[j + 1] != '"')
                return "bad attribute in <" + name + "> at " + std::to_string(a);
            const std::size_t close = x.find('"', j + 2);
            if (close == std::string_view::npos)
                return "unterminated attribute in <" + name;
            for (std::size_t k = j + 2; k < close; ++k) {
                if (x[k] == '<')
                    return "'<' in an attribute of <" + name;
                if (x[k] == '&' && !entity_ok(k))
                    return "bad entity in an attribute of <" + name;
            }
            j = close + 1;
        }
        if (!self_closing)
            stack.push_back(name);
        i = j;
    }
    if (!stack.empty())
        return "<" + stack.back() + "> is not closed";
    return "";
}

} // namespace ouro::testing
