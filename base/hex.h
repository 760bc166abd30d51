#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace myst {

std::string to_hex(std::span<const uint8_t> bytes);
// Accepts upper or lower case; fails on odd length or a non-hex digit.
Result<std::vector<uint8_t>> from_hex(std::string_view text);

}  // namespace myst
