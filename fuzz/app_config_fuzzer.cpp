// The config.json parser (parse_app_config) and the canonical form `myst
// sign` computes from the same text.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tools/myst/app_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace myst;
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto config = tools::parse_app_config(text, "fuzz.json");
    auto canonical = tools::canonical_app_config(text, "fuzz.json");
    // Both check the same rules: one accepts what the other accepts.
    if (config.is_error() != canonical.is_error())
        __builtin_trap();
    if (!canonical.is_error()) {
        // The canonical text is itself a config, with the same canonical form.
        auto again = tools::canonical_app_config(canonical.value(), "fuzz.json");
        if (again.is_error() || again.value() != canonical.value())
            __builtin_trap();
    }
    return 0;
}
