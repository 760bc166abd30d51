#include "fs/vfs/file_locks.h"

#include "fs/vfs/inode.h"

namespace myst::fs {

namespace {

bool overlaps(const RecordLock& a, const RecordLock& b) {
    return a.start < b.end && b.start < a.end;
}

// Removes the part of `owner`'s locks that lies in [start, end).
void cut_range(std::vector<RecordLock>& locks, pid_t owner, uint64_t start, uint64_t end) {
    std::vector<RecordLock> kept;
    for (const RecordLock& lock : locks) {
        if (lock.owner != owner || lock.end <= start || end <= lock.start) {
            kept.push_back(lock);
            continue;
        }
        if (lock.start < start) {
            RecordLock left = lock;
            left.end = start;
            kept.push_back(left);
        }
        if (end < lock.end) {
            RecordLock right = lock;
            right.start = end;
            kept.push_back(right);
        }
    }
    locks = std::move(kept);
}

}  // namespace

FileLocks::Key FileLocks::key_of(const Inode& inode) {
    return {&inode.file_system(), inode.ino()};
}

std::optional<RecordLock> FileLocks::conflict_locked(const std::vector<RecordLock>& locks,
                                                     const RecordLock& wanted) {
    for (const RecordLock& lock : locks) {
        if (lock.owner == wanted.owner || !overlaps(lock, wanted))
            continue;
        if (lock.type == F_WRLCK || wanted.type == F_WRLCK)
            return lock;
    }
    return std::nullopt;
}

std::optional<RecordLock> FileLocks::find_conflict(const Inode& inode, const RecordLock& wanted) {
    std::lock_guard guard(m_lock);
    auto it = m_locks.find(key_of(inode));
    if (it == m_locks.end())
        return std::nullopt;
    return conflict_locked(it->second, wanted);
}

Result<void> FileLocks::set(const Inode& inode, const RecordLock& lock, bool wait) {
    if (lock.start >= lock.end)
        return Error(EINVAL, "empty lock range");
    std::unique_lock guard(m_lock);
    Key key = key_of(inode);
    if (lock.type != F_UNLCK) {
        for (;;) {
            auto it = m_locks.find(key);
            if (it == m_locks.end() || !conflict_locked(it->second, lock))
                break;
            if (!wait)
                return Error(EAGAIN, "range is locked by another process");
            m_changed.wait(guard);
        }
    }
    std::vector<RecordLock>& locks = m_locks[key];
    cut_range(locks, lock.owner, lock.start, lock.end);
    if (lock.type != F_UNLCK)
        locks.push_back(lock);
    if (locks.empty())
        m_locks.erase(key);
    m_changed.notify_all();
    return {};
}

void FileLocks::release(const Inode& inode, pid_t owner) {
    std::lock_guard guard(m_lock);
    auto it = m_locks.find(key_of(inode));
    if (it == m_locks.end())
        return;
    cut_range(it->second, owner, 0, UINT64_MAX);
    if (it->second.empty())
        m_locks.erase(it);
    m_changed.notify_all();
}

void FileLocks::release_owner(pid_t owner) {
    std::lock_guard guard(m_lock);
    for (auto it = m_locks.begin(); it != m_locks.end();) {
        cut_range(it->second, owner, 0, UINT64_MAX);
        it = it->second.empty() ? m_locks.erase(it) : std::next(it);
    }
    m_changed.notify_all();
}

}  // namespace myst::fs
