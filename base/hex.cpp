#include "base/hex.h"

namespace myst {

std::string to_hex(std::span<const uint8_t> bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string text;
    text.reserve(bytes.size() * 2);
    for (uint8_t b : bytes) {
        text.push_back(digits[b >> 4]);
        text.push_back(digits[b & 15]);
    }
    return text;
}

static int hex_digit_value(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

Result<std::vector<uint8_t>> from_hex(std::string_view text) {
    if (text.size() % 2 != 0)
        return Error::invalid("hex string has an odd number of digits");
    std::vector<uint8_t> bytes(text.size() / 2);
    for (size_t i = 0; i < bytes.size(); ++i) {
        int high = hex_digit_value(text[2 * i]);
        int low = hex_digit_value(text[2 * i + 1]);
        if (high < 0 || low < 0)
            return Error::invalid("not a hex digit in '" + std::string(text) + "'");
        bytes[i] = static_cast<uint8_t>(high << 4 | low);
    }
    return bytes;
}

}  // namespace myst
