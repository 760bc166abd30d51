// Shared memory without a path: memfd_create(2) and System V shared memory
// (shmget/shmat/shmdt/shmctl), over kernel/shared_memory.h.
#include <fcntl.h>
#include <linux/memfd.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>

#include "kernel/kernel.h"
#include "kernel/process.h"
#include "kernel/shared_memory.h"
#include "kernel/syscalls/file_common.h"
#include "kernel/syscalls/handlers.h"
#include "kernel/thread.h"
#include "kernel/user_memory.h"

namespace myst::kernel {

namespace {

// Linux's limit on a memfd's name ("memfd:" and the NUL make it 256).
constexpr size_t memfd_name_max = 249;
constexpr unsigned known_memfd_flags = MFD_CLOEXEC | MFD_ALLOW_SEALING;
// musl passes IPC_64 with every shmctl command; glibc on x86-64 does not.
constexpr int ipc_64 = 0x100;

time_t now(Thread& thread) {
    auto time = thread.kernel().target().clock_time(CLOCK_REALTIME);
    return time.is_error() ? 0 : time.value().tv_sec;
}

}  // namespace

// MemfdCreate implements Linux syscall memfd_create(2): an anonymous
// regular file in memory. MFD_ALLOW_SEALING is accepted but seals are not
// kept (F_ADD_SEALS is EINVAL, as for a memfd made without the flag).
Result<long> sys_memfd_create(Thread& thread, const SyscallArgs& args) {
    unsigned flags = static_cast<unsigned>(args.raw[1]);
    if (flags & MFD_HUGETLB)
        return Error(EINVAL, "MFD_HUGETLB: no huge page pool");
    if (flags & ~known_memfd_flags)
        return Error(EINVAL, "unknown memfd_create flags");
    // A name too long is EINVAL, not ENAMETOOLONG.
    auto name = copy_string_from_user(thread, args.address(0), memfd_name_max + 1);
    if (name.is_error() && name.error().code() == ENAMETOOLONG)
        return Error(EINVAL, "memfd name too long");
    if (name.is_error())
        return name.release_error();
    if (name.value().size() > memfd_name_max)
        return Error(EINVAL, "memfd name too long");
    std::shared_ptr<fs::OpenFile> file =
        TRY(thread.kernel().shared_memory().create_memfd(name.value(), O_LARGEFILE));
    return TRY(fs_context_of(thread).fds.allocate(std::move(file), flags & MFD_CLOEXEC));
}

// Shmget implements Linux syscall shmget(2).
Result<long> sys_shmget(Thread& thread, const SyscallArgs& args) {
    const Credentials& credentials = thread.process().credentials();
    return TRY(thread.kernel().shared_memory().get_segment(
        static_cast<key_t>(args.integer(0)), args.size(1), args.integer(2), credentials.euid,
        credentials.egid, thread.process().pid(), now(thread)));
}

// Shmat implements Linux syscall shmat(2): the segment's pages at `address`
// (SHM_RND rounds it down, SHM_REMAP replaces what is there) or anywhere.
Result<long> sys_shmat(Thread& thread, const SyscallArgs& args) {
    SharedMemoryRegistry& registry = thread.kernel().shared_memory();
    SysvSegment* segment = TRY(registry.segment(args.integer(0)));
    uint64_t address = args.address(1);
    int flags = args.integer(2);
    if (flags & SHM_RND)
        address = page_align_down(address);
    if (address % page_size != 0)
        return Error(EINVAL, "unaligned shmat address");
    int protection = (flags & SHM_RDONLY) ? PROT_READ : PROT_READ | PROT_WRITE;
    if (flags & SHM_EXEC)
        protection |= PROT_EXEC;
    char name[32];
    std::snprintf(name, sizeof name, "/SYSV%08x (deleted)",
                  static_cast<unsigned>(segment->status.shm_perm.__key));
    auto mapped = thread.kernel().memory().map_shared(
        address, segment->status.shm_segsz, protection, segment->pages, 0, name, address != 0,
        flags & SHM_REMAP, thread.process().space);
    if (mapped.is_error()) {
        // Linux: a taken range without SHM_REMAP is EINVAL.
        if (mapped.error().code() == EEXIST)
            return Error(EINVAL, "the range is taken (no SHM_REMAP)");
        return mapped.release_error();
    }
    segment->status.shm_atime = now(thread);
    segment->status.shm_lpid = thread.process().pid();
    return static_cast<long>(mapped.value());
}

// Shmdt implements Linux syscall shmdt(2): EINVAL unless a segment is
// attached at exactly `address`.
Result<long> sys_shmdt(Thread& thread, const SyscallArgs& args) {
    uint64_t address = args.address(0);
    if (address % page_size != 0)
        return Error(EINVAL, "unaligned shmdt address");
    MemoryManager& memory = thread.kernel().memory();
    auto mapping = memory.mapping_containing(address, 1);
    SharedMemoryRegistry& registry = thread.kernel().shared_memory();
    SysvSegment* segment = nullptr;
    if (!mapping.is_error() && mapping.value().file_offset == 0)
        segment = registry.segment_of(mapping.value().shared_pages.get());
    if (!segment)
        return Error(EINVAL, "no segment attached there");
    segment->status.shm_dtime = now(thread);
    segment->status.shm_lpid = thread.process().pid();
    TRY(memory.unmap(address, page_align_up(segment->status.shm_segsz)));
    registry.collect_removed();
    return 0;
}

// Shmctl implements Linux syscall shmctl(2) for IPC_STAT, IPC_SET and
// IPC_RMID (IPC_INFO, SHM_INFO, SHM_STAT and SHM_LOCK are EINVAL).
Result<long> sys_shmctl(Thread& thread, const SyscallArgs& args) {
    SharedMemoryRegistry& registry = thread.kernel().shared_memory();
    int command = args.integer(1) & ~ipc_64;
    if (command != IPC_STAT && command != IPC_SET && command != IPC_RMID)
        return Error(EINVAL, "unsupported shmctl command");
    SysvSegment* segment = TRY(registry.segment(args.integer(0)));
    switch (command) {
        case IPC_STAT: {
            struct shmid_ds status = segment->status;
            status.shm_nattch = registry.attachments(*segment);
            TRY(write_user(thread, args.address(2), status));
            return 0;
        }
        case IPC_SET: {
            struct shmid_ds wanted = TRY(read_user<struct shmid_ds>(thread, args.address(2)));
            segment->status.shm_perm.uid = wanted.shm_perm.uid;
            segment->status.shm_perm.gid = wanted.shm_perm.gid;
            segment->status.shm_perm.mode =
                (segment->status.shm_perm.mode & ~0777) | (wanted.shm_perm.mode & 0777);
            segment->status.shm_ctime = now(thread);
            return 0;
        }
        default:
            registry.remove(*segment);
            return 0;
    }
}

}  // namespace myst::kernel
