#include "kernel/syscalls/file_mapping.h"

#include <sys/mman.h>
#include <sys/stat.h>

#include "kernel/kernel.h"
#include "kernel/shared_pages.h"
#include "kernel/syscalls/file_common.h"
#include "kernel/thread.h"

namespace myst::kernel {

Result<std::string> fill_file_mapping(Thread& thread, int fd, uint64_t offset, uint64_t address,
                                      uint64_t length) {
    std::shared_ptr<fs::OpenFile> file = TRY(io_file_of(thread, fd));
    if (!file->can_read())
        return Error(EACCES, "file mapping needs a readable descriptor");
    std::shared_ptr<fs::Inode> inode = file->inode();
    if (!inode)
        return Error(ENODEV, "file cannot be mapped");
    const std::string path = file->path()->to_string();
    // /dev/zero maps as zeros, which the fresh mapping already is.
    if (S_ISCHR(inode->type()))
        return path;
    if (!inode->is_regular())
        return Error(ENODEV, "file cannot be mapped");
    // The mapping was just made writable by the kernel for this copy, so
    // the bytes go straight into it.
    auto* destination = reinterpret_cast<uint8_t*>(address);
    uint64_t done = 0;
    while (done < length) {
        size_t count =
            TRY(file->pread(std::span(destination + done, length - done), offset + done));
        if (count == 0)
            break;  // past the end of the file: the rest stays zero
        done += count;
    }
    return path;
}

Result<SharedFilePages> shared_file_pages(Thread& thread, int fd, int protection, uint64_t length) {
    std::shared_ptr<fs::OpenFile> file = TRY(io_file_of(thread, fd));
    if (!file->can_read())
        return Error(EACCES, "file mapping needs a readable descriptor");
    if ((protection & PROT_WRITE) && !file->can_write())
        return Error(EACCES, "a writable shared mapping needs a writable descriptor");
    std::shared_ptr<fs::Inode> inode = file->inode();
    if (!inode)
        return Error(ENODEV, "file cannot be mapped");
    Kernel& kernel = thread.kernel();
    if (S_ISCHR(inode->type()))
        return SharedFilePages{
            TRY(SharedPages::create(kernel.target(), kernel.memory(), page_align_up(length))),
            "/dev/zero (deleted)"};
    if (!inode->is_regular())
        return Error(ENODEV, "file cannot be mapped");
    // As Linux's maps: an unlinked file (a memfd) is "<path> (deleted)".
    return SharedFilePages{TRY(SharedPages::of_file(kernel.target(), kernel.memory(), inode)),
                           file->describe()};
}

}  // namespace myst::kernel
