// File locks, kept in the kernel only (the host never sees them):
// - POSIX record locks (fcntl F_GETLK/F_SETLK/F_SETLKW): byte ranges of an
//   inode locked by a process. Locks of one owner never conflict with each
//   other; a new lock replaces the owner's locks in its range; closing any
//   descriptor of the inode drops all the owner's locks on it (POSIX).
// - BSD locks (flock(2)): the whole file, shared or exclusive, owned by an
//   open file description: dup'ed and inherited descriptors share them,
//   and they go when the description's last reference does.
// Neither kind waits here: a conflict is EAGAIN, and the kernel waits for
// changes() to move (a host futex on it, without the kernel lock), so a
// wait can end on a signal.
#pragma once

#include <fcntl.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <tuple>
#include <utility>
#include <vector>

#include "base/result.h"

namespace myst::fs {

class Inode;
class OpenFile;

struct RecordLock {
    short type = F_UNLCK;  // F_RDLCK, F_WRLCK or F_UNLCK
    uint64_t start = 0;
    uint64_t end = UINT64_MAX;  // exclusive; UINT64_MAX reaches past any end of file
    pid_t owner = 0;
};

// What a lock is on: an inode (file system, inode number), or, for files
// without one in the VFS (pipes, sockets), the (st_dev, st_ino) they report.
struct LockKey {
    const void* file_system = nullptr;
    uint64_t device = 0;
    uint64_t ino = 0;
    auto operator<=>(const LockKey&) const = default;
};

class FileLocks {
public:
    FileLocks();
    ~FileLocks();
    FileLocks(const FileLocks&) = delete;
    FileLocks& operator=(const FileLocks&) = delete;

    // Wakes the threads waiting on a changes() word (a host futex wake): set
    // by the kernel, which owns the host interface.
    void set_waker(std::function<void(uint32_t*)> waker);
    // Moves whenever a lock of either kind goes or shrinks; a waiter reads it
    // before trying and sleeps while it still has that value.
    uint32_t* changes_word();
    uint32_t changes();

    // F_GETLK: the first lock of another owner that conflicts with `wanted`.
    std::optional<RecordLock> find_conflict(const Inode& inode, const RecordLock& wanted);
    // F_SETLK: EAGAIN on a conflict (F_SETLKW waits in the kernel and tries
    // again). F_UNLCK releases the range.
    // FIXME: no deadlock detection (EDEADLK).
    Result<void> set(const Inode& inode, const RecordLock& lock);
    // Drops every lock `owner` holds on the inode (any close(2) of it).
    void release(const Inode& inode, pid_t owner);
    // Drops every lock of `owner` (process exit).
    void release_owner(pid_t owner);

    // flock(2) LOCK_SH (`exclusive` false) or LOCK_EX for `file` on `key`:
    // a lock the description holds already is converted, and, as on Linux,
    // dropped first, so a conversion that fails (EWOULDBLOCK) leaves none.
    // The description keeps the lock until flock_unlock or its destruction.
    Result<void> flock_lock(const LockKey& key, OpenFile& file, bool exclusive);
    // LOCK_UN: drops the description's lock, if any.
    void flock_unlock(const LockKey& key, const OpenFile& file);

    // What locks on `inode` are keyed by.
    static LockKey key_of(const Inode& inode);

    // The flock state shared with the descriptions that hold locks, which
    // may outlive this table.
    struct FlockState;

private:
    using Key = LockKey;
    static std::optional<RecordLock> conflict_locked(const std::vector<RecordLock>& locks,
                                                     const RecordLock& wanted);

    std::shared_ptr<FlockState> m_state;
    std::map<Key, std::vector<RecordLock>> m_locks;  // guarded by m_state->lock
};

// Held by an open file description that took a flock(2) lock: drops the
// lock when the description goes (its last close).
class FlockHold {
public:
    FlockHold(std::shared_ptr<FileLocks::FlockState> state, LockKey key, const OpenFile* owner)
        : m_state(std::move(state)), m_key(key), m_owner(owner) {}
    ~FlockHold();
    FlockHold(const FlockHold&) = delete;
    FlockHold& operator=(const FlockHold&) = delete;

private:
    std::shared_ptr<FileLocks::FlockState> m_state;
    LockKey m_key;
    const OpenFile* m_owner;
};

}  // namespace myst::fs
