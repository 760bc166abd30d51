// Memory, time and randomness services of the linux target.
#include <asm/prctl.h>
#include <linux/futex.h>
#include <sched.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <pthread.h>
#include <cerrno>
#include <cstdio>
#include <memory>

#include "target/linux_target.h"

extern "C" long myst_interruptible_syscall(long number, const long arguments[6],
                                           const uint8_t* interrupted);

namespace myst {

Result<void*> LinuxTarget::memory_reserve(size_t size) {
    void* address =
        ::mmap(nullptr, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (address == MAP_FAILED)
        return Error(errno, "cannot reserve " + std::to_string(size >> 20) + " MiB");
    return address;
}

Result<void> LinuxTarget::memory_commit(void* address, size_t size, int protection) {
    void* mapped =
        ::mmap(address, size, protection, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (mapped == MAP_FAILED)
        return Error(errno, "mmap");
    return {};
}

Result<void> LinuxTarget::memory_protect(void* address, size_t size, int protection) {
    if (::mprotect(address, size, protection) != 0)
        return Error(errno, "mprotect");
    return {};
}

Result<void> LinuxTarget::memory_decommit(void* address, size_t size) {
    void* mapped = ::mmap(address, size, PROT_NONE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
    if (mapped == MAP_FAILED)
        return Error(errno, "mmap");
    return {};
}

Result<void> LinuxTarget::memory_discard(void* address, size_t size) {
    if (::madvise(address, size, MADV_DONTNEED) != 0)
        return Error(errno, "madvise");
    return {};
}

Result<void> LinuxTarget::memory_move(void* from, void* to, size_t size) {
    if (::mremap(from, size, size, MREMAP_MAYMOVE | MREMAP_FIXED, to) == MAP_FAILED)
        return Error(errno, "mremap");
    return memory_decommit(from, size);
}

Result<void*> LinuxTarget::memory_map_at(void* address, size_t size, int protection) {
    void* mapped =
        ::mmap(address, size, protection, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (mapped == MAP_FAILED)
        return Error(errno, "mmap");
    if (mapped != address) {  // kernels before 4.17 ignore MAP_FIXED_NOREPLACE
        ::munmap(mapped, size);
        return Error(EEXIST, "address range is taken");
    }
    return mapped;
}

Result<void> LinuxTarget::memory_residency(void* address, size_t size, std::span<uint8_t> pages) {
    if (pages.size() < (size + 4095) / 4096)
        return Error(EINVAL, "residency vector too small");
    if (::mincore(address, size, pages.data()) != 0)
        return Error(errno, "mincore");
    return {};
}

Result<void> LinuxTarget::memory_unmap(void* address, size_t size) {
    if (::munmap(address, size) != 0)
        return Error(errno, "munmap");
    return {};
}

void LinuxTarget::memory_prefer_huge_pages(void* address, size_t size) {
    // Only hints: with transparent huge pages off (or "never") the memory is
    // populated in 4 KiB pages; before Linux 5.14 (no MADV_POPULATE_WRITE)
    // it is faulted in as it is written.
    (void)::madvise(address, size, MADV_HUGEPAGE);
    (void)::madvise(address, size, MADV_POPULATE_WRITE);
}

Result<int> LinuxTarget::shared_memory_create(size_t size) {
    int handle = ::memfd_create("myst-shared", MFD_CLOEXEC);
    if (handle < 0)
        return Error(errno, "memfd_create");
    if (::ftruncate(handle, static_cast<off_t>(size)) != 0) {
        int error = errno;
        ::close(handle);
        return Error(error, "ftruncate");
    }
    return handle;
}

Result<void> LinuxTarget::shared_memory_resize(int handle, size_t size) {
    if (::ftruncate(handle, static_cast<off_t>(size)) != 0)
        return Error(errno, "ftruncate");
    return {};
}

Result<void> LinuxTarget::shared_memory_map(void* address, size_t size, int protection, int handle,
                                            uint64_t offset) {
    void* mapped = ::mmap(address, size, protection, MAP_SHARED | MAP_FIXED, handle,
                          static_cast<off_t>(offset));
    if (mapped == MAP_FAILED)
        return Error(errno, "mmap");
    return {};
}

Result<struct timespec> LinuxTarget::clock_time(clockid_t clock) {
    struct timespec now {};
    if (::clock_gettime(clock, &now) != 0)
        return Error(errno, "clock_gettime");
    return now;
}

Result<void> LinuxTarget::sleep(clockid_t clock, bool absolute, const struct timespec& request,
                                struct timespec* remaining, const uint8_t* interrupted) {
    const long arguments[6] = {clock,
                               absolute ? TIMER_ABSTIME : 0,
                               reinterpret_cast<long>(&request),
                               reinterpret_cast<long>(remaining),
                               0,
                               0};
    long result = myst_interruptible_syscall(SYS_clock_nanosleep, arguments, interrupted);
    if (result < 0)
        return Error(static_cast<int>(-result), "clock_nanosleep");
    return {};
}

Result<void> LinuxTarget::random_bytes(std::span<uint8_t> buffer) {
    size_t done = 0;
    while (done < buffer.size()) {
        ssize_t got = ::getrandom(buffer.data() + done, buffer.size() - done, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return Error(errno, "getrandom");
        done += static_cast<size_t>(got);
    }
    return {};
}

uintptr_t LinuxTarget::vdso_address() {
    return ::getauxval(AT_SYSINFO_EHDR);
}

unsigned LinuxTarget::cpu_count() {
    cpu_set_t set{};
    if (::sched_getaffinity(0, sizeof set, &set) != 0)
        return 1;
    int count = CPU_COUNT(&set);
    return count > 0 ? static_cast<unsigned>(count) : 1;
}

unsigned LinuxTarget::cpu_mask_bytes() {
    cpu_set_t set{};
    long bytes = ::syscall(SYS_sched_getaffinity, 0, sizeof set, &set);
    return bytes > 0 ? static_cast<unsigned>(bytes) : Target::cpu_mask_bytes();
}

void LinuxTarget::yield() {
    ::sched_yield();
}

Result<long> LinuxTarget::futex_wait(uint32_t* address, uint32_t expected,
                                     const struct timespec* relative_timeout) {
    long result =
        ::syscall(SYS_futex, address, FUTEX_WAIT_PRIVATE, expected, relative_timeout, nullptr, 0);
    if (result < 0)
        return Error(errno, "futex wait");
    return result;
}

Result<long> LinuxTarget::futex_wake(uint32_t* address, int count) {
    long result = ::syscall(SYS_futex, address, FUTEX_WAKE_PRIVATE, count, nullptr, nullptr, 0);
    if (result < 0)
        return Error(errno, "futex wake");
    return result;
}

Result<long> LinuxTarget::futex(uint32_t* address, int operation, uint32_t value,
                                const struct timespec* timeout, uint32_t* address2, uint32_t value3,
                                const uint8_t* interrupted) {
    const long arguments[6] = {
        reinterpret_cast<long>(address),  operation, value, reinterpret_cast<long>(timeout),
        reinterpret_cast<long>(address2), value3};
    long result = myst_interruptible_syscall(SYS_futex, arguments, interrupted);
    if (result < 0)
        return Error(static_cast<int>(-result), "futex");
    return result;
}

namespace {

// The host stack of a program thread: it only runs the start of the
// thread's body, since the kernel runs on the entry's signal stack.
constexpr size_t host_thread_stack_size = 256 * 1024;

void* run_thread_body(void* argument) {
    std::unique_ptr<std::function<void()>> body(static_cast<std::function<void()>*>(argument));
    // A new host thread inherits its creator's GS base, which the FSGSBASE
    // entry reads as "this thread's EntryState": start from none.
    ::syscall(SYS_arch_prctl, ARCH_SET_GS, 0);
    (*body)();
    return nullptr;
}

}  // namespace

Result<void> LinuxTarget::thread_start(std::function<void()> body) {
    pthread_attr_t attributes;
    ::pthread_attr_init(&attributes);
    ::pthread_attr_setstacksize(&attributes, host_thread_stack_size);
    ::pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    auto owned = std::make_unique<std::function<void()>>(std::move(body));
    pthread_t thread;
    int error = ::pthread_create(&thread, &attributes, run_thread_body, owned.get());
    ::pthread_attr_destroy(&attributes);
    if (error != 0)
        return Error(error, "cannot start a host thread");
    owned.release();  // run_thread_body owns it now
    return {};
}

pid_t LinuxTarget::thread_host_id() {
    return static_cast<pid_t>(::syscall(SYS_gettid));
}

Result<void> LinuxTarget::thread_interrupt(pid_t host_thread_id, int host_signal) {
    if (::syscall(SYS_tgkill, ::getpid(), host_thread_id, host_signal) != 0)
        return Error(errno, "tgkill");
    return {};
}

Result<void> LinuxTarget::memory_barrier_all_threads() {
    constexpr int register_private_expedited = 1 << 4, private_expedited = 1 << 3;
    // Registering twice is harmless; an unregistered call fails with EPERM.
    if (::syscall(SYS_membarrier, private_expedited, 0, 0) == 0)
        return {};
    if (::syscall(SYS_membarrier, register_private_expedited, 0, 0) != 0 ||
        ::syscall(SYS_membarrier, private_expedited, 0, 0) != 0)
        return Error(errno, "membarrier");
    return {};
}

void LinuxTarget::process_exit(int status) {
    ::syscall(SYS_exit_group, status);
    __builtin_unreachable();
}

void LinuxTarget::write_diagnostic(std::string_view line) {
    std::string text(line);
    text.push_back('\n');
    ssize_t ignored = ::write(STDERR_FILENO, text.data(), text.size());
    (void)ignored;
}

}  // namespace myst
