// MemoryManager's fork support: saving a space's pages and putting them
// back (kernel/memory_snapshot.h says why).
#include "kernel/memory_snapshot.h"

#include <sys/mman.h>

#include <cstring>

#include "kernel/shared_pages.h"

namespace myst::kernel {

namespace {

// The resident stretches of [start, end), as runs of whole pages.
Result<std::vector<SpaceSnapshot::Run>> resident_runs(Target& target, uint64_t start,
                                                      uint64_t end) {
    std::vector<uint8_t> pages((end - start) / page_size);
    TRY(target.memory_residency(reinterpret_cast<void*>(start), end - start, pages));
    std::vector<SpaceSnapshot::Run> runs;
    for (size_t i = 0; i < pages.size(); ++i) {
        if (!(pages[i] & 1))
            continue;
        uint64_t address = start + i * page_size;
        if (!runs.empty() && runs.back().address + runs.back().length == address)
            runs.back().length += page_size;
        else
            runs.push_back({address, page_size, 0});
    }
    return runs;
}

// Private pages the program can read are saved, in the region or not (a
// fixed-address program's segments); shared ones are mapped again over the
// same pages, and unreadable ones hold nothing it put there.
bool holds_private_bytes(const Mapping& mapping) {
    return !mapping.shared_pages && (mapping.protection & PROT_READ);
}

}  // namespace

void MemoryManager::move_pages_locked(uint64_t from, uint64_t to, uint64_t length) {
    if (!m_target.memory_move(reinterpret_cast<void*>(from), reinterpret_cast<void*>(to), length)
             .is_error())
        return;
    // Copied instead (e.g. the range spans two host mappings).
    if (m_target.memory_commit(reinterpret_cast<void*>(to), length, PROT_READ | PROT_WRITE)
            .is_error())
        return;
    std::memcpy(reinterpret_cast<void*>(to), reinterpret_cast<const void*>(from), length);
}

Result<std::shared_ptr<SpaceSnapshot>> MemoryManager::move_space_out_locked(SpaceId space) {
    auto snapshot = std::make_shared<SpaceSnapshot>();
    snapshot->space = space;
    for (const auto& [start, mapping] : m_mappings)
        if (mapping.space == space)
            snapshot->mappings.emplace(start, mapping);
    // Room for every range first: all of them move, or none.
    for (const auto& [start, mapping] : snapshot->mappings) {
        if (!holds_private_bytes(mapping))
            continue;
        uint64_t length = mapping.end - start;
        auto storage = find_free_range(length);
        if (storage.is_error()) {
            for (const SpaceSnapshot::MovedRange& range : snapshot->moved)
                m_mappings.erase(range.storage);
            return storage.release_error();
        }
        add_kernel_mapping_locked(storage.value(), length, mapping.protection, "[parked pages]");
        snapshot->moved.push_back({start, length, storage.value()});
    }
    for (const SpaceSnapshot::MovedRange& range : snapshot->moved) {
        move_pages_locked(range.address, range.storage, range.length);
        // In the region its host range is reserved again; outside, the
        // reserve the move left goes, as an unmapped range would.
        if (!snapshot->mappings.at(range.address).in_region)
            (void)m_target.memory_unmap(reinterpret_cast<void*>(range.address), range.length);
        m_mappings.erase(range.address);
    }
    vacate_space_locked(space);
    snapshot->owned_break = m_break_space == space;
    snapshot->program_break = m_break;
    return snapshot;
}

void MemoryManager::add_kernel_mapping_locked(uint64_t start, uint64_t length, int protection,
                                              std::string name) {
    m_mappings[start] = {start + length, protection,   true,   std::move(name), 0,
                         false,          kernel_space, nullptr};
}

Result<std::shared_ptr<SpaceSnapshot>> MemoryManager::snapshot_space(SpaceId space) {
    std::lock_guard guard(m_lock);
    auto snapshot = std::make_shared<SpaceSnapshot>();
    snapshot->space = space;
    uint64_t total = 0;
    for (const auto& [start, mapping] : m_mappings) {
        if (mapping.space != space)
            continue;
        snapshot->mappings.emplace(start, mapping);
        // Pages the program cannot read hold nothing it could have put there;
        // shared pages are not the parent's alone: what the child writes to
        // them stays, as with real fork.
        if (!(mapping.protection & PROT_READ) || mapping.shared_pages)
            continue;
        for (SpaceSnapshot::Run run : TRY(resident_runs(m_target, start, mapping.end))) {
            run.stored_at = total;
            total += run.length;
            snapshot->runs.push_back(run);
        }
    }
    if (total > 0) {
        snapshot->storage = TRY(find_free_range(total));
        TRY(m_target.memory_commit(reinterpret_cast<void*>(snapshot->storage), total,
                                   PROT_READ | PROT_WRITE));
        snapshot->storage_length = total;
        add_kernel_mapping_locked(snapshot->storage, total, PROT_READ | PROT_WRITE,
                                  "[fork snapshot]");
        for (const SpaceSnapshot::Run& run : snapshot->runs)
            std::memcpy(reinterpret_cast<void*>(snapshot->storage + run.stored_at),
                        reinterpret_cast<const void*>(run.address), run.length);
    }
    snapshot->owned_break = m_break_space == space;
    snapshot->program_break = m_break;
    return snapshot;
}

void MemoryManager::restore_mapping_locked(uint64_t start, const Mapping& mapping) {
    uint64_t length = mapping.end - start;
    auto* address = reinterpret_cast<void*>(start);
    // Whatever another space put there meanwhile stays: the child could only
    // have made room for it by unmapping the parent's own pages.
    if (!range_is_free(start, mapping.end))
        return;
    // Shared pages come back as they are now (the child's writes included),
    // at the parent's protection.
    if (mapping.shared_pages) {
        if (m_target
                .shared_memory_map(address, length, mapping.protection,
                                   mapping.shared_pages->handle(), mapping.file_offset)
                .is_error())
            return;
        m_mappings[start] = mapping;
        return;
    }
    // Writable until the saved bytes are back; restore_space then gives
    // each mapping its own protection.
    if (mapping.in_region) {
        if (m_target.memory_commit(address, length, PROT_READ | PROT_WRITE).is_error())
            return;
    } else if (m_target.memory_map_at(address, length, PROT_READ | PROT_WRITE).is_error()) {
        return;
    }
    m_mappings[start] = mapping;
}

bool MemoryManager::restored_locked(SpaceId space, uint64_t address, uint64_t length) const {
    auto it = m_mappings.upper_bound(address);
    if (it == m_mappings.begin())
        return false;
    --it;
    return it->second.space == space && it->second.end >= address + length;
}

void MemoryManager::restore_space(SpaceId space, SpaceSnapshot& snapshot) {
    {
        ReleaseAfterUnlock release(*this);
        std::lock_guard guard(m_lock);
        // The child's changes go: every page of the space comes back fresh
        // (zero) and the saved bytes are copied in.
        for (auto it = m_mappings.begin(); it != m_mappings.end();) {
            uint64_t start = it->first;
            bool mine = it->second.space == space;
            ++it;
            if (mine)
                drop_mapping_locked(start);
        }
        for (const SpaceSnapshot::MovedRange& range : snapshot.moved) {
            const Mapping& mapping = snapshot.mappings.at(range.address);
            if (range_is_free(range.address, mapping.end)) {
                move_pages_locked(range.storage, range.address, range.length);
                m_mappings[range.address] = mapping;
            }
            drop_mapping_locked(range.storage);
        }
        snapshot.moved.clear();
        for (const auto& [start, mapping] : snapshot.mappings)
            if (!m_mappings.count(start))
                restore_mapping_locked(start, mapping);
        for (const SpaceSnapshot::Run& run : snapshot.runs)
            if (restored_locked(space, run.address, run.length))
                std::memcpy(reinterpret_cast<void*>(run.address),
                            reinterpret_cast<const void*>(snapshot.storage + run.stored_at),
                            run.length);
        for (const auto& [start, mapping] : snapshot.mappings)
            if (mapping.protection != (PROT_READ | PROT_WRITE) && m_mappings.count(start))
                (void)m_target.memory_protect(reinterpret_cast<void*>(start), mapping.end - start,
                                              mapping.protection);
        if (snapshot.owned_break) {
            m_break_space = space;
            m_break = snapshot.program_break;
        }
    }
    discard_snapshot(snapshot);
}

void MemoryManager::discard_snapshot(SpaceSnapshot& snapshot) {
    std::lock_guard guard(m_lock);
    for (const SpaceSnapshot::MovedRange& range : snapshot.moved)
        if (m_mappings.count(range.storage))
            drop_mapping_locked(range.storage);
    snapshot.moved.clear();
    if (snapshot.storage != 0 && m_mappings.count(snapshot.storage))
        drop_mapping_locked(snapshot.storage);
    snapshot.storage = snapshot.storage_length = 0;
    snapshot.runs.clear();
}

uint64_t MemoryManager::add_parked_locked(std::shared_ptr<SpaceSnapshot> snapshot) {
    uint64_t id = m_next_parked++;
    m_parked.emplace(id, std::move(snapshot));
    return id;
}

std::shared_ptr<SpaceSnapshot> MemoryManager::take_parked(uint64_t parked) {
    std::lock_guard guard(m_lock);
    auto it = m_parked.find(parked);
    if (it == m_parked.end())
        return nullptr;
    std::shared_ptr<SpaceSnapshot> snapshot = std::move(it->second);
    m_parked.erase(it);
    return snapshot;
}

Result<uint64_t> MemoryManager::park_space(SpaceId space, bool keep_pages) {
    if (!keep_pages) {
        // Moving the pages costs no copy; without room for the moved
        // ranges the resident bytes are copied instead.
        ReleaseAfterUnlock release(*this);
        std::lock_guard guard(m_lock);
        auto moved = move_space_out_locked(space);
        if (!moved.is_error())
            return add_parked_locked(moved.release_value());
    }
    std::shared_ptr<SpaceSnapshot> snapshot = TRY(snapshot_space(space));
    ReleaseAfterUnlock release(*this);
    std::lock_guard guard(m_lock);
    if (!keep_pages)
        vacate_space_locked(space);
    return add_parked_locked(std::move(snapshot));
}

void MemoryManager::unpark_space(uint64_t parked) {
    if (std::shared_ptr<SpaceSnapshot> snapshot = take_parked(parked))
        restore_space(snapshot->space, *snapshot);
}

void MemoryManager::forget_parked(uint64_t parked) {
    if (std::shared_ptr<SpaceSnapshot> snapshot = take_parked(parked))
        discard_snapshot(*snapshot);
}

}  // namespace myst::kernel
