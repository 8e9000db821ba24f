// TinyStories readers: the text format with "<|endoftext|>" separator lines, and the JSON shards.
#include "ouro/data/tinystories.hpp"

#include "ouro/core/atomic_file.hpp"
#include "ouro/core/error.hpp"
#include "ouro/core/file_checks.hpp"
#include "ouro/data/tokenizer.hpp"

#include "json_error.hpp"

#include <cerrno>
#include <cstring>

namespace ouro::data {

namespace {

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_space(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && is_space(s.back()))
        s.remove_suffix(1);
    return s;
}

bool is_separator(std::string_view line) {
    return trim(line) == end_of_text;
}

// Moves the story collected in `pending` into `story`, without its surrounding whitespace; false
// (and nothing moved) when it is empty.
bool take_story(std::string& pending, std::string& story) {
    const std::string_view t = trim(pending);
    const bool any = !t.empty();
    if (any)
        story.assign(t);
    pending.clear();
    return any;
}

// Adds one line (without its '\n') to the story being collected in `pending`; a separator line
// ends it. Returns true when a non-empty story was completed into `story`.
bool add_line(std::string& pending, std::string_view line, std::string& story) {
    if (is_separator(line))
        return take_story(pending, story);
    pending.append(line);
    pending += '\n';
    return false;
}

} // namespace

std::vector<std::string> split_stories(std::string_view text) {
    std::vector<std::string> stories;
    std::string pending, story;
    for (std::size_t pos = 0; pos < text.size();) {
        std::size_t end = text.find('\n', pos);
        if (end == std::string_view::npos)
            end = text.size();
        if (add_line(pending, text.substr(pos, end - pos), story))
            stories.push_back(std::move(story));
        pos = end + 1;
    }
    if (take_story(pending, story))
        stories.push_back(std::move(story));
    return stories;
}

std::vector<std::string> read_stories_txt(const std::filesystem::path& path) {
    return split_stories(read_file(path, "read_stories_txt"));
}

std::vector<std::string> parse_stories_json(std::string_view json, std::string_view name) {
    const std::string where = std::string(name) + ": ";
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(json);
    } catch (const nlohmann::json::parse_error& e) {
        throw FormatError(where + "not valid JSON (error at byte " + std::to_string(e.byte) + ")");
    } catch (const nlohmann::json::exception& e) { // a number out of range, e.g. 1e400
        throw FormatError(where + "not valid JSON (" + ouro::detail::json_error_text(e) + ")");
    }
    if (!j.is_array())
        throw FormatError(where + "expected a JSON array of objects with a \"story\" string");
    std::vector<std::string> stories;
    stories.reserve(j.size());
    for (std::size_t i = 0; i < j.size(); ++i) {
        const nlohmann::json& item = j[i];
        const auto it = item.is_object() ? item.find("story") : item.end();
        if (!item.is_object() || it == item.end() || !it->is_string())
            throw FormatError(where + "element " + std::to_string(i) + " has no \"story\" string");
        const std::string_view story = trim(it->get_ref<const std::string&>());
        if (!story.empty())
            stories.emplace_back(story);
    }
    return stories;
}

std::vector<std::string> read_stories_json(const std::filesystem::path& path) {
    return parse_stories_json(read_file(path, "read_stories_json"), path.string());
}

std::vector<std::string> read_stories(const std::filesystem::path& path) {
    return path.extension() == ".json" ? read_stories_json(path) : read_stories_txt(path);
}

StoryReader::StoryReader(const std::filesystem::path& path) : path_(path), buffer_(1 << 20) {
    require_regular_file(path, "StoryReader"); // an ifstream would block on a FIFO
    in_.rdbuf()->pubsetbuf(buffer_.data(), std::streamsize(buffer_.size()));
    in_.open(path, std::ios::binary);
    if (!in_)
        throw IoError("StoryReader: cannot open " + path.string() + ": " + std::strerror(errno));
}

bool StoryReader::next(std::string& story) {
    while (std::getline(in_, line_)) {
        bytes_read_ += line_.size() + 1;
        if (add_line(pending_, line_, story))
            return true;
    }
    if (in_.bad())
        throw IoError("StoryReader: error reading " + path_.string());
    return take_story(pending_, story);
}

} // namespace ouro::data
