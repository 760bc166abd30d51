// Memory system calls: every mapping comes from the program's memory budget
// (MemoryManager); file mappings are private copies of the file's bytes.
#include <sys/mman.h>

#include <cstring>

#include "kernel/kernel.h"
#include "kernel/memory_manager.h"
#include "kernel/syscalls/file_mapping.h"
#include "kernel/syscalls/handlers.h"
#include "kernel/thread.h"

namespace myst::kernel {

namespace {

constexpr int known_protection = PROT_READ | PROT_WRITE | PROT_EXEC;

}  // namespace

// Mmap implements Linux syscall mmap(2).
Result<long> sys_mmap(Thread& thread, const SyscallArgs& args) {
    uint64_t address = args.address(0);
    uint64_t length = args.size(1);
    int protection = args.integer(2);
    int flags = args.integer(3);
    int fd = args.fd(4);
    uint64_t offset = args.raw[5];
    if (length == 0 || page_align_up(length) < length || offset % page_size != 0 ||
        (protection & ~known_protection))
        return Error(EINVAL, "bad mmap arguments");
    if (!(flags & (MAP_PRIVATE | MAP_SHARED)))
        return Error(EINVAL, "mmap needs MAP_PRIVATE or MAP_SHARED");
    MemoryManager& memory = thread.kernel().memory();
    bool anonymous = flags & MAP_ANONYMOUS;
    // The pages are written first (file bytes), then given their protection.
    int initial = anonymous ? protection : PROT_READ | PROT_WRITE;
    uint64_t mapped = 0;
    if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
        if (address % page_size != 0)
            return Error(EINVAL, "unaligned fixed mapping");
        mapped =
            TRY(memory.map_fixed(address, length, initial, "", !(flags & MAP_FIXED_NOREPLACE)));
    } else {
        mapped = TRY(memory.map_anywhere(length, initial, ""));
    }
    if (!anonymous) {
        auto filled = fill_file_mapping(thread, fd, offset, mapped, length);
        if (filled.is_error()) {
            (void)memory.unmap(mapped, length);
            return filled.release_error();
        }
        memory.set_name(mapped, length, filled.value(), offset);
        if (protection != initial)
            TRY(memory.protect(mapped, length, protection));
    }
    return static_cast<long>(mapped);
}

// Munmap implements Linux syscall munmap(2).
Result<long> sys_munmap(Thread& thread, const SyscallArgs& args) {
    TRY(thread.kernel().memory().unmap(args.address(0), args.size(1)));
    return 0;
}

// Mprotect implements Linux syscall mprotect(2).
Result<long> sys_mprotect(Thread& thread, const SyscallArgs& args) {
    int protection = args.integer(2) & ~(PROT_GROWSDOWN | PROT_GROWSUP);
    if (protection & ~known_protection)
        return Error(EINVAL, "unknown protection bits");
    TRY(thread.kernel().memory().protect(args.address(0), args.size(1), protection));
    return 0;
}

// Brk implements Linux syscall brk(2): it returns the (possibly unchanged) break.
Result<long> sys_brk(Thread& thread, const SyscallArgs& args) {
    return static_cast<long>(thread.kernel().memory().set_break(args.address(0)));
}

// Madvise implements Linux syscall madvise(2): advice is accepted; only
// MADV_DONTNEED has an effect a program can see (the pages read as zero).
Result<long> sys_madvise(Thread& thread, const SyscallArgs& args) {
    uint64_t address = args.address(0);
    if (address % page_size != 0)
        return Error(EINVAL, "unaligned madvise");
    if (args.integer(2) == MADV_DONTNEED) {
        uint64_t length = page_align_up(args.size(1));
        if (!thread.kernel().memory().is_accessible(address, length, true))
            return Error(ENOMEM, "madvise of unmapped or read-only memory");
        std::memset(reinterpret_cast<void*>(address), 0, length);
    }
    return 0;
}

// Mremap implements Linux syscall mremap(2) for shrinking in place and for
// moving to a new range (MREMAP_MAYMOVE); growing in place is not offered.
Result<long> sys_mremap(Thread& thread, const SyscallArgs& args) {
    uint64_t old_address = args.address(0);
    uint64_t old_size = page_align_up(args.size(1));
    uint64_t new_size = page_align_up(args.size(2));
    int flags = args.integer(3);
    MemoryManager& memory = thread.kernel().memory();
    if (old_address % page_size != 0 || new_size == 0 || (flags & ~MREMAP_MAYMOVE))
        return Error(EINVAL, "unsupported mremap");
    if (!memory.is_accessible(old_address, old_size, false))
        return Error(EFAULT, "mremap of unmapped memory");
    if (new_size <= old_size) {
        if (new_size < old_size)
            TRY(memory.unmap(old_address + new_size, old_size - new_size));
        return static_cast<long>(old_address);
    }
    if (!(flags & MREMAP_MAYMOVE))
        return Error(ENOMEM, "cannot grow in place");
    uint64_t moved = TRY(memory.map_anywhere(new_size, PROT_READ | PROT_WRITE, ""));
    std::memcpy(reinterpret_cast<void*>(moved), reinterpret_cast<void*>(old_address), old_size);
    TRY(memory.unmap(old_address, old_size));
    return static_cast<long>(moved);
}

// Msync implements Linux syscall msync(2): mappings are private copies, so
// there is nothing to write back.
Result<long> sys_msync(Thread&, const SyscallArgs& args) {
    if (args.address(0) % page_size != 0)
        return Error(EINVAL, "unaligned msync");
    return 0;
}

// Mlock implements Linux syscall mlock(2): program memory is never swapped
// out by the kernel, so locking is granted.
Result<long> sys_mlock(Thread&, const SyscallArgs&) {
    return 0;
}

// Munlock implements Linux syscall munlock(2).
Result<long> sys_munlock(Thread&, const SyscallArgs&) {
    return 0;
}

}  // namespace myst::kernel
