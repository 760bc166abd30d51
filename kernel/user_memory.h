// Copies between program memory and kernel memory. Program and kernel share
// one address space, so a program pointer could point anywhere; every copy
// first checks the range against the program's mappings and fails with
// EFAULT instead of letting a bad pointer crash the kernel.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <type_traits>

#include "base/result.h"

namespace myst::kernel {

class Thread;

Result<void> copy_from_user(Thread& thread, void* destination, uint64_t source, size_t size);
Result<void> copy_to_user(Thread& thread, uint64_t destination, const void* source, size_t size);
// A NUL-terminated string of at most max_size bytes (ENAMETOOLONG past that).
Result<std::string> copy_string_from_user(Thread& thread, uint64_t source, size_t max_size);
// A path: copy_string_from_user with PATH_MAX; the empty path is ENOENT.
Result<std::string> copy_path_from_user(Thread& thread, uint64_t source);

template <typename T>
Result<T> read_user(Thread& thread, uint64_t source) {
    static_assert(std::is_trivially_copyable_v<T>);
    T value;
    TRY(copy_from_user(thread, &value, source, sizeof(T)));
    return value;
}

template <typename T>
Result<void> write_user(Thread& thread, uint64_t destination, const T& value) {
    static_assert(std::is_trivially_copyable_v<T>);
    return copy_to_user(thread, destination, &value, sizeof(T));
}

}  // namespace myst::kernel
