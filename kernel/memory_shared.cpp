// MemoryManager's MAP_SHARED support: mappings of SharedPages and the
// budget their bytes take (kernel/shared_pages.h says why).
#include <sys/mman.h>

#include "kernel/memory_manager.h"
#include "kernel/shared_pages.h"

namespace myst::kernel {

Result<uint64_t> MemoryManager::map_shared(uint64_t address, uint64_t length, int protection,
                                           std::shared_ptr<SharedPages> pages, uint64_t offset,
                                           std::string name, bool fixed, bool replace,
                                           SpaceId space) {
    length = page_align_up(length);
    if (length == 0)
        return Error(EINVAL, "zero-length mapping");
    if (fixed) {
        if (address % page_size != 0)
            return Error(EINVAL, "bad fixed mapping");
        if (address < min_map_address)
            return Error(EPERM, "fixed mapping below mmap_min_addr");
        if (length > user_address_end || address > user_address_end - length)
            return Error(ENOMEM, "fixed mapping past the top of user memory");
        // Shared pages come only inside the region, where the budget is.
        if (address < m_region_start || address + length > m_region_end)
            return Error(ENOMEM, "fixed mapping outside the memory region");
    }
    ReleaseAfterUnlock release(*this);
    std::lock_guard guard(m_lock);
    if (fixed) {
        if (address < page_align_up(m_break) && address + length > m_break_start)
            return Error(ENOMEM, "fixed mapping over the program break");
        if (parked_range_start_locked(address, address + length, space) != 0)
            return Error(ENOMEM, "address range is held by a process waiting for its turn");
        if (!range_is_free(address, address + length)) {
            if (!replace)
                return Error(EEXIST, "address range is taken");
            erase_range(address, address + length);
        }
    } else {
        address = TRY(find_free_range(length));
    }
    auto mapped = m_target.shared_memory_map(reinterpret_cast<void*>(address), length, protection,
                                             pages->handle(), offset);
    if (mapped.is_error()) {
        // The range may have been replaced already: leave it reserved.
        (void)m_target.memory_decommit(reinterpret_cast<void*>(address), length);
        return mapped.release_error();
    }
    if (protection & PROT_WRITE)
        pages->note_written();
    m_mappings[address] = {address + length, protection, true,  std::move(name),
                           offset,           false,      space, std::move(pages)};
    return address;
}

std::vector<std::shared_ptr<SharedPages>> MemoryManager::shared_pages_in(uint64_t address,
                                                                         uint64_t length) const {
    std::lock_guard guard(m_lock);
    std::vector<std::shared_ptr<SharedPages>> found;
    uint64_t end = address + length;
    auto it = m_mappings.upper_bound(address);
    if (it != m_mappings.begin())
        --it;
    for (; it != m_mappings.end() && it->first < end; ++it)
        if (it->second.end > address && it->second.shared_pages)
            found.push_back(it->second.shared_pages);
    return found;
}

uint64_t MemoryManager::mappings_from_start_of(const SharedPages* pages) const {
    std::lock_guard guard(m_lock);
    uint64_t count = 0;
    for (const auto& [start, mapping] : m_mappings)
        count += mapping.shared_pages.get() == pages && mapping.file_offset == 0;
    return count;
}

Result<void> MemoryManager::charge_shared(uint64_t bytes) {
    std::lock_guard guard(m_lock);
    if (private_bytes_locked() + m_shared_bytes + bytes > m_region_end - m_region_start)
        return Error(ENOMEM, "out of memory: shared memory past the budget (--memory-size)");
    m_shared_bytes += bytes;
    return {};
}

void MemoryManager::uncharge_shared(uint64_t bytes) {
    std::lock_guard guard(m_lock);
    m_shared_bytes -= std::min(bytes, m_shared_bytes);
}

uint64_t MemoryManager::budget_available() const {
    std::lock_guard guard(m_lock);
    uint64_t used = private_bytes_locked() + m_shared_bytes;
    uint64_t budget = m_region_end - m_region_start;
    return used < budget ? budget - used : 0;
}

uint64_t MemoryManager::shared_bytes() const {
    std::lock_guard guard(m_lock);
    return m_shared_bytes;
}

void MemoryManager::release_shared_pages() {
    ReleaseAfterUnlock release(*this);
    std::lock_guard guard(m_lock);
    for (auto& [start, mapping] : m_mappings)
        if (mapping.shared_pages)
            m_released_pages.push_back(std::move(mapping.shared_pages));
}

}  // namespace myst::kernel
