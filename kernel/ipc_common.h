// What System V semaphores and message queues share (svipc(7)): the
// caller's identity as the permission checks see it, Linux's ipcperms()
// rule, the id space (an index below IPCMNI and a sequence number, so that
// an id of a removed object is not found again) with its keys, and the
// wait every blocking IPC call does.
//
// Everything here is guarded by the kernel lock; a waiting caller lets it
// go (kernel/kernel_lock.h) and sleeps on the object's change word.
#pragma once

#include <sys/ipc.h>
#include <sys/types.h>
#include <time.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "base/result.h"
#include "target/target.h"

namespace myst::kernel {

class Thread;

// Linux's IPCMNI: ids are seq * ipc_index_limit + index.
constexpr int ipc_index_limit = 32768;
// musl passes IPC_64 with every *ctl command; glibc on x86-64 does not.
constexpr int ipc_64_flag = 0x100;

// Who makes an IPC call: the effective ids checks use, the process that is
// recorded as last operator, and the time the call happens.
struct IpcCaller {
    uid_t euid = 0;
    gid_t egid = 0;
    std::vector<gid_t> groups;
    pid_t pid = 0;
    time_t now = 0;

    // Root holds every capability the IPC checks ask for (CAP_IPC_OWNER,
    // CAP_SYS_ADMIN, CAP_SYS_RESOURCE), as it does on Linux.
    bool privileged() const { return euid == 0; }
    bool in_group(gid_t gid) const;
};

IpcCaller ipc_caller(Thread& thread);

// Linux's ipcperms(): `flag` holds the wanted rwx bits in any of the three
// triads (S_IRUGO for a read, S_IWUGO for an alteration, a get call's
// flags); false when a wanted bit is not granted and the caller is not
// privileged (EACCES for the call).
bool ipc_permitted(const struct ipc_perm& perm, const IpcCaller& caller, int flag);
// IPC_SET and IPC_RMID: the owner, the creator or a privileged caller
// (else EPERM).
bool ipc_may_change(const struct ipc_perm& perm, const IpcCaller& caller);
// IPC_SET's changes to the ids and the permission bits.
void ipc_set_owner(struct ipc_perm& perm, const struct ipc_perm& wanted);
// A new object's ipc_perm: the caller owns and created it.
void ipc_init_perm(struct ipc_perm& perm, key_t key, int flags, const IpcCaller& caller);

// The objects of one IPC kind by index, with the id each was given.
// `T` has `struct ipc_perm& permissions()`.
template <typename T>
class IpcTable {
public:
    explicit IpcTable(int limit) : m_limit(limit) {}

    // A new id for `object` (ENOSPC when the table is full).
    Result<int> add(std::shared_ptr<T> object) {
        int index = 0;
        while (m_objects.count(index))
            ++index;
        if (index >= m_limit)
            return Error(ENOSPC, "too many IPC objects of this kind");
        struct ipc_perm& perm = object->permissions();
        perm.__seq = static_cast<unsigned short>(m_sequence);
        int id = m_sequence * ipc_index_limit + index;
        // Linux's IPCID_SEQ_MAX: ids stay positive ints.
        m_sequence = (m_sequence + 1) % (INT32_MAX / ipc_index_limit);
        m_objects.emplace(index, Entry{id, std::move(object)});
        return id;
    }
    // The object with `id` (EINVAL for a negative id, one never given or
    // one removed).
    Result<std::shared_ptr<T>> find(int id) const {
        if (id < 0)
            return Error(EINVAL, "negative IPC id");
        auto it = m_objects.find(id % ipc_index_limit);
        if (it == m_objects.end() || it->second.id != id)
            return Error(EINVAL, "no IPC object with this id");
        return it->second.object;
    }
    // SEM_STAT and MSG_STAT name an index, not an id.
    Result<std::pair<int, std::shared_ptr<T>>> at_index(int index) const {
        auto it = m_objects.find(index);
        if (index < 0 || it == m_objects.end())
            return Error(EINVAL, "no IPC object at this index");
        return std::pair<int, std::shared_ptr<T>>{it->second.id, it->second.object};
    }
    // The id of the live object with `key` (never IPC_PRIVATE), if any.
    std::optional<int> find_key(key_t key) const {
        for (const auto& [index, entry] : m_objects)
            if (entry.object->permissions().__key == key)
                return entry.id;
        return std::nullopt;
    }
    void remove(int id) { m_objects.erase(id % ipc_index_limit); }
    // The highest index in use, -1 when none (what IPC_INFO returns).
    int max_index() const { return m_objects.empty() ? -1 : m_objects.rbegin()->first; }
    size_t size() const { return m_objects.size(); }
    template <typename F>
    void for_each(F f) const {
        for (const auto& [index, entry] : m_objects)
            f(entry.id, *entry.object);
    }

private:
    struct Entry {
        int id;
        std::shared_ptr<T> object;
    };
    int m_limit;
    int m_sequence = 0;
    std::map<int, Entry> m_objects;
};

// Linux's ipcget(): the id for a *get call with `key` and `flags`:
// `create()` makes a new object (IPC_PRIVATE, or IPC_CREAT without one),
// `check(object)` runs Linux's more_checks on an existing one before the
// permission check. ENOENT, EEXIST and EACCES as Linux.
template <typename T, typename Create, typename Check>
Result<int> ipc_get(IpcTable<T>& table, key_t key, int flags, const IpcCaller& caller,
                    Create create, Check check) {
    if (key == IPC_PRIVATE)
        return create();
    std::optional<int> id = table.find_key(key);
    if (!id) {
        if (!(flags & IPC_CREAT))
            return Error(ENOENT, "no IPC object with this key");
        return create();
    }
    if ((flags & IPC_CREAT) && (flags & IPC_EXCL))
        return Error(EEXIST, "an IPC object with this key exists");
    std::shared_ptr<T> object = TRY(table.find(*id));
    TRY(check(*object));
    if (!ipc_permitted(object->permissions(), caller, flags))
        return Error(EACCES, "IPC permission denied");
    return *id;
}

// A word a waiter sleeps on: every change of the object bumps it and wakes
// every waiter, who then looks again under the kernel lock.
class ChangeWord {
public:
    uint32_t value() const { return m_word.load(); }
    // Bumps the word and wakes its sleepers (under the kernel lock).
    void changed(Target& target);
    // Sleeps without the kernel lock until the word moves from `seen`:
    // true then (or on a spurious wake), false once `deadline`
    // (CLOCK_MONOTONIC, absolute) passed, EINTR for a signal the thread
    // must act on.
    Result<bool> wait(Thread& thread, uint32_t seen,
                      const std::optional<struct timespec>& deadline);

private:
    std::atomic<uint32_t> m_word{0};
};

}  // namespace myst::kernel
