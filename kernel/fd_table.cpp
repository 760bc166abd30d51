#include "kernel/fd_table.h"

namespace myst::kernel {

bool FdTable::is_open_locked(int fd) const {
    return fd >= 0 && static_cast<size_t>(fd) < m_slots.size() && m_slots[fd].file;
}

Result<int> FdTable::allocate_locked(std::shared_ptr<fs::OpenFile> file, bool close_on_exec,
                                     int lowest) {
    if (lowest < 0 || lowest >= m_limit)
        return Error(EINVAL, "descriptor out of range");
    for (int fd = lowest; fd < m_limit; ++fd) {
        if (static_cast<size_t>(fd) >= m_slots.size())
            m_slots.resize(fd + 1);
        if (!m_slots[fd].file) {
            m_slots[fd] = {std::move(file), close_on_exec};
            return fd;
        }
    }
    return Error(EMFILE, "too many open files");
}

Result<int> FdTable::allocate(std::shared_ptr<fs::OpenFile> file, bool close_on_exec, int lowest) {
    std::lock_guard guard(m_lock);
    return allocate_locked(std::move(file), close_on_exec, lowest);
}

Result<void> FdTable::install(int fd, std::shared_ptr<fs::OpenFile> file, bool close_on_exec) {
    std::shared_ptr<fs::OpenFile> dropped;  // released after the lock
    std::lock_guard guard(m_lock);
    if (fd < 0 || fd >= m_limit)
        return Error(EBADF, "descriptor out of range");
    if (static_cast<size_t>(fd) >= m_slots.size())
        m_slots.resize(fd + 1);
    dropped = std::move(m_slots[fd].file);
    m_slots[fd] = {std::move(file), close_on_exec};
    return {};
}

Result<std::shared_ptr<fs::OpenFile>> FdTable::get(int fd) const {
    std::lock_guard guard(m_lock);
    if (!is_open_locked(fd))
        return Error(EBADF, "bad file descriptor");
    return m_slots[fd].file;
}

Result<std::shared_ptr<fs::OpenFile>> FdTable::remove(int fd) {
    std::lock_guard guard(m_lock);
    if (!is_open_locked(fd))
        return Error(EBADF, "bad file descriptor");
    std::shared_ptr<fs::OpenFile> file = std::move(m_slots[fd].file);
    m_slots[fd] = {};
    return file;
}

Result<int> FdTable::duplicate(int fd, int lowest, bool close_on_exec) {
    std::lock_guard guard(m_lock);
    if (!is_open_locked(fd))
        return Error(EBADF, "bad file descriptor");
    return allocate_locked(m_slots[fd].file, close_on_exec, lowest);
}

Result<int> FdTable::duplicate_to(int old_fd, int new_fd, bool close_on_exec,
                                  std::shared_ptr<fs::OpenFile>* replaced) {
    std::shared_ptr<fs::OpenFile> dropped;  // released after the lock
    std::lock_guard guard(m_lock);
    if (!is_open_locked(old_fd))
        return Error(EBADF, "bad file descriptor");
    if (new_fd < 0 || new_fd >= m_limit)
        return Error(EBADF, "descriptor out of range");
    if (old_fd == new_fd)
        return new_fd;
    if (static_cast<size_t>(new_fd) >= m_slots.size())
        m_slots.resize(new_fd + 1);
    dropped = std::move(m_slots[new_fd].file);
    m_slots[new_fd] = {m_slots[old_fd].file, close_on_exec};
    if (replaced)
        *replaced = dropped;
    return new_fd;
}

Result<bool> FdTable::close_on_exec(int fd) const {
    std::lock_guard guard(m_lock);
    if (!is_open_locked(fd))
        return Error(EBADF, "bad file descriptor");
    return m_slots[fd].close_on_exec;
}

Result<void> FdTable::set_close_on_exec(int fd, bool close_on_exec) {
    std::lock_guard guard(m_lock);
    if (!is_open_locked(fd))
        return Error(EBADF, "bad file descriptor");
    m_slots[fd].close_on_exec = close_on_exec;
    return {};
}

void FdTable::close_on_exec_all() {
    std::vector<std::shared_ptr<fs::OpenFile>> dropped;
    std::lock_guard guard(m_lock);
    for (Slot& slot : m_slots) {
        if (slot.file && slot.close_on_exec) {
            dropped.push_back(std::move(slot.file));
            slot = {};
        }
    }
}

void FdTable::close_all() {
    std::vector<Slot> dropped;
    std::lock_guard guard(m_lock);
    dropped.swap(m_slots);
}

void FdTable::copy_from(const FdTable& other) {
    if (&other == this)
        return;
    std::vector<Slot> copy;
    int limit;
    {
        std::lock_guard guard(other.m_lock);
        copy = other.m_slots;
        limit = other.m_limit;
    }
    std::lock_guard guard(m_lock);
    m_slots.swap(copy);
    m_limit = limit;
}

std::vector<int> FdTable::open_fds() const {
    std::lock_guard guard(m_lock);
    std::vector<int> fds;
    for (size_t fd = 0; fd < m_slots.size(); ++fd) {
        if (m_slots[fd].file)
            fds.push_back(static_cast<int>(fd));
    }
    return fds;
}

int FdTable::limit() const {
    std::lock_guard guard(m_lock);
    return m_limit;
}

void FdTable::set_limit(int limit) {
    std::lock_guard guard(m_lock);
    m_limit = limit;
}

}  // namespace myst::kernel
