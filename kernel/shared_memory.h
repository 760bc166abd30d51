// The kernel's shared-memory objects that have no path of their own:
// System V segments (shmget(2)) and memfds (memfd_create(2)). Both live in
// memory the budget counts: a segment's pages are SharedPages, memfds are
// files of a ramfs that charges the budget for its pages.
#pragma once

#include <sys/shm.h>
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string_view>

#include "base/result.h"
#include "fs/ramfs/ramfs.h"
#include "fs/vfs/open_file.h"
#include "fs/vfs/path.h"
#include "kernel/memory_manager.h"
#include "kernel/shared_pages.h"

namespace myst::kernel {

struct SysvSegment {
    int id = 0;
    std::shared_ptr<SharedPages> pages;
    // shm_perm, shm_segsz, the times and pids as shmctl(IPC_STAT) shows them;
    // shm_nattch is counted from the mappings when asked.
    struct shmid_ds status {};
    bool removed = false;  // IPC_RMID: gone once nothing is attached
};

// The page charge of a ramfs whose files are shared memory (/dev/shm, the
// memfds): its pages come out of the memory budget (ENOSPC past it).
fs::PageCharge budget_page_charge(MemoryManager& memory);

class SharedMemoryRegistry {
public:
    SharedMemoryRegistry(Target& target, MemoryManager& memory, fs::Clock clock);

    // memfd_create(2): a new, unlinked regular file "memfd:<name>".
    Result<std::shared_ptr<fs::OpenFile>> create_memfd(std::string_view name, int open_flags);

    // shmget(2): the id of the segment with `key` (a new one for
    // IPC_PRIVATE or with IPC_CREAT), ENOENT/EEXIST/EINVAL/ENOMEM as Linux.
    Result<int> get_segment(key_t key, uint64_t size, int flags, uid_t uid, gid_t gid, pid_t pid,
                            time_t now);
    // The live segment `id` (EINVAL for an id never given or removed).
    Result<SysvSegment*> segment(int id);
    // The segment whose pages a mapping shows (shmdt), or null.
    SysvSegment* segment_of(const SharedPages* pages);
    // IPC_RMID: the key is freed now, the pages once nothing is attached.
    void remove(SysvSegment& segment);
    // Forgets removed segments nothing is attached to any more.
    void collect_removed();
    // How many attachments (shmat mappings) the segment has.
    uint64_t attachments(const SysvSegment& segment) const;

private:
    Target& m_target;
    MemoryManager& m_memory;
    std::shared_ptr<fs::FileSystem> m_memfd_fs;
    fs::PathRef m_memfd_root;
    uint64_t m_next_memfd = 0;
    int m_next_id = 0;
    std::map<int, SysvSegment> m_segments;
};

}  // namespace myst::kernel
