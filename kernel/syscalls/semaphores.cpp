// System V semaphores: semget, semop, semtimedop and semctl over the
// kernel's sets (kernel/sysv_semaphores.h). A semop that cannot go on
// sleeps on its set's change word without the kernel lock and tries again
// after every change; a signal ends the wait with EINTR, never restarted
// (signal(7)), and the set's removal with EIDRM.
#include <sys/sem.h>

#include <vector>

#include "kernel/ipc_namespace.h"
#include "kernel/kernel.h"
#include "kernel/readiness.h"
#include "kernel/syscalls/handlers.h"
#include "kernel/thread.h"
#include "kernel/user_memory.h"

namespace myst::kernel {

namespace {

constexpr int sem_stat_any = 20;  // SEM_STAT_ANY (Linux 4.17)
constexpr int readable = 0444;    // S_IRUGO
constexpr int writable = 0222;    // S_IWUGO

SemaphoreRegistry& semaphores(Thread& thread) {
    return thread.kernel().ipc().semaphores;
}

// semctl's fourth argument (union semun) as the register carries it.
struct SemArgument {
    uint64_t raw;
    int value() const { return static_cast<int>(raw); }
    uint64_t address() const { return raw; }
};

struct semid_ds status_of(const SemaphoreSet& set) {
    return set.status;
}

// Counts a caller asleep on the operation that blocked it (GETNCNT,
// GETZCNT) for as long as the scope lasts.
class WaiterCount {
public:
    WaiterCount(std::shared_ptr<SemaphoreSet> set, const struct sembuf& op)
        : m_set(std::move(set)), m_index(op.sem_num), m_zero(op.sem_op == 0) {
        counter()++;
    }
    ~WaiterCount() { counter()--; }
    WaiterCount(const WaiterCount&) = delete;
    WaiterCount& operator=(const WaiterCount&) = delete;

private:
    unsigned& counter() {
        Semaphore& semaphore = m_set->semaphores[m_index];
        return m_zero ? semaphore.zero_waiters : semaphore.increase_waiters;
    }
    std::shared_ptr<SemaphoreSet> m_set;
    size_t m_index;
    bool m_zero;
};

Result<long> semaphore_operations(Thread& thread, int id, uint64_t address, uint64_t count,
                                  uint64_t timeout_address) {
    if (id < 0)
        return Error(EINVAL, "negative semaphore set id");
    if (count < 1)
        return Error(EINVAL, "no operations");
    if (count > sem_ops_max)
        return Error(E2BIG, "more than SEMOPM operations");
    std::vector<struct sembuf> operations(count);
    TRY(copy_from_user(thread, operations.data(), address, count * sizeof(struct sembuf)));
    std::optional<struct timespec> deadline;
    if (timeout_address) {
        auto timeout = TRY(read_user<struct timespec>(thread, timeout_address));
        if (timeout.tv_sec < 0 || timeout.tv_nsec < 0 || timeout.tv_nsec >= 1000000000)
            return Error(EINVAL, "bad semtimedop timeout");
        deadline = monotonic_after(thread, timeout);
    }
    unsigned short highest = 0;
    bool alters = false;
    for (const struct sembuf& op : operations) {
        highest = std::max(highest, op.sem_num);
        alters |= op.sem_op != 0;
    }
    SemaphoreRegistry& registry = semaphores(thread);
    std::shared_ptr<SemaphoreSet> set = TRY(registry.find(id));
    if (highest >= set->semaphores.size())
        return Error(EFBIG, "sem_num past the set");
    for (;;) {
        IpcCaller caller = ipc_caller(thread);
        if (!ipc_permitted(set->status.sem_perm, caller, alters ? writable : readable))
            return Error(EACCES, "semaphore set permission denied");
        if (set->removed)
            return Error(EIDRM, "the semaphore set was removed");
        uint32_t seen = set->changes.value();
        SemopOutcome outcome = TRY(registry.try_operations(*set, id, operations, caller));
        if (outcome.done)
            return 0;
        const struct sembuf& blocking = operations[static_cast<size_t>(outcome.blocking_index)];
        if (blocking.sem_flg & IPC_NOWAIT)
            return Error(EAGAIN, "the operation would block (IPC_NOWAIT)");
        WaiterCount waiting(set, blocking);
        if (!TRY(set->changes.wait(thread, seen, deadline))) {
            if (set->removed)
                return Error(EIDRM, "the semaphore set was removed");
            return Error(EAGAIN, "semtimedop timed out");
        }
    }
}

Result<long> semaphore_info(Thread& thread, int command, uint64_t address) {
    SemaphoreRegistry& registry = semaphores(thread);
    struct seminfo info {};
    info.semmni = sem_sets_max;
    info.semmns = static_cast<int>(sem_total_max);
    info.semmsl = sem_set_max;
    info.semopm = sem_ops_max;
    info.semvmx = sem_value_max;
    info.semmnu = static_cast<int>(sem_total_max);  // SEMMNU
    info.semmap = static_cast<int>(sem_total_max);  // SEMMAP
    info.semume = sem_ops_max;                      // SEMUME
    if (command == SEM_INFO) {
        info.semusz = static_cast<int>(registry.sets_in_use());
        info.semaem = static_cast<int>(registry.semaphores_in_use());
    } else {
        info.semusz = 20;  // SEMUSZ
        info.semaem = sem_adjust_max;
    }
    TRY(write_user(thread, address, info));
    return std::max(registry.max_index(), 0);
}

Result<long> semaphore_stat(Thread& thread, int command, int index, uint64_t address) {
    auto [id, set] = TRY(semaphores(thread).at_index(index));
    if (command == SEM_STAT && !ipc_permitted(set->status.sem_perm, ipc_caller(thread), readable))
        return Error(EACCES, "semaphore set permission denied");
    TRY(write_user(thread, address, status_of(*set)));
    return id;
}

// GETALL and SETALL: the values as unsigned shorts.
Result<long> semaphore_array(Thread& thread, SemaphoreSet& set, int id, int command,
                             uint64_t address) {
    IpcCaller caller = ipc_caller(thread);
    size_t count = set.semaphores.size();
    std::vector<unsigned short> values(count);
    if (command == GETALL) {
        for (size_t i = 0; i < count; ++i)
            values[i] = static_cast<unsigned short>(set.semaphores[i].value);
        TRY(copy_to_user(thread, address, values.data(), count * sizeof(unsigned short)));
        return 0;
    }
    TRY(copy_from_user(thread, values.data(), address, count * sizeof(unsigned short)));
    for (unsigned short value : values)
        if (value > sem_value_max)
            return Error(ERANGE, "a value past SEMVMX");
    semaphores(thread).set_all(set, id, values, caller);
    return 0;
}

}  // namespace

// Semget implements Linux syscall semget(2).
Result<long> sys_semget(Thread& thread, const SyscallArgs& args) {
    return TRY(semaphores(thread).get(static_cast<key_t>(args.integer(0)), args.integer(1),
                                      args.integer(2), ipc_caller(thread)));
}

// Semop implements Linux syscall semop(2).
Result<long> sys_semop(Thread& thread, const SyscallArgs& args) {
    return semaphore_operations(thread, args.integer(0), args.address(1), args.size(2), 0);
}

// Semtimedop implements Linux syscall semtimedop(2): semop with a relative
// timeout, EAGAIN when it passes.
Result<long> sys_semtimedop(Thread& thread, const SyscallArgs& args) {
    return semaphore_operations(thread, args.integer(0), args.address(1), args.size(2),
                                args.address(3));
}

// Semctl implements Linux syscall semctl(2): IPC_STAT, IPC_SET, IPC_RMID,
// IPC_INFO, SEM_INFO, SEM_STAT, SEM_STAT_ANY, GETVAL, SETVAL, GETALL,
// SETALL, GETPID, GETNCNT and GETZCNT, with Linux's checks in its order.
Result<long> sys_semctl(Thread& thread, const SyscallArgs& args) {
    int id = args.integer(0);
    int index = args.integer(1);
    int command = args.integer(2) & ~ipc_64_flag;
    SemArgument argument{args.raw[3]};
    // Linux refuses a negative id for every command, IPC_INFO too.
    if (id < 0)
        return Error(EINVAL, "negative semaphore set id");
    switch (command) {
        case IPC_INFO:
        case SEM_INFO:
            return semaphore_info(thread, command, argument.address());
        case SEM_STAT:
        case sem_stat_any:
            return semaphore_stat(thread, command, id, argument.address());
        case SETVAL:
            if (argument.value() < 0 || argument.value() > sem_value_max)
                return Error(ERANGE, "SETVAL past SEMVMX");
            break;
        case IPC_STAT:
        case IPC_SET:
        case IPC_RMID:
        case GETVAL:
        case GETALL:
        case SETALL:
        case GETPID:
        case GETNCNT:
        case GETZCNT:
            break;
        default:
            return Error(EINVAL, "unknown semctl command");
    }
    // IPC_SET reads its argument before looking the set up.
    struct semid_ds wanted {};
    if (command == IPC_SET)
        wanted = TRY(read_user<struct semid_ds>(thread, argument.address()));
    SemaphoreRegistry& registry = semaphores(thread);
    std::shared_ptr<SemaphoreSet> set = TRY(registry.find(id));
    IpcCaller caller = ipc_caller(thread);
    if (command == IPC_SET || command == IPC_RMID) {
        if (!ipc_may_change(set->status.sem_perm, caller))
            return Error(EPERM, "not the owner of the semaphore set");
        if (command == IPC_RMID) {
            registry.remove(id);
            return 0;
        }
        ipc_set_owner(set->status.sem_perm, wanted.sem_perm);
        set->status.sem_ctime = caller.now;
        return 0;
    }
    int wanted_access = (command == SETVAL || command == SETALL) ? writable : readable;
    if (command == SETVAL) {
        // SETVAL checks the index before the permission.
        if (index < 0 || static_cast<size_t>(index) >= set->semaphores.size())
            return Error(EINVAL, "semnum past the set");
    }
    if (!ipc_permitted(set->status.sem_perm, caller, wanted_access))
        return Error(EACCES, "semaphore set permission denied");
    if (command == IPC_STAT) {
        TRY(write_user(thread, argument.address(), status_of(*set)));
        return 0;
    }
    if (command == GETALL || command == SETALL)
        return semaphore_array(thread, *set, id, command, argument.address());
    if (index < 0 || static_cast<size_t>(index) >= set->semaphores.size())
        return Error(EINVAL, "semnum past the set");
    Semaphore& semaphore = set->semaphores[static_cast<size_t>(index)];
    switch (command) {
        case GETVAL:
            return semaphore.value;
        case GETPID:
            return semaphore.pid;
        case GETNCNT:
            return semaphore.increase_waiters;
        case GETZCNT:
            return semaphore.zero_waiters;
        default:  // SETVAL
            registry.set_value(*set, id, index, argument.value(), caller);
            return 0;
    }
}

}  // namespace myst::kernel
