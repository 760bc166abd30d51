// Shared by the memory manager's unit tests.
#pragma once

#include <sys/mman.h>

#include <cstdint>

#include "base/result.h"

namespace myst::kernel::test {

constexpr uint64_t MiB = 1ull << 20;
constexpr int rw = PROT_READ | PROT_WRITE;

// The errno of a failed result, 0 for success.
template <typename T>
int error_code(const Result<T>& result) {
    return result.is_error() ? result.error().code() : 0;
}

}  // namespace myst::kernel::test
