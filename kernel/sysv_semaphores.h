// System V semaphore sets (semget(2), semop(2), semctl(2)), shared by
// every process of the kernel. A set's values, its per-semaphore last pid
// and waiter counts, and the SEM_UNDO adjustments of each process live
// here; the syscalls (kernel/syscalls/semaphores.cpp) check arguments and
// wait. Limits are Linux's defaults (/proc/sys/kernel/sem).
//
// Memory (DESIGN.md decision 5): a set's semaphores are charged to the
// budget while it exists (ENOMEM past it).
//
// Guarded by the kernel lock.
#pragma once

#include <sys/sem.h>
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <vector>

#include "base/result.h"
#include "kernel/ipc_common.h"
#include "kernel/memory_manager.h"

namespace myst::kernel {

// SEMMSL, SEMMNS, SEMOPM, SEMMNI, SEMVMX and SEMAEM.
constexpr int sem_set_max = 32000;
constexpr int64_t sem_total_max = 1024000000;
constexpr int sem_ops_max = 500;
constexpr int sem_sets_max = 32000;
constexpr int sem_value_max = 32767;
constexpr int sem_adjust_max = 32767;

struct Semaphore {
    int value = 0;
    pid_t pid = 0;  // GETPID: the last process that changed or waited on it
    // GETNCNT and GETZCNT: callers asleep on this semaphore, waiting for
    // it to grow or to be zero.
    unsigned increase_waiters = 0;
    unsigned zero_waiters = 0;
};

struct SemaphoreSet {
    SemaphoreSet(MemoryManager& memory, size_t count) : memory(memory), semaphores(count) {}
    ~SemaphoreSet();

    MemoryManager& memory;
    struct semid_ds status {};  // sem_perm, sem_otime, sem_ctime, sem_nsems
    std::vector<Semaphore> semaphores;
    bool removed = false;  // IPC_RMID: waiters leave with EIDRM
    ChangeWord changes;

    struct ipc_perm& permissions() {
        return status.sem_perm;
    }
};

// What a semop attempt did: all done, or which operation must wait.
struct SemopOutcome {
    bool done = false;
    int blocking_index = -1;  // the operation that cannot go on yet
};

class SemaphoreRegistry {
public:
    SemaphoreRegistry(Target& target, MemoryManager& memory)
        : m_target(target), m_memory(memory), m_sets(sem_sets_max) {}

    // semget(2).
    Result<int> get(key_t key, int count, int flags, const IpcCaller& caller);
    Result<std::shared_ptr<SemaphoreSet>> find(int id) const { return m_sets.find(id); }
    Result<std::pair<int, std::shared_ptr<SemaphoreSet>>> at_index(int index) const {
        return m_sets.at_index(index);
    }
    // Linux's perform_atomic_semop(): every operation of `operations` or
    // none; ERANGE past SEMVMX or the undo range. Done operations update
    // the pids, sem_otime and the caller's undo adjustments, and wake
    // waiters.
    Result<SemopOutcome> try_operations(SemaphoreSet& set, int id,
                                        std::span<const struct sembuf> operations,
                                        const IpcCaller& caller);
    // SETVAL and SETALL: new values; every process's adjustment of those
    // semaphores is dropped, as Linux does.
    void set_value(SemaphoreSet& set, int id, int index, int value, const IpcCaller& caller);
    void set_all(SemaphoreSet& set, int id, std::span<const unsigned short> values,
                 const IpcCaller& caller);
    // IPC_RMID: waiters get EIDRM.
    void remove(int id);
    // A process ended: its SEM_UNDO adjustments are applied (values clamped
    // to 0..SEMVMX, as Linux's exit_sem()).
    void process_ended(pid_t pid);
    // fork(2): the child starts without adjustments (no CLONE_SYSVSEM).

    // IPC_INFO/SEM_INFO figures.
    int max_index() const { return m_sets.max_index(); }
    size_t sets_in_use() const { return m_sets.size(); }
    int64_t semaphores_in_use() const { return m_semaphores_in_use; }

private:
    // The SEM_UNDO adjustments of one process, by set id.
    using UndoList = std::map<int, std::vector<int>>;

    Target& m_target;
    MemoryManager& m_memory;
    IpcTable<SemaphoreSet> m_sets;
    int64_t m_semaphores_in_use = 0;
    std::map<pid_t, UndoList> m_undo;
};

}  // namespace myst::kernel
