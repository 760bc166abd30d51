#include "kernel/process_table.h"

#include "kernel/process.h"

namespace myst::kernel {

ProcessTable::ProcessTable() = default;
ProcessTable::~ProcessTable() = default;

Process& ProcessTable::add(std::unique_ptr<Process> process) {
    pid_t pid = process->pid();
    return *m_processes.insert_or_assign(pid, std::move(process)).first->second;
}

Process* ProcessTable::find(pid_t pid) const {
    auto found = m_processes.find(pid);
    return found == m_processes.end() ? nullptr : found->second.get();
}

std::unique_ptr<Process> ProcessTable::remove(pid_t pid) {
    auto found = m_processes.find(pid);
    if (found == m_processes.end())
        return nullptr;
    std::unique_ptr<Process> process = std::move(found->second);
    m_processes.erase(found);
    return process;
}

std::vector<Process*> ProcessTable::all() const {
    std::vector<Process*> processes;
    for (const auto& [pid, process] : m_processes)
        processes.push_back(process.get());
    return processes;
}

std::vector<Process*> ProcessTable::children_of(pid_t parent) const {
    std::vector<Process*> children;
    for (const auto& [pid, process] : m_processes)
        if (process->parent_pid() == parent)
            children.push_back(process.get());
    return children;
}

bool ProcessTable::space_in_use(SpaceId space, const Process* except) const {
    for (const auto& [pid, process] : m_processes)
        if (process.get() != except && !process->ended && process->space == space)
            return true;
    return false;
}

}  // namespace myst::kernel
