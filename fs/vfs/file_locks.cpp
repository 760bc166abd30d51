#include "fs/vfs/file_locks.h"

#include "fs/vfs/inode.h"
#include "fs/vfs/open_file.h"

namespace myst::fs {

namespace {

bool overlaps(const RecordLock& a, const RecordLock& b) {
    return a.start < b.end && b.start < a.end;
}

// Removes the part of `owner`'s locks that lies in [start, end); true when
// some lock lost bytes.
bool cut_range(std::vector<RecordLock>& locks, pid_t owner, uint64_t start, uint64_t end) {
    std::vector<RecordLock> kept;
    bool cut = false;
    for (const RecordLock& lock : locks) {
        if (lock.owner != owner || lock.end <= start || end <= lock.start) {
            kept.push_back(lock);
            continue;
        }
        cut = true;
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
    return cut;
}

}  // namespace

// One flock(2) lock: the description that holds it.
struct FlockEntry {
    const OpenFile* owner;
    bool exclusive;
};

struct FileLocks::FlockState {
    std::mutex lock;  // guards everything here and FileLocks::m_locks
    uint32_t changes = 0;
    std::function<void(uint32_t*)> waker;
    std::map<LockKey, std::vector<FlockEntry>> flocks;

    // Tells the waiters that some lock went away (under `lock`).
    void changed_locked() {
        ++changes;
        if (waker)
            waker(&changes);
    }
    // Drops `owner`'s flock on `key`; true when it had one (under `lock`).
    bool drop_flock_locked(const LockKey& key, const OpenFile* owner) {
        auto it = flocks.find(key);
        if (it == flocks.end())
            return false;
        bool dropped = std::erase_if(it->second, [&](const FlockEntry& entry) {
                           return entry.owner == owner;
                       }) > 0;
        if (it->second.empty())
            flocks.erase(it);
        if (dropped)
            changed_locked();
        return dropped;
    }
};

FlockHold::~FlockHold() {
    std::lock_guard guard(m_state->lock);
    m_state->drop_flock_locked(m_key, m_owner);
}

FileLocks::FileLocks() : m_state(std::make_shared<FlockState>()) {}

FileLocks::~FileLocks() {
    // Descriptions that outlive the table still drop their locks, but
    // nobody is left to wake.
    set_waker(nullptr);
}

void FileLocks::set_waker(std::function<void(uint32_t*)> waker) {
    std::lock_guard guard(m_state->lock);
    m_state->waker = std::move(waker);
}

uint32_t* FileLocks::changes_word() {
    return &m_state->changes;
}

uint32_t FileLocks::changes() {
    std::lock_guard guard(m_state->lock);
    return m_state->changes;
}

FileLocks::Key FileLocks::key_of(const Inode& inode) {
    return {&inode.file_system(), 0, inode.ino()};
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
    std::lock_guard guard(m_state->lock);
    auto it = m_locks.find(key_of(inode));
    if (it == m_locks.end())
        return std::nullopt;
    return conflict_locked(it->second, wanted);
}

Result<void> FileLocks::set(const Inode& inode, const RecordLock& lock) {
    if (lock.start >= lock.end)
        return Error(EINVAL, "empty lock range");
    std::lock_guard guard(m_state->lock);
    Key key = key_of(inode);
    if (lock.type != F_UNLCK) {
        auto it = m_locks.find(key);
        if (it != m_locks.end() && conflict_locked(it->second, lock))
            return Error(EAGAIN, "range is locked by another process");
    }
    std::vector<RecordLock>& locks = m_locks[key];
    // Waiters care only about locks that shrink or go (a downgrade too).
    const bool cut = cut_range(locks, lock.owner, lock.start, lock.end);
    if (lock.type != F_UNLCK)
        locks.push_back(lock);
    if (locks.empty())
        m_locks.erase(key);
    if (cut)
        m_state->changed_locked();
    return {};
}

void FileLocks::release(const Inode& inode, pid_t owner) {
    std::lock_guard guard(m_state->lock);
    auto it = m_locks.find(key_of(inode));
    if (it == m_locks.end())
        return;
    // Every close(2) comes here: only a lock that went wakes the waiters.
    const bool cut = cut_range(it->second, owner, 0, UINT64_MAX);
    if (it->second.empty())
        m_locks.erase(it);
    if (cut)
        m_state->changed_locked();
}

void FileLocks::release_owner(pid_t owner) {
    std::lock_guard guard(m_state->lock);
    bool cut = false;
    for (auto it = m_locks.begin(); it != m_locks.end();) {
        cut = cut_range(it->second, owner, 0, UINT64_MAX) || cut;
        it = it->second.empty() ? m_locks.erase(it) : std::next(it);
    }
    if (cut)
        m_state->changed_locked();
}

Result<void> FileLocks::flock_lock(const LockKey& key, OpenFile& file, bool exclusive) {
    std::lock_guard guard(m_state->lock);
    if (auto it = m_state->flocks.find(key); it != m_state->flocks.end()) {
        for (const FlockEntry& entry : it->second)
            if (entry.owner == &file && entry.exclusive == exclusive)
                return {};
    }
    // A conversion drops the old lock first (Linux's flock_lock_inode), so
    // waiters may get in between.
    m_state->drop_flock_locked(key, &file);
    auto& current = m_state->flocks[key];
    for (const FlockEntry& entry : current) {
        if (entry.exclusive || exclusive)
            return Error(EWOULDBLOCK, "the file is locked through another open file");
    }
    current.push_back({&file, exclusive});
    if (!file.holds_flock())
        file.hold_flock(std::make_unique<FlockHold>(m_state, key, &file));
    return {};
}

void FileLocks::flock_unlock(const LockKey& key, const OpenFile& file) {
    std::lock_guard guard(m_state->lock);
    m_state->drop_flock_locked(key, &file);
}

}  // namespace myst::fs
