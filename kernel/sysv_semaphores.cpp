#include "kernel/sysv_semaphores.h"

#include <algorithm>

namespace myst::kernel {

SemaphoreSet::~SemaphoreSet() {
    memory.uncharge_shared(semaphores.size() * sizeof(Semaphore));
}

Result<int> SemaphoreRegistry::get(key_t key, int count, int flags, const IpcCaller& caller) {
    if (count < 0 || count > sem_set_max)
        return Error(EINVAL, "nsems out of range");
    auto create = [&]() -> Result<int> {
        if (count == 0)
            return Error(EINVAL, "a new set needs nsems > 0");
        if (m_semaphores_in_use + count > sem_total_max)
            return Error(ENOSPC, "SEMMNS reached");
        if (m_sets.size() >= static_cast<size_t>(sem_sets_max))
            return Error(ENOSPC, "SEMMNI reached");
        TRY(m_memory.charge_shared(static_cast<uint64_t>(count) * sizeof(Semaphore)));
        auto set = std::make_shared<SemaphoreSet>(m_memory, static_cast<size_t>(count));
        ipc_init_perm(set->status.sem_perm, key, flags, caller);
        set->status.sem_nsems = static_cast<unsigned long>(count);
        set->status.sem_ctime = caller.now;
        int id = TRY(m_sets.add(set));
        m_semaphores_in_use += count;
        return id;
    };
    auto check = [&](SemaphoreSet& set) -> Result<void> {
        if (static_cast<size_t>(count) > set.semaphores.size())
            return Error(EINVAL, "the set has fewer semaphores than asked");
        return {};
    };
    return ipc_get(m_sets, key, flags, caller, create, check);
}

Result<SemopOutcome> SemaphoreRegistry::try_operations(SemaphoreSet& set, int id,
                                                       std::span<const struct sembuf> operations,
                                                       const IpcCaller& caller) {
    // Each operation sees the ones before it (several may name one
    // semaphore); nothing is kept unless all go through.
    std::vector<int> values(set.semaphores.size());
    for (size_t i = 0; i < values.size(); ++i)
        values[i] = set.semaphores[i].value;
    std::vector<int>* undo = nullptr;
    std::vector<int> adjustments;
    bool any_undo = std::any_of(operations.begin(), operations.end(),
                                [](const struct sembuf& op) { return op.sem_flg & SEM_UNDO; });
    if (any_undo) {
        undo = &m_undo[caller.pid][id];
        undo->resize(set.semaphores.size());
        adjustments = *undo;
    }
    bool altered = false;
    for (size_t i = 0; i < operations.size(); ++i) {
        const struct sembuf& op = operations[i];
        int& value = values[op.sem_num];
        if (op.sem_op == 0) {
            if (value != 0)
                return SemopOutcome{false, static_cast<int>(i)};
            continue;
        }
        int result = value + op.sem_op;
        if (result < 0)
            return SemopOutcome{false, static_cast<int>(i)};
        if (result > sem_value_max)
            return Error(ERANGE, "the semaphore would pass SEMVMX");
        if (op.sem_flg & SEM_UNDO) {
            int adjustment = adjustments[op.sem_num] - op.sem_op;
            if (adjustment < -sem_adjust_max - 1 || adjustment > sem_adjust_max)
                return Error(ERANGE, "the undo adjustment would pass SEMAEM");
            adjustments[op.sem_num] = adjustment;
        }
        value = result;
        altered = true;
    }
    for (size_t i = 0; i < values.size(); ++i)
        set.semaphores[i].value = values[i];
    for (const struct sembuf& op : operations)
        set.semaphores[op.sem_num].pid = caller.pid;
    if (undo)
        *undo = std::move(adjustments);
    set.status.sem_otime = caller.now;
    if (altered)
        set.changes.changed(m_target);
    return SemopOutcome{true, -1};
}

void SemaphoreRegistry::set_value(SemaphoreSet& set, int id, int index, int value,
                                  const IpcCaller& caller) {
    set.semaphores[static_cast<size_t>(index)].value = value;
    set.semaphores[static_cast<size_t>(index)].pid = caller.pid;
    for (auto& [pid, list] : m_undo) {
        auto it = list.find(id);
        if (it != list.end())
            it->second[static_cast<size_t>(index)] = 0;
    }
    set.status.sem_ctime = caller.now;
    set.changes.changed(m_target);
}

void SemaphoreRegistry::set_all(SemaphoreSet& set, int id, std::span<const unsigned short> values,
                                const IpcCaller& caller) {
    for (size_t i = 0; i < set.semaphores.size(); ++i) {
        set.semaphores[i].value = values[i];
        set.semaphores[i].pid = caller.pid;
    }
    for (auto& [pid, list] : m_undo)
        list.erase(id);
    set.status.sem_ctime = caller.now;
    set.changes.changed(m_target);
}

void SemaphoreRegistry::remove(int id) {
    auto found = m_sets.find(id);
    if (found.is_error())
        return;
    std::shared_ptr<SemaphoreSet> set = found.release_value();
    set->removed = true;
    m_semaphores_in_use -= static_cast<int64_t>(set->semaphores.size());
    m_sets.remove(id);
    for (auto& [pid, list] : m_undo)
        list.erase(id);
    set->changes.changed(m_target);
}

void SemaphoreRegistry::process_ended(pid_t pid) {
    auto it = m_undo.find(pid);
    if (it == m_undo.end())
        return;
    UndoList list = std::move(it->second);
    m_undo.erase(it);
    for (auto& [id, adjustments] : list) {
        auto found = m_sets.find(id);
        if (found.is_error())
            continue;
        SemaphoreSet& set = *found.value();
        bool changed = false;
        for (size_t i = 0; i < adjustments.size() && i < set.semaphores.size(); ++i) {
            if (adjustments[i] == 0)
                continue;
            Semaphore& semaphore = set.semaphores[i];
            semaphore.value = std::clamp(semaphore.value + adjustments[i], 0, sem_value_max);
            semaphore.pid = pid;
            changed = true;
        }
        if (changed)
            set.changes.changed(m_target);
    }
}

}  // namespace myst::kernel
