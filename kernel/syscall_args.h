// The six argument registers of a system call, with typed accessors.
#pragma once

#include <cstdint>

namespace myst::kernel {

struct SyscallArgs {
    uint64_t raw[6] = {};

    int fd(int index) const { return static_cast<int>(raw[index]); }
    int integer(int index) const { return static_cast<int>(raw[index]); }
    unsigned flags(int index) const { return static_cast<unsigned>(raw[index]); }
    uint64_t address(int index) const { return raw[index]; }  // a user pointer
    uint64_t size(int index) const { return raw[index]; }
    int64_t offset(int index) const { return static_cast<int64_t>(raw[index]); }
};

}  // namespace myst::kernel
