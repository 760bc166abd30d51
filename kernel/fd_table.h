// A process's file descriptor table: descriptor numbers -> counted
// references to open file descriptions, each with its close-on-exec flag.
// Numbers are allocated lowest-free first, up to a limit (RLIMIT_NOFILE,
// 1024 by default, at most kMaxLimit: EMFILE past it). One mutex guards the table; files are
// released after it is unlocked, so a closing file never runs under it.
#pragma once

#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "base/result.h"
#include "fs/vfs/open_file.h"

namespace myst::kernel {

class FdTable {
public:
    static constexpr int kDefaultLimit = 1024;
    // The highest RLIMIT_NOFILE a process may set (Linux's fs.nr_open is
    // 1048576): every open description costs kernel memory outside the
    // program's budget, so the ceiling is lower here.
    static constexpr int kMaxLimit = 65536;

    FdTable() = default;
    FdTable(const FdTable&) = delete;
    FdTable& operator=(const FdTable&) = delete;

    // The lowest free descriptor >= `lowest` (EMFILE when none is below the
    // limit, EINVAL when `lowest` is at or past it, as F_DUPFD wants).
    Result<int> allocate(std::shared_ptr<fs::OpenFile> file, bool close_on_exec, int lowest = 0);
    // Puts `file` at exactly `fd`, closing what was there (EBADF past the limit).
    Result<void> install(int fd, std::shared_ptr<fs::OpenFile> file, bool close_on_exec);
    // EBADF when `fd` is not open.
    Result<std::shared_ptr<fs::OpenFile>> get(int fd) const;
    // close(2): frees `fd` and hands back its file (EBADF when not open).
    Result<std::shared_ptr<fs::OpenFile>> remove(int fd);

    // dup(2), F_DUPFD, F_DUPFD_CLOEXEC: a new descriptor >= `lowest`.
    Result<int> duplicate(int fd, int lowest, bool close_on_exec);
    // dup2(2)/dup3(2): `new_fd` refers to `old_fd`'s file afterwards; what
    // `new_fd` referred to is closed and, when `replaced` is given, handed
    // back. old_fd == new_fd returns new_fd untouched (dup2's rule; dup3
    // rejects it before calling).
    Result<int> duplicate_to(int old_fd, int new_fd, bool close_on_exec,
                             std::shared_ptr<fs::OpenFile>* replaced = nullptr);

    Result<bool> close_on_exec(int fd) const;
    Result<void> set_close_on_exec(int fd, bool close_on_exec);

    // execve(2): closes every close-on-exec descriptor.
    void close_on_exec_all();
    // Process exit: closes everything.
    void close_all();
    // fork(2): this table becomes a copy of `other` (same files, same flags).
    void copy_from(const FdTable& other);

    // The open descriptors, ascending.
    std::vector<int> open_fds() const;
    int limit() const;
    // setrlimit(RLIMIT_NOFILE); open descriptors past the limit stay open.
    void set_limit(int limit);

private:
    struct Slot {
        std::shared_ptr<fs::OpenFile> file;
        bool close_on_exec = false;
    };

    Result<int> allocate_locked(std::shared_ptr<fs::OpenFile> file, bool close_on_exec, int lowest);
    bool is_open_locked(int fd) const;

    mutable std::mutex m_lock;
    std::vector<Slot> m_slots;  // index = descriptor
    int m_limit = kDefaultLimit;
};

}  // namespace myst::kernel
