#include "kernel/fs_context.h"

#include <fcntl.h>
#include <unistd.h>

#include "fs/hostfs/host_stream_file.h"
#include "kernel/elf_loader.h"
#include "kernel/kernel.h"
#include "kernel/process.h"
#include "kernel/thread.h"

namespace myst::kernel {

fs::PathRef FsContext::root() const {
    std::lock_guard guard(m_lock);
    return m_root;
}

fs::PathRef FsContext::cwd() const {
    std::lock_guard guard(m_lock);
    return m_cwd;
}

void FsContext::set_cwd(fs::PathRef cwd) {
    fs::PathRef old;  // released after the lock
    std::lock_guard guard(m_lock);
    old = std::move(m_cwd);
    m_cwd = std::move(cwd);
}

void FsContext::set_root(fs::PathRef root) {
    fs::PathRef old;  // released after the lock
    std::lock_guard guard(m_lock);
    old = std::move(m_root);
    m_root = std::move(root);
}

std::unique_ptr<FsContext> FsContext::clone() const {
    auto copy = std::make_unique<FsContext>(root(), cwd());
    copy->m_umask = umask();
    copy->fds.copy_from(fds);
    return copy;
}

Result<std::unique_ptr<FsContext>> create_fs_context(fs::Vfs& vfs, const std::string& cwd) {
    if (cwd.empty() || cwd.front() != '/')
        return Error::invalid("working directory must be absolute: '" + cwd + "'");
    auto resolved = vfs.resolve(vfs.root_lookup(), cwd);
    if (resolved.is_error())
        return resolved.release_error().with_context("working directory " + cwd);
    fs::PathRef node = resolved.release_value();
    if (!node->inode()->is_directory())
        return Error(ENOTDIR, "working directory " + cwd + " is not a directory");
    return std::make_unique<FsContext>(vfs.root(), std::move(node));
}

Result<void> install_standard_streams(FsContext& context, Target& target) {
    for (int fd = 0; fd <= 2; ++fd) {
        auto st = target.file_stat(fd);
        if (st.is_error())
            continue;  // closed on the host: closed for the program too
        int flags = S_ISCHR(st.value().st_mode) ? O_RDWR : (fd == 0 ? O_RDONLY : O_WRONLY);
        TRY(context.fds.install(fd, std::make_shared<fs::HostStreamFile>(target, fd, flags),
                                false));
    }
    return {};
}

Result<ExecutableFile> open_executable(const fs::Vfs& vfs, const fs::Lookup& at,
                                       const std::string& path) {
    fs::PathRef node = TRY(vfs.resolve(at, path));
    const std::shared_ptr<fs::Inode>& inode = node->inode();
    struct stat st = TRY(inode->stat());
    if (!S_ISREG(st.st_mode))
        return Error(EACCES, path + ": not a regular file");
    auto allowed = fs::check_permission(st, at.identity, X_OK);
    if (allowed.is_error())
        return Error(EACCES, path + ": permission denied");
    // Running needs x, not r: open the file for the loader directly.
    std::shared_ptr<fs::OpenFile> file = TRY(inode->open(node, O_RDONLY));
    return ExecutableFile{node->to_string(), static_cast<uint64_t>(st.st_size), std::move(file)};
}

Result<ExecutableFile> open_executable(Thread& thread, const std::string& path) {
    FsContext& context = thread.process().fs();
    const Credentials& credentials = thread.process().credentials();
    fs::Lookup at{context.root(), context.cwd(), {credentials.fsuid, credentials.fsgid}};
    return open_executable(thread.kernel().vfs(), at, path);
}

}  // namespace myst::kernel
