#include "kernel/memory_manager.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <vector>

#include "kernel/memory_snapshot.h"
#include "kernel/shared_pages.h"

namespace myst::kernel {

Result<std::unique_ptr<MemoryManager>> MemoryManager::create(Target& target, uint64_t region_size) {
    region_size = page_align_up(region_size);
    if (region_size < (1ull << 20))
        return Error(EINVAL, "memory size must be at least 1 MiB");
    void* start = TRY(target.memory_reserve(region_size));
    auto base = reinterpret_cast<uint64_t>(start);
    auto manager =
        std::unique_ptr<MemoryManager>(new MemoryManager(target, base, base + region_size));
    manager->m_break_start = manager->m_break = base;
    return manager;
}

MemoryManager::~MemoryManager() {
    for (auto& [start, mapping] : m_mappings)
        if (!mapping.in_region)
            (void)m_target.memory_unmap(reinterpret_cast<void*>(start), mapping.end - start);
    (void)m_target.memory_unmap(reinterpret_cast<void*>(m_region_start),
                                m_region_end - m_region_start);
}

MemoryManager::ReleaseAfterUnlock::~ReleaseAfterUnlock() {
    std::vector<std::shared_ptr<SharedPages>> released;
    {
        std::lock_guard guard(m_memory.m_lock);
        released.swap(m_memory.m_released_pages);
    }
    // `released` goes here, with m_lock free.
}

std::map<uint64_t, Mapping>::iterator MemoryManager::forget_locked(
    std::map<uint64_t, Mapping>::iterator it) {
    if (it->second.shared_pages)
        m_released_pages.push_back(std::move(it->second.shared_pages));
    return m_mappings.erase(it);
}

uint64_t MemoryManager::private_bytes_locked() const {
    uint64_t total = 0;
    for (const auto& [start, mapping] : m_mappings)
        if (mapping.in_region && !mapping.shared_pages)
            total += mapping.end - start;
    return total;
}

Result<void> MemoryManager::check_budget_locked(uint64_t length) const {
    // Only shared pages can push past the budget: private ones are held to
    // it by the region itself.
    if (m_shared_bytes == 0)
        return {};
    if (private_bytes_locked() + m_shared_bytes + length > m_region_end - m_region_start)
        return Error(ENOMEM, "out of memory: the program's budget (--memory-size) is used up");
    return {};
}

bool MemoryManager::range_is_free(uint64_t address, uint64_t end) const {
    auto next = m_mappings.lower_bound(address);
    if (next != m_mappings.end() && next->first < end)
        return false;
    if (next != m_mappings.begin() && std::prev(next)->second.end > address)
        return false;
    return true;
}

Result<uint64_t> MemoryManager::find_free_range(uint64_t length) const {
    // Top-down first fit over the gaps between the break and the region's end.
    uint64_t floor = page_align_up(m_break);
    uint64_t gap_end = m_region_end;
    for (auto it = m_mappings.lower_bound(m_region_end);;) {
        auto previous = it == m_mappings.begin() ? m_mappings.end() : std::prev(it);
        uint64_t gap_start = floor;
        if (previous != m_mappings.end() && previous->second.end > floor)
            gap_start = previous->second.end;
        // Nothing goes into the guard gap below the stack (Linux's
        // stack_guard_gap): an overflowing stack must fault there.
        uint64_t usable_end = gap_end;
        if (it != m_mappings.end() && it->first == gap_end && it->second.guard_gap_below)
            usable_end -= std::min(gap_end, stack_guard_gap);
        if (usable_end >= gap_start && usable_end - gap_start >= length) {
            if (uint64_t fit = fit_below_parked_locked(gap_start, usable_end, length))
                return fit;
        }
        if (previous == m_mappings.end() || previous->first <= floor)
            break;
        gap_end = previous->first;
        it = previous;
    }
    return Error(ENOMEM, "out of memory: the program's budget (--memory-size) is used up");
}

uint64_t MemoryManager::parked_range_start_locked(uint64_t address, uint64_t end,
                                                  SpaceId except) const {
    uint64_t lowest = 0;
    for (const auto& [id, snapshot] : m_parked) {
        if (snapshot->space == except)
            continue;
        auto it = snapshot->mappings.lower_bound(address);
        if (it != snapshot->mappings.begin() && std::prev(it)->second.end > address)
            it = std::prev(it);
        if (it != snapshot->mappings.end() && it->first < end &&
            (lowest == 0 || it->first < lowest))
            lowest = it->first;
    }
    return lowest;
}

uint64_t MemoryManager::fit_below_parked_locked(uint64_t floor, uint64_t top,
                                                uint64_t length) const {
    // Each parked range met moves the top below it; the top only goes down.
    while (top >= floor + length) {
        uint64_t blocker = parked_range_start_locked(top - length, top);
        if (blocker == 0)
            return top - length;
        top = blocker;
    }
    return 0;
}

void MemoryManager::split_at(uint64_t address) {
    auto it = m_mappings.upper_bound(address);
    if (it == m_mappings.begin())
        return;
    --it;
    if (it->first < address && it->second.end > address) {
        Mapping tail = it->second;
        tail.file_offset += address - it->first;
        it->second.end = address;
        m_mappings.emplace(address, std::move(tail));
    }
}

void MemoryManager::erase_range(uint64_t address, uint64_t end) {
    split_at(address);
    split_at(end);
    auto it = m_mappings.lower_bound(address);
    while (it != m_mappings.end() && it->first < end) {
        // Out of the region the pages are a host mapping of their own, which
        // the new one (memory_map_at) would not replace: give them back.
        if (!it->second.in_region)
            (void)m_target.memory_unmap(reinterpret_cast<void*>(it->first),
                                        it->second.end - it->first);
        it = forget_locked(it);
    }
}

Result<uint64_t> MemoryManager::map_anywhere(uint64_t length, int protection, std::string name,
                                             SpaceId space) {
    length = page_align_up(length);
    if (length == 0)
        return Error(EINVAL, "zero-length mapping");
    std::lock_guard guard(m_lock);
    TRY(check_budget_locked(length));
    uint64_t address = TRY(find_free_range(length));
    TRY(m_target.memory_commit(reinterpret_cast<void*>(address), length, protection));
    bool stack = name == stack_mapping_name;
    m_mappings[address] = {address + length, protection, true, std::move(name), 0, stack, space,
                           nullptr};
    return address;
}

Result<uint64_t> MemoryManager::map_fixed(uint64_t address, uint64_t length, int protection,
                                          std::string name, bool replace, SpaceId space) {
    ReleaseAfterUnlock release(*this);
    std::lock_guard guard(m_lock);
    return map_fixed_locked(address, length, protection, std::move(name), replace, space);
}

Result<uint64_t> MemoryManager::map_fixed_for_program(uint64_t address, uint64_t length,
                                                      int protection, bool replace, SpaceId space) {
    uint64_t aligned = page_align_up(length);
    if (address % page_size != 0 || aligned == 0)
        return Error(EINVAL, "bad fixed mapping");
    if (address < min_map_address)
        return Error(EPERM, "fixed mapping below mmap_min_addr");
    if (aligned > user_address_end || address > user_address_end - aligned)
        return Error(ENOMEM, "fixed mapping past the top of user memory");
    ReleaseAfterUnlock release(*this);
    std::lock_guard guard(m_lock);
    uint64_t end = address + aligned;
    // Host memory outside the region is not the program's to take: it would
    // grow myst past its budget, or land on the kernel's own pages.
    bool inside = address >= m_region_start && end <= m_region_end;
    if (!inside && covered_length_locked(address, end, 0) != aligned)
        return Error(ENOMEM, "fixed mapping outside the memory region");
    return map_fixed_locked(address, aligned, protection, "", replace, space);
}

Result<uint64_t> MemoryManager::map_fixed_locked(uint64_t address, uint64_t length, int protection,
                                                 std::string name, bool replace, SpaceId space) {
    length = page_align_up(length);
    if (address % page_size != 0 || length == 0 || address + length < address)
        return Error(EINVAL, "bad fixed mapping");
    uint64_t end = address + length;
    bool inside = address >= m_region_start && end <= m_region_end;
    // Refusals come before anything is replaced, so that they change nothing.
    if (inside && address < page_align_up(m_break) && end > m_break_start)
        return Error(ENOMEM, "fixed mapping over the program break");
    if (!inside && address < m_region_end && end > m_region_start)
        return Error(ENOMEM, "fixed mapping straddles the memory region");
    // A parked image of another space will come back there (kernel/memory_image.h).
    if (parked_range_start_locked(address, end, space) != 0)
        return Error(ENOMEM, "address range is held by a process waiting for its turn");
    if (!range_is_free(address, end)) {
        if (!replace)
            return Error(EEXIST, "address range is taken");
        erase_range(address, end);
    }
    if (inside)
        TRY(check_budget_locked(length));
    if (inside)
        TRY(m_target.memory_commit(reinterpret_cast<void*>(address), length, protection));
    else
        TRY(m_target.memory_map_at(reinterpret_cast<void*>(address), length, protection));
    m_mappings[address] = {end, protection, inside, std::move(name), 0, false, space, nullptr};
    return address;
}

Result<void> MemoryManager::unmap(uint64_t address, uint64_t length) {
    // Linux checks the length against TASK_SIZE before rounding it, so a
    // length that wraps (munmap(p, -4096)) is EINVAL, not an empty range.
    if (address % page_size != 0 || address > user_address_end ||
        length > user_address_end - address)
        return Error(EINVAL, "bad munmap range");
    length = page_align_up(length);
    if (length == 0)
        return Error(EINVAL, "bad munmap range");
    ReleaseAfterUnlock release(*this);
    std::lock_guard guard(m_lock);
    uint64_t end = address + length;
    split_at(address);
    split_at(end);
    auto it = m_mappings.lower_bound(address);
    while (it != m_mappings.end() && it->first < end) {
        void* start = reinterpret_cast<void*>(it->first);
        uint64_t size = it->second.end - it->first;
        if (it->second.in_region)
            TRY(m_target.memory_decommit(start, size));
        else
            TRY(m_target.memory_unmap(start, size));
        it = forget_locked(it);
    }
    return {};
}

Result<void> MemoryManager::protect(uint64_t address, uint64_t length, int protection) {
    if (address % page_size != 0)
        return Error(EINVAL, "unaligned mprotect");
    if (length == 0)
        return {};
    // As Linux: a length that wraps when rounded up is ENOMEM.
    length = page_align_up(length);
    if (length == 0 || address + length <= address)
        return Error(ENOMEM, "mprotect range wraps");
    std::lock_guard guard(m_lock);
    uint64_t end = address + length;
    // Linux fails with ENOMEM when part of the range is not mapped.
    if (covered_length_locked(address, end, 0) != length)
        return Error(ENOMEM, "mprotect of unmapped memory");
    TRY(m_target.memory_protect(reinterpret_cast<void*>(address), length, protection));
    split_at(address);
    split_at(end);
    for (auto it = m_mappings.lower_bound(address); it != m_mappings.end() && it->first < end;
         ++it) {
        it->second.protection = protection;
        if (it->second.shared_pages && (protection & PROT_WRITE))
            it->second.shared_pages->note_written();
    }
    return {};
}

Result<void> MemoryManager::discard(uint64_t address, uint64_t length) {
    std::lock_guard guard(m_lock);
    uint64_t end = address + length;
    // As Linux, the mapped parts are dropped even when there are holes.
    auto it = m_mappings.upper_bound(address);
    if (it != m_mappings.begin() && std::prev(it)->second.end > address)
        --it;
    for (; it != m_mappings.end() && it->first < end; ++it) {
        const Mapping& mapping = it->second;
        // MAP_SHARED pages keep their bytes: the next access reads them
        // again. FIXME: Linux reads a private file page again from its
        // file; here the program's changes to it stay.
        if (mapping.shared_pages || mapping.name.starts_with('/'))
            continue;
        uint64_t start = std::max(it->first, address);
        uint64_t stop = std::min(mapping.end, end);
        TRY(m_target.memory_discard(reinterpret_cast<void*>(start), stop - start));
    }
    if (covered_length_locked(address, end, 0) != length)
        return Error(ENOMEM, "madvise of unmapped memory");
    return {};
}

Result<Mapping> MemoryManager::mapping_containing(uint64_t address, uint64_t length) const {
    std::lock_guard guard(m_lock);
    auto it = m_mappings.upper_bound(address);
    if (length == 0 || address + length < address || it == m_mappings.begin())
        return Error(EFAULT, "no mapping holds the range");
    --it;
    if (it->first > address || it->second.end - address < length)
        return Error(EFAULT, "no mapping holds the range");
    Mapping found = it->second;
    found.file_offset += address - it->first;
    return found;
}

void MemoryManager::set_name(uint64_t address, uint64_t length, const std::string& name,
                             uint64_t file_offset) {
    std::lock_guard guard(m_lock);
    uint64_t end = page_align_up(address + length);
    address = page_align_down(address);
    split_at(address);
    split_at(end);
    for (auto it = m_mappings.lower_bound(address); it != m_mappings.end() && it->first < end;
         ++it) {
        it->second.name = name;
        it->second.file_offset = file_offset + (it->first - address);
    }
}

uint64_t MemoryManager::set_break(uint64_t requested, SpaceId space) {
    ReleaseAfterUnlock release(*this);
    std::lock_guard guard(m_lock);
    if (space != m_break_space)
        return m_break;
    // A break past the region cannot be had, and checking before rounding
    // keeps brk(-1) from wrapping to 0 (which would "shrink" the heap over
    // everything below it): the old break comes back, as on Linux.
    if (requested < m_break_start || requested > m_region_end)
        return m_break;
    uint64_t old_top = page_align_up(m_break);
    uint64_t new_top = page_align_up(requested);
    if (new_top > old_top) {
        if (!range_is_free(old_top, new_top) ||
            parked_range_start_locked(old_top, new_top, m_break_space) != 0)
            return m_break;
        if (m_target
                .memory_commit(reinterpret_cast<void*>(old_top), new_top - old_top,
                               PROT_READ | PROT_WRITE)
                .is_error())
            return m_break;
        // The heap mapping below grows, as Linux extends the brk vma, unless
        // mprotect or munmap changed it: then a new one starts.
        auto below = m_mappings.lower_bound(old_top);
        if (below != m_mappings.begin() && std::prev(below)->second.end == old_top &&
            std::prev(below)->second.name == heap_mapping_name &&
            std::prev(below)->second.protection == (PROT_READ | PROT_WRITE))
            std::prev(below)->second.end = new_top;
        else
            m_mappings[old_top] = {new_top, PROT_READ | PROT_WRITE, true,   heap_mapping_name, 0,
                                   false,   m_break_space,          nullptr};
    } else if (new_top < old_top) {
        // Only heap pages lie there: map_fixed keeps out of the heap.
        erase_range(new_top, old_top);
        (void)m_target.memory_decommit(reinterpret_cast<void*>(new_top), old_top - new_top);
    }
    m_break = requested;
    return m_break;
}

void MemoryManager::claim_break(SpaceId space) {
    std::lock_guard guard(m_lock);
    if (m_break_space == kernel_space) {
        m_break_space = space;
        m_break = m_break_start;
    }
}

std::optional<SpaceId> MemoryManager::space_holding(uint64_t address) const {
    std::lock_guard guard(m_lock);
    auto holder = [address](const std::map<uint64_t, Mapping>& mappings) -> std::optional<SpaceId> {
        auto it = mappings.upper_bound(address);
        if (it == mappings.begin() || std::prev(it)->second.end <= address ||
            std::prev(it)->second.space == kernel_space)
            return std::nullopt;
        return std::prev(it)->second.space;
    };
    if (auto space = holder(m_mappings))
        return space;
    for (const auto& [id, snapshot] : m_parked)
        if (auto space = holder(snapshot->mappings))
            return space;
    return std::nullopt;
}

void MemoryManager::restart_break(SpaceId space) {
    std::lock_guard guard(m_lock);
    if (m_break_space == space)
        m_break = m_break_start;
}

void MemoryManager::drop_mapping_locked(uint64_t start) {
    auto it = m_mappings.find(start);
    void* address = reinterpret_cast<void*>(start);
    uint64_t size = it->second.end - start;
    if (it->second.in_region)
        (void)m_target.memory_decommit(address, size);
    else
        (void)m_target.memory_unmap(address, size);
    forget_locked(it);
}

void MemoryManager::vacate_space_locked(SpaceId space) {
    for (auto it = m_mappings.begin(); it != m_mappings.end();) {
        uint64_t start = it->first;
        bool mine = it->second.space == space;
        ++it;
        if (mine)
            drop_mapping_locked(start);
    }
}

void MemoryManager::vacate_space(SpaceId space) {
    ReleaseAfterUnlock release(*this);
    std::lock_guard guard(m_lock);
    vacate_space_locked(space);
}

void MemoryManager::release_space(SpaceId space) {
    ReleaseAfterUnlock release(*this);
    std::lock_guard guard(m_lock);
    vacate_space_locked(space);
    if (m_break_space == space) {
        m_break_space = kernel_space;
        m_break = m_break_start;
    }
}

uint64_t MemoryManager::covered_length_locked(uint64_t address, uint64_t end, int needed) const {
    uint64_t cursor = address;
    while (cursor < end) {
        auto it = m_mappings.upper_bound(cursor);
        if (it == m_mappings.begin())
            break;
        --it;
        if (it->second.end <= cursor || (it->second.protection & needed) != needed)
            break;
        cursor = it->second.end;
    }
    return std::min(cursor, end) - address;
}

uint64_t MemoryManager::accessible_length(uint64_t address, uint64_t length, bool write) const {
    // A range that would wrap is checked up to the top of the address space.
    uint64_t end = address + std::min(length, ~uint64_t(0) - address);
    std::lock_guard guard(m_lock);
    uint64_t covered = covered_length_locked(address, end, write ? PROT_WRITE : PROT_READ);
    uint64_t cursor = address + covered;
    if (!write && cursor < end && cursor >= m_host_readable_start && cursor < m_host_readable_end) {
        cursor = std::min(end, m_host_readable_end);
        covered = cursor - address;
    }
    return covered;
}

bool MemoryManager::is_accessible(uint64_t address, uint64_t length, bool write) const {
    return length == 0 || accessible_length(address, length, write) == length;
}

bool MemoryManager::is_mapped(uint64_t address, uint64_t length) const {
    if (length == 0)
        return true;
    if (address + length < address)
        return false;
    if (accessible_length(address, length, false) == length)
        return true;
    std::lock_guard guard(m_lock);
    return covered_length_locked(address, address + length, 0) == length;
}

void MemoryManager::add_host_readable(uint64_t address, uint64_t length) {
    std::lock_guard guard(m_lock);
    m_host_readable_start = page_align_down(address);
    m_host_readable_end = page_align_up(address + length);
}

std::string MemoryManager::format_maps(SpaceId space) const {
    std::lock_guard guard(m_lock);
    std::string text;
    char line[512];
    auto emit = [&](uint64_t start, uint64_t end, int protection, uint64_t offset,
                    const std::string& name, bool shared) {
        std::snprintf(line, sizeof line, "%08lx-%08lx %c%c%c%c %08lx 00:00 0", start, end,
                      protection & PROT_READ ? 'r' : '-', protection & PROT_WRITE ? 'w' : '-',
                      protection & PROT_EXEC ? 'x' : '-', shared ? 's' : 'p', offset);
        text += line;
        if (!name.empty())
            text += std::string(73 - std::min<size_t>(strlen(line), 72), ' ') + name;
        text += "\n";
    };
    // In address order, as Linux (the heap's pages are mappings too).
    for (const auto& [start, mapping] : m_mappings)
        if (mapping.space == space)
            emit(start, mapping.end, mapping.protection, mapping.file_offset, mapping.name,
                 mapping.shared_pages != nullptr);
    return text;
}

uint64_t MemoryManager::committed_bytes() const {
    std::lock_guard guard(m_lock);
    uint64_t total = 0;
    for (const auto& [start, mapping] : m_mappings)
        total += mapping.end - start;
    return total;
}

uint64_t MemoryManager::space_bytes(SpaceId space) const {
    std::lock_guard guard(m_lock);
    uint64_t total = 0;
    for (const auto& [start, mapping] : m_mappings)
        total += mapping.space == space ? mapping.end - start : 0;
    return total;
}

}  // namespace myst::kernel
