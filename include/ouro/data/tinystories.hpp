// Readers for TinyStories (Eldan & Li 2023, "TinyStories: How Small Can Language Models Be and
// Still Speak Coherent English?"; dataset roneneldan/TinyStories on Hugging Face) in its two
// published forms:
//
// - text (TinyStories-train.txt, TinyStories-valid.txt): each story, then a line "<|endoftext|>".
//   A separator line may carry surrounding whitespace, blank lines around stories are ignored, and
//   a last story with no separator after it (a cut-off file) is kept as it is.
// - JSON shards (data00.json ... in TinyStories_all_data.tar.gz): an array of objects whose
//   "story" member is the text, e.g. [{"story": "Once upon a time...", "summary": ...}, ...].
//
// Either way a story is returned without leading or trailing whitespace (inner lines, blank ones
// included, are kept as they are), and empty stories are dropped.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace ouro::data {

/// Splits text in the TinyStories text format into stories.
std::vector<std::string> split_stories(std::string_view text);

/// Reads a TinyStories text file. Throws IoError naming the path when it cannot be read or is not
/// a regular file (a directory, FIFO or device: "read_stories_txt: <path> is not a regular file (it
/// is a directory)").
std::vector<std::string> read_stories_txt(const std::filesystem::path& path);

/// Parses a TinyStories JSON shard held in memory; `name` is used in messages. Throws FormatError
/// "<name>: not valid JSON (error at byte 12)", "<name>: expected a JSON array of objects with a
/// \"story\" string", or "<name>: element 3 has no \"story\" string".
std::vector<std::string> parse_stories_json(std::string_view json, std::string_view name);

/// Reads a TinyStories JSON shard (IoError / FormatError naming the path).
std::vector<std::string> read_stories_json(const std::filesystem::path& path);

/// read_stories_json for a ".json" file, read_stories_txt otherwise.
std::vector<std::string> read_stories(const std::filesystem::path& path);

/// Reads a TinyStories text file one story at a time, for files too big to hold in memory twice
/// (the full TinyStories-train.txt is 1.9 GB).
class StoryReader {
public:
    /// Throws IoError naming the path when the file cannot be opened or is not a regular file.
    explicit StoryReader(const std::filesystem::path& path);
    /// The next story into `story`; false at the end of the file. Throws IoError on a read error.
    bool next(std::string& story);
    /// Bytes read from the file so far (for progress).
    std::uint64_t bytes_read() const { return bytes_read_; }

private:
    std::filesystem::path path_;
    std::ifstream in_;
    std::vector<char> buffer_;
    std::string line_;
    std::string pending_; // the story being collected
    std::uint64_t bytes_read_ = 0;
};

} // namespace ouro::data
