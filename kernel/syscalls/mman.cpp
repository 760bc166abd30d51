// Memory system calls: every mapping comes from the program's memory budget
// (MemoryManager). MAP_PRIVATE file mappings are private copies of the
// file's bytes; MAP_SHARED ones show shared pages (kernel/shared_pages.h)
// that every mapping of the file and its read(2)/write(2) share at once.
#include <linux/capability.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include <cstring>
#include <vector>

#include "kernel/capabilities.h"
#include "kernel/kernel.h"
#include "kernel/memory_manager.h"
#include "kernel/process.h"
#include "kernel/shared_pages.h"
#include "kernel/syscalls/file_mapping.h"
#include "kernel/syscalls/handlers.h"
#include "kernel/thread.h"
#include "kernel/user_memory.h"

namespace myst::kernel {

namespace {

constexpr int known_protection = PROT_READ | PROT_WRITE | PROT_EXEC;

// Linux 6.1 and 2.6.33 values that not every libc header names.
constexpr int madv_collapse = 25;
constexpr int madv_soft_offline = 101;

// The advice values Linux 6.x accepts (madvise_behavior_valid); any other
// is EINVAL.
bool is_known_advice(int advice) {
    switch (advice) {
        case MADV_NORMAL:
        case MADV_RANDOM:
        case MADV_SEQUENTIAL:
        case MADV_WILLNEED:
        case MADV_DONTNEED:
        case MADV_FREE:
        case MADV_REMOVE:
        case MADV_DONTFORK:
        case MADV_DOFORK:
        case MADV_MERGEABLE:
        case MADV_UNMERGEABLE:
        case MADV_HUGEPAGE:
        case MADV_NOHUGEPAGE:
        case MADV_DONTDUMP:
        case MADV_DODUMP:
        case MADV_WIPEONFORK:
        case MADV_KEEPONFORK:
        case MADV_COLD:
        case MADV_PAGEOUT:
        case MADV_POPULATE_READ:
        case MADV_POPULATE_WRITE:
        case MADV_DONTNEED_LOCKED:
        case madv_collapse:
        case MADV_HWPOISON:
        case madv_soft_offline:
            return true;
        default:
            return false;
    }
}

// mmap(2) with MAP_SHARED: anonymous memory gets pages of its own (which a
// fork child shares with its parent), a file the pages of all its mappings.
Result<long> map_shared(Thread& thread, uint64_t address, uint64_t length, int protection,
                        int flags, int fd, uint64_t offset) {
    Kernel& kernel = thread.kernel();
    SharedFilePages shared;
    if (flags & MAP_ANONYMOUS) {
        shared.pages =
            TRY(SharedPages::create(kernel.target(), kernel.memory(), page_align_up(length)));
        shared.name = "/dev/zero (deleted)";
        offset = 0;
    } else {
        shared = TRY(shared_file_pages(thread, fd, protection, length));
        if (shared.name == "/dev/zero (deleted)")
            offset = 0;
    }
    bool fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE);
    uint64_t mapped = TRY(kernel.memory().map_shared(
        address, length, protection, std::move(shared.pages), offset, std::move(shared.name), fixed,
        !(flags & MAP_FIXED_NOREPLACE), thread.process().space));
    return static_cast<long>(mapped);
}

// The end of x86-64 user space (TASK_SIZE): ranges past it are ENOMEM.
constexpr uint64_t user_space_end = 0x7ffffffff000ull;

// Linux's can_do_mlock: a non-zero RLIMIT_MEMLOCK or CAP_IPC_LOCK.
Result<void> check_may_lock(Thread& thread) {
    Process& process = thread.process();
    if (process.limits()[RLIMIT_MEMLOCK].rlim_cur == 0 &&
        !capable(process.credentials(), CAP_IPC_LOCK))
        return Error(EPERM, "locking memory needs RLIMIT_MEMLOCK or CAP_IPC_LOCK");
    return {};
}

// mlock/munlock's range: page-aligned outward; every page must be mapped
// (ENOMEM). Locking `populate`s: each readable page is touched so that it
// is resident, as Linux faults locked pages in.
Result<void> lock_range(Thread& thread, uint64_t address, uint64_t length, bool populate,
                        bool locking = true) {
    if (locking)
        TRY(check_may_lock(thread));
    uint64_t start = page_align_down(address);
    uint64_t end = page_align_up(address + length);
    if (address + length < address || end < start)
        return Error(EINVAL, "range wraps");
    if (end == start)
        return {};
    MemoryManager& memory = thread.kernel().memory();
    if (!memory.is_mapped(start, end - start))
        return Error(ENOMEM, "range not mapped");
    if (populate)
        for (uint64_t page = start; page < end; page += page_size)
            if (memory.is_accessible(page, 1, false))
                (void)*reinterpret_cast<volatile const uint8_t*>(page);
    return {};
}

}  // namespace

// Mmap implements Linux syscall mmap(2).
Result<long> sys_mmap(Thread& thread, const SyscallArgs& args) {
    uint64_t address = args.address(0);
    uint64_t length = args.size(1);
    int protection = args.integer(2);
    int flags = args.integer(3);
    int fd = args.fd(4);
    uint64_t offset = args.raw[5];
    if (length == 0 || offset % page_size != 0 || (protection & ~known_protection))
        return Error(EINVAL, "bad mmap arguments");
    // A length that wraps when rounded up to pages is ENOMEM, as Linux; an
    // offset range that wraps could never be read.
    if (page_align_up(length) < length)
        return Error(ENOMEM, "mmap length too large");
    if (offset + page_align_up(length) < offset)
        return Error(EOVERFLOW, "mmap offset range wraps");
    if (!(flags & (MAP_PRIVATE | MAP_SHARED)))
        return Error(EINVAL, "mmap needs MAP_PRIVATE or MAP_SHARED");
    if (flags & MAP_SHARED)
        return map_shared(thread, address, length, protection, flags, fd, offset);
    MemoryManager& memory = thread.kernel().memory();
    bool anonymous = flags & MAP_ANONYMOUS;
    // The pages are written first (file bytes), then given their protection.
    int initial = anonymous ? protection : PROT_READ | PROT_WRITE;
    uint64_t mapped = 0;
    if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
        mapped = TRY(memory.map_fixed_for_program(
            address, length, initial, !(flags & MAP_FIXED_NOREPLACE), thread.process().space));
    } else {
        mapped = TRY(memory.map_anywhere(length, initial, "", thread.process().space));
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
    return static_cast<long>(
        thread.kernel().memory().set_break(args.address(0), thread.process().space));
}

// Madvise implements Linux syscall madvise(2): advice is accepted; only
// MADV_DONTNEED has an effect a program can see (the pages read as zero).
Result<long> sys_madvise(Thread& thread, const SyscallArgs& args) {
    uint64_t address = args.address(0);
    uint64_t length = page_align_up(args.size(1));
    int advice = args.integer(2);
    if (!is_known_advice(advice))
        return Error(EINVAL, "unknown madvise advice");
    // As Linux: unaligned, or a length that wraps when rounded or added.
    if (address % page_size != 0 || (args.size(1) != 0 && length == 0) ||
        address + length < address)
        return Error(EINVAL, "bad madvise range");
    if (length == 0)
        return 0;
    // Injecting memory errors needs CAP_SYS_ADMIN on the host.
    if (advice == MADV_HWPOISON || advice == madv_soft_offline)
        return Error(EPERM, "memory error injection is not offered");
    MemoryManager& memory = thread.kernel().memory();
    if (advice == MADV_DONTNEED || advice == MADV_DONTNEED_LOCKED) {
        TRY(memory.discard(address, length));
        return 0;
    }
    // The other advice values are hints about paging, which the host does.
    if (!memory.is_mapped(address, length))
        return Error(ENOMEM, "madvise of unmapped memory");
    return 0;
}

// Mremap implements Linux syscall mremap(2) for shrinking in place and for
// moving to a new range (MREMAP_MAYMOVE); growing in place is not offered.
// The moved pages keep their protection and their file's name and offset.
Result<long> sys_mremap(Thread& thread, const SyscallArgs& args) {
    uint64_t old_address = args.address(0);
    uint64_t old_size = page_align_up(args.size(1));
    uint64_t new_size = page_align_up(args.size(2));
    int flags = args.integer(3);
    MemoryManager& memory = thread.kernel().memory();
    // Rounding that wraps to 0 is EINVAL; so is an old size of 0, which
    // Linux accepts only for shared mappings (none here).
    if (old_address % page_size != 0 || new_size == 0 || old_size == 0 || (flags & ~MREMAP_MAYMOVE))
        return Error(EINVAL, "unsupported mremap");
    // The old range must lie in one mapping (one vma on Linux).
    Mapping old = TRY(memory.mapping_containing(old_address, old_size));
    if (new_size <= old_size) {
        if (new_size < old_size)
            TRY(memory.unmap(old_address + new_size, old_size - new_size));
        return static_cast<long>(old_address);
    }
    if (!(flags & MREMAP_MAYMOVE))
        return Error(ENOMEM, "cannot grow in place");
    // Shared pages move by mapping them again: every other mapping of them
    // keeps seeing the same bytes.
    if (old.shared_pages) {
        uint64_t moved =
            TRY(memory.map_shared(0, new_size, old.protection, old.shared_pages, old.file_offset,
                                  old.name, false, false, thread.process().space));
        TRY(memory.unmap(old_address, old_size));
        return static_cast<long>(moved);
    }
    // The copy needs the old pages readable and the new ones writable; the
    // old ones go away, the new ones get the old protection after the copy.
    uint64_t moved =
        TRY(memory.map_anywhere(new_size, PROT_READ | PROT_WRITE, "", thread.process().space));
    if (!(old.protection & PROT_READ))
        TRY(memory.protect(old_address, old_size, old.protection | PROT_READ));
    std::memcpy(reinterpret_cast<void*>(moved), reinterpret_cast<void*>(old_address), old_size);
    TRY(memory.unmap(old_address, old_size));
    // A file's name follows its pages; "[heap]" or "[stack]" does not.
    if (!old.name.empty() && old.name.front() == '/')
        memory.set_name(moved, new_size, old.name, old.file_offset);
    if (old.protection != (PROT_READ | PROT_WRITE))
        TRY(memory.protect(moved, new_size, old.protection));
    return static_cast<long>(moved);
}

// Msync implements Linux syscall msync(2): the shared pages of the files
// mapped in the range go back to the files (MS_ASYNC too: it is cheap to
// do at once); private mappings have nothing to write back.
Result<long> sys_msync(Thread& thread, const SyscallArgs& args) {
    uint64_t address = args.address(0);
    uint64_t length = page_align_up(args.size(1));
    int flags = args.integer(2);
    if (address % page_size != 0 || (flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC)) ||
        ((flags & MS_ASYNC) && (flags & MS_SYNC)))
        return Error(EINVAL, "bad msync arguments");
    if (address + length < address || (args.size(1) != 0 && length == 0))
        return Error(ENOMEM, "msync range wraps");
    if (!thread.kernel().memory().is_mapped(address, length))
        return Error(ENOMEM, "msync of unmapped memory");
    for (const auto& pages : thread.kernel().memory().shared_pages_in(address, length))
        TRY(pages->write_back());
    return 0;
}

// Mlock implements Linux syscall mlock(2): program memory is never swapped
// out by the kernel, so locking means faulting the pages in now.
Result<long> sys_mlock(Thread& thread, const SyscallArgs& args) {
    TRY(lock_range(thread, args.address(0), args.size(1), true));
    return 0;
}

// Mlock2 implements Linux syscall mlock2(2): MLOCK_ONFAULT leaves the
// pages to be faulted in when first used.
Result<long> sys_mlock2(Thread& thread, const SyscallArgs& args) {
    if (args.flags(2) & ~MLOCK_ONFAULT)
        return Error(EINVAL, "unknown mlock2 flags");
    TRY(lock_range(thread, args.address(0), args.size(1), !(args.flags(2) & MLOCK_ONFAULT)));
    return 0;
}

// Munlock implements Linux syscall munlock(2): the range must be mapped.
Result<long> sys_munlock(Thread& thread, const SyscallArgs& args) {
    TRY(lock_range(thread, args.address(0), args.size(1), false, false));
    return 0;
}

// Mlockall implements Linux syscall mlockall(2). The flags are kept;
// memory is never swapped out, so what is mapped stays resident once
// used (pages are not faulted in at once, and MCL_FUTURE does not make
// later mappings count against RLIMIT_MEMLOCK).
Result<long> sys_mlockall(Thread& thread, const SyscallArgs& args) {
    int flags = args.integer(0);
    if (flags == 0 || (flags & ~(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT)) || flags == MCL_ONFAULT)
        return Error(EINVAL, "bad mlockall flags");
    Process& process = thread.process();
    TRY(check_may_lock(thread));
    bool privileged = capable(process.credentials(), CAP_IPC_LOCK);
    if ((flags & MCL_CURRENT) && !privileged &&
        thread.kernel().memory().space_bytes(process.space) >
            process.limits()[RLIMIT_MEMLOCK].rlim_cur)
        return Error(ENOMEM, "the mappings exceed RLIMIT_MEMLOCK");
    process.mlockall_flags = flags & (MCL_FUTURE | MCL_ONFAULT);
    return 0;
}

// Munlockall implements Linux syscall munlockall(2).
Result<long> sys_munlockall(Thread& thread, const SyscallArgs&) {
    thread.process().mlockall_flags = 0;
    return 0;
}

// Mincore implements Linux syscall mincore(2): one byte a page of the
// program's own mappings, 1 when the host holds the page. Memory that is
// not the program's (the kernel's own, gaps) is ENOMEM, so a program
// learns nothing about myst's memory.
Result<long> sys_mincore(Thread& thread, const SyscallArgs& args) {
    uint64_t address = args.address(0);
    uint64_t length = args.size(1);
    if (address % page_size != 0)
        return Error(EINVAL, "unaligned mincore address");
    uint64_t end = address + page_align_up(length);
    if (end < address || page_align_up(length) < length || end > user_space_end)
        return Error(ENOMEM, "mincore range outside user space");
    if (length == 0)
        return 0;
    if (!thread.kernel().memory().is_mapped(address, end - address))
        return Error(ENOMEM, "mincore of unmapped memory");
    std::vector<uint8_t> pages((end - address) / page_size);
    TRY(thread.kernel().target().memory_residency(reinterpret_cast<void*>(address), end - address,
                                                  pages));
    for (uint8_t& page : pages)
        page = page & 1;
    TRY(copy_to_user(thread, args.address(2), pages.data(), pages.size()));
    return 0;
}

}  // namespace myst::kernel
