// Little- and big-endian field access for on-disk structures. Formats are
// described by offsets into byte buffers, never by casting packed structs.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>

namespace myst {

template <typename T>
T load_le(const uint8_t* at) {
    T value = 0;
    for (size_t i = 0; i < sizeof(T); ++i)
        value |= static_cast<T>(at[i]) << (8 * i);
    return value;
}

template <typename T>
void store_le(uint8_t* at, T value) {
    for (size_t i = 0; i < sizeof(T); ++i)
        at[i] = static_cast<uint8_t>(static_cast<uint64_t>(value) >> (8 * i));
}

template <typename T>
T load_be(const uint8_t* at) {
    T value = 0;
    for (size_t i = 0; i < sizeof(T); ++i)
        value = static_cast<T>((value << 8) | at[i]);
    return value;
}

template <typename T>
void store_be(uint8_t* at, T value) {
    for (size_t i = 0; i < sizeof(T); ++i)
        at[sizeof(T) - 1 - i] = static_cast<uint8_t>(static_cast<uint64_t>(value) >> (8 * i));
}

inline bool is_all_zero(std::span<const uint8_t> bytes) {
    for (uint8_t b : bytes)
        if (b != 0)
            return false;
    return true;
}

}  // namespace myst
