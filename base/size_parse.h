#pragma once

#include <cstdint>
#include <string_view>

#include "base/result.h"

namespace myst {

// "4096", "64k", "512m", "2g" (binary units, either case) -> bytes.
Result<uint64_t> parse_size(std::string_view text);

}  // namespace myst
