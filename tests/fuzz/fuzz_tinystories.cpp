// TinyStories readers: the text format (in memory, whole file and streamed) and the JSON shards.
// The streamed reader must give the same stories as the whole-file one.
#include "fuzz_util.hpp"

#include <ouro/data/tinystories.hpp>

using namespace ouro;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const std::vector<std::string> stories = data::split_stories(text);
    const auto path = fuzz::write_scratch("stories.txt", text);
    fuzz::refused_or_ok([&] {
        if (data::read_stories_txt(path) != stories)
            fuzz::broken("read_stories_txt differs from split_stories");
        data::StoryReader reader(path);
        std::vector<std::string> streamed;
        for (std::string s; reader.next(s);)
            streamed.push_back(s);
        if (streamed != stories)
            fuzz::broken("StoryReader differs from split_stories");
    });
    fuzz::refused_or_ok([&] { (void)data::parse_stories_json(text, "fuzz.json"); });
    return 0;
}
