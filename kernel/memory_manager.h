// The program's memory: one region of MemorySize bytes reserved at start
// (as an enclave's heap), from which brk, mmap, stacks and loaded images are
// carved; running out is ENOMEM. Fixed-address executables that fall outside
// the region are mapped where they ask, when that range is free.
// Every mapping is tracked, so copies from user memory can be checked and
// /proc/self/maps can be shown.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "base/result.h"
#include "target/target.h"

namespace myst::kernel {

constexpr uint64_t page_size = 4096;
constexpr uint64_t page_align_up(uint64_t value) {
    return (value + page_size - 1) & ~(page_size - 1);
}
constexpr uint64_t page_align_down(uint64_t value) {
    return value & ~(page_size - 1);
}

struct Mapping {
    uint64_t end = 0;    // exclusive
    int protection = 0;  // PROT_* bits
    bool in_region = true;
    std::string name;  // path, "[heap]", "[stack]" or empty
    uint64_t file_offset = 0;
};

class MemoryManager {
public:
    static Result<std::unique_ptr<MemoryManager>> create(Target& target, uint64_t region_size);
    ~MemoryManager();

    // Anonymous, zero-filled pages anywhere in the region (top-down, as Linux).
    Result<uint64_t> map_anywhere(uint64_t length, int protection, std::string name);
    // Pages at exactly [address, address+length): inside the region they
    // replace what was there (MAP_FIXED); outside it only a free range is taken.
    Result<uint64_t> map_fixed(uint64_t address, uint64_t length, int protection, std::string name,
                               bool replace);
    Result<void> unmap(uint64_t address, uint64_t length);
    Result<void> protect(uint64_t address, uint64_t length, int protection);
    // Names a range (e.g. a loaded segment) for /proc/self/maps.
    void set_name(uint64_t address, uint64_t length, const std::string& name, uint64_t file_offset);

    // brk(2): returns the new break, or the old one when it cannot move.
    uint64_t set_break(uint64_t requested);

    // True when [address, address+length) lies in mappings that allow it.
    bool is_accessible(uint64_t address, uint64_t length, bool write) const;
    // /proc/self/maps text, in Linux's format.
    std::string format_maps() const;

    uint64_t region_start() const { return m_region_start; }
    uint64_t region_end() const { return m_region_end; }
    uint64_t committed_bytes() const;

private:
    MemoryManager(Target& target, uint64_t start, uint64_t end)
        : m_target(target), m_region_start(start), m_region_end(end) {}

    Result<uint64_t> find_free_range(uint64_t length) const;
    // Splits mappings so that `address` is a boundary.
    void split_at(uint64_t address);
    void erase_range(uint64_t address, uint64_t end);
    bool range_is_free(uint64_t address, uint64_t end) const;

    Target& m_target;
    uint64_t m_region_start;
    uint64_t m_region_end;
    // The break grows up from the bottom of the region while mmap fills it
    // top-down, so each can use the whole budget, as on Linux.
    uint64_t m_break_start = 0;
    uint64_t m_break = 0;
    mutable std::mutex m_lock;
    std::map<uint64_t, Mapping> m_mappings;  // start -> mapping
};

}  // namespace myst::kernel
