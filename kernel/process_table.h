// The kernel's processes by pid, live ones and zombies (guarded by the
// kernel lock). A process leaves the table when its parent reaps it.
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <vector>

#include "kernel/memory_manager.h"

namespace myst::kernel {

class Process;

class ProcessTable {
public:
    ProcessTable();
    ~ProcessTable();
    ProcessTable(const ProcessTable&) = delete;
    ProcessTable& operator=(const ProcessTable&) = delete;

    Process& add(std::unique_ptr<Process> process);
    // Null when there is no such process (zombies are found).
    Process* find(pid_t pid) const;
    // wait(2) reaped it, or it needed no reaping.
    std::unique_ptr<Process> remove(pid_t pid);
    // Every process, in pid order.
    std::vector<Process*> all() const;
    std::vector<Process*> children_of(pid_t parent) const;
    // Whether a process other than `except` that has not ended uses `space`.
    bool space_in_use(SpaceId space, const Process* except) const;
    size_t size() const { return m_processes.size(); }

private:
    std::map<pid_t, std::unique_ptr<Process>> m_processes;
};

}  // namespace myst::kernel
