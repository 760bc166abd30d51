#include "base/size_parse.h"

#include <charconv>
#include <string>

namespace myst {

Result<uint64_t> parse_size(std::string_view text) {
    uint64_t number = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (ec != std::errc() || end == text.data())
        return Error::invalid("not a size: '" + std::string(text) + "'");
    std::string_view suffix(end, text.data() + text.size() - end);
    unsigned shift = 0;
    if (suffix == "k" || suffix == "K")
        shift = 10;
    else if (suffix == "m" || suffix == "M")
        shift = 20;
    else if (suffix == "g" || suffix == "G")
        shift = 30;
    else if (!suffix.empty())
        return Error::invalid("unknown size suffix in '" + std::string(text) + "' (use k, m or g)");
    if (shift && number > (UINT64_MAX >> shift))
        return Error::invalid("size too large: '" + std::string(text) + "'");
    return number << shift;
}

}  // namespace myst
