// A process's file-system context: its root and working directory, umask
// and descriptor table (Linux's fs_struct and files_struct together).
#pragma once

#include <sys/stat.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "base/result.h"
#include "fs/vfs/vfs.h"
#include "kernel/fd_table.h"
#include "target/target.h"

namespace myst::kernel {

class Thread;
struct ExecutableFile;  // kernel/elf_loader.h

struct FsContext {
    FsContext(fs::PathRef root, fs::PathRef cwd) : m_root(std::move(root)), m_cwd(std::move(cwd)) {}

    fs::PathRef root() const;
    fs::PathRef cwd() const;
    void set_cwd(fs::PathRef cwd);
    // chroot(2): absolute paths start at `root` and ".." stops there.
    void set_root(fs::PathRef root);
    mode_t umask() const { return m_umask.load(); }
    // umask(2): sets the mask, returns the old one.
    mode_t exchange_umask(mode_t mask) { return m_umask.exchange(mask & 0777); }

    // fork(2): a context with the same directories, umask and descriptors.
    std::unique_ptr<FsContext> clone() const;

    FdTable fds;

private:
    mutable std::mutex m_lock;  // guards m_root and m_cwd
    fs::PathRef m_root;
    fs::PathRef m_cwd;
    std::atomic<mode_t> m_umask{022};
};

// A context rooted at the VFS root with `cwd` (absolute) as working
// directory and no descriptors.
Result<std::unique_ptr<FsContext>> create_fs_context(fs::Vfs& vfs, const std::string& cwd);

// Installs fds 0, 1, 2 as the host's standard streams (those that are open
// on the host): O_RDWR for terminals, else O_RDONLY for 0 and O_WRONLY for 1, 2.
Result<void> install_standard_streams(FsContext& context, Target& target);

// Reads the program (or interpreter) execve(2) runs, for the ELF loader
// (kernel/elf_loader.h): resolves `path` (relative to the cwd, symlinks
// followed); ENOENT when missing, EACCES unless it is a regular file with an
// x bit the caller may use (root: any x bit). The path in the result is
// absolute with every symlink resolved (/proc/self/exe).
Result<ExecutableFile> open_executable(const fs::Vfs& vfs, const fs::Lookup& at,
                                       const std::string& path);
Result<ExecutableFile> open_executable(Thread& thread, const std::string& path);

}  // namespace myst::kernel
