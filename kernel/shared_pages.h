// Pages that several mappings share, in one process or many (MAP_SHARED
// files and anonymous memory, memfds, SysV segments): host shared memory
// (Target::shared_memory_*) mapped at each mapping's address, so a write
// through one mapping is seen through every other at once. Their bytes
// count against the memory budget (MemoryManager::charge_shared).
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "base/result.h"
#include "fs/vfs/inode.h"
#include "target/target.h"

namespace myst::kernel {

class MemoryManager;

class SharedPages final : public fs::MappedPages {
public:
    // `size` bytes of zeros (anonymous MAP_SHARED, SysV segments).
    static Result<std::shared_ptr<SharedPages>> create(Target& target, MemoryManager& memory,
                                                       uint64_t size);
    // The pages every MAP_SHARED mapping of `file` (a regular file) shares:
    // the ones it has, or new ones holding its bytes, attached to the inode
    // so that read(2) and write(2) see and change them (fs/vfs/inode.h).
    static Result<std::shared_ptr<SharedPages>> of_file(Target& target, MemoryManager& memory,
                                                        const std::shared_ptr<fs::Inode>& file);
    // A file's pages go back to the file (as munmap of the last mapping does).
    ~SharedPages() override;
    SharedPages(const SharedPages&) = delete;
    SharedPages& operator=(const SharedPages&) = delete;

    int handle() const { return m_handle; }
    uint64_t size() const { return m_size; }
    // msync(2): the file gets the mapped bytes (nothing for anonymous pages,
    // nor for pages no writable mapping ever showed).
    Result<void> write_back();
    // A writable mapping shows the pages: they may differ from the file.
    void note_written() { m_written = true; }

    Result<size_t> read(uint64_t offset, std::span<uint8_t> buffer) override;
    Result<void> write(uint64_t offset, std::span<const uint8_t> data) override;
    Result<void> resize(uint64_t size) override;

private:
    SharedPages(Target& target, MemoryManager& memory, int handle)
        : m_target(target), m_memory(memory), m_handle(handle) {}
    // Charges the budget for `size` bytes (whole pages) instead of the old size.
    Result<void> recharge(uint64_t size);

    Target& m_target;
    MemoryManager& m_memory;
    int m_handle;
    uint64_t m_size = 0;
    uint64_t m_charged = 0;  // page-rounded bytes charged to the budget
    bool m_written = false;
    std::shared_ptr<fs::Inode> m_file;  // null for anonymous pages
};

}  // namespace myst::kernel
