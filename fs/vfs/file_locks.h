// POSIX record locks (fcntl F_GETLK/F_SETLK/F_SETLKW): byte ranges of an
// inode locked by a process. Locks of one owner never conflict with each
// other; a new lock replaces the owner's locks in its range; closing any
// descriptor of the inode drops all the owner's locks on it (POSIX).
#pragma once

#include <fcntl.h>
#include <sys/types.h>

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "base/result.h"

namespace myst::fs {

class Inode;

struct RecordLock {
    short type = F_UNLCK;  // F_RDLCK, F_WRLCK or F_UNLCK
    uint64_t start = 0;
    uint64_t end = UINT64_MAX;  // exclusive; UINT64_MAX reaches past any end of file
    pid_t owner = 0;
};

class FileLocks {
public:
    // F_GETLK: the first lock of another owner that conflicts with `wanted`.
    std::optional<RecordLock> find_conflict(const Inode& inode, const RecordLock& wanted);
    // F_SETLK (wait = false: EAGAIN on conflict) and F_SETLKW (waits).
    // F_UNLCK releases the range.
    // FIXME: F_SETLKW does not detect deadlocks (EDEADLK) and is not
    // interrupted by signals.
    Result<void> set(const Inode& inode, const RecordLock& lock, bool wait);
    // Drops every lock `owner` holds on the inode (any close(2) of it).
    void release(const Inode& inode, pid_t owner);
    // Drops every lock of `owner` (process exit).
    void release_owner(pid_t owner);

private:
    using Key = std::pair<const void*, uint64_t>;  // file system, inode number
    static Key key_of(const Inode& inode);
    static std::optional<RecordLock> conflict_locked(const std::vector<RecordLock>& locks,
                                                     const RecordLock& wanted);

    std::mutex m_lock;
    std::condition_variable m_changed;
    std::map<Key, std::vector<RecordLock>> m_locks;
};

}  // namespace myst::fs
