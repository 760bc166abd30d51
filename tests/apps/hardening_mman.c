/* hardening_mman DIR: the memory, I/O and signal edge cases of the hardening
 * issue, each as Linux answers them: brk(-1), lengths that wrap in munmap,
 * mprotect, madvise, msync, mmap and mremap; mprotect of heap pages; mremap
 * keeping protections; reading the vDSO through a syscall; a stack overflow
 * that faults in the guard gap instead of running into a mapping; the file
 * offset after a read or write that faults; RLIMIT_NOFILE; and single-step
 * (EFLAGS.TF) with a SIGTRAP handler. DIR is a writable scratch directory.
 *
 * hardening_mman sigpipe-ignore|sigpipe-handler|sigpipe-default writes to
 * stdout until a write fails (run it as `... | head -c1`) and says on stderr
 * what the write returned and whether a SIGPIPE handler ran. */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "verdict.h"

#define PAGE 4096
#define TASK_SIZE 0x7ffffffff000ul

static void check_break(void) {
    /* Raw brk: musl's sbrk refuses non-zero increments. Nothing may call
     * malloc between the moves, so the results are printed afterwards. */
    uintptr_t start = (uintptr_t)syscall(SYS_brk, 0);
    uintptr_t wrapped = (uintptr_t)syscall(SYS_brk, (uintptr_t)-1);
    uintptr_t near_top = (uintptr_t)syscall(SYS_brk, (uintptr_t)-PAGE + 1);
    uintptr_t grown = (uintptr_t)syscall(SYS_brk, start + 2 * PAGE);
    int protect_read = -1, protect_back = -1, still_writable = 0;
    if (grown == start + 2 * PAGE) {
        unsigned char* page = (unsigned char*)((start + PAGE - 1) & ~(uintptr_t)(PAGE - 1));
        page[0] = 7;
        protect_read = mprotect(page, PAGE, PROT_READ);
        protect_back = mprotect(page, PAGE, PROT_READ | PROT_WRITE);
        page[0] = 8;
        still_writable = page[0] == 8;
    }
    uintptr_t restored = (uintptr_t)syscall(SYS_brk, start);
    CHECK(wrapped == start, "brk(-1) returns the old break");
    CHECK(near_top == start, "brk(2^64 - 4095) returns the old break");
    CHECK(grown == start + 2 * PAGE, "brk grows by two pages");
    CHECK(protect_read == 0 && protect_back == 0 && still_writable,
          "mprotect of a heap page succeeds (and back to read-write)");
    CHECK(restored == start, "brk shrinks back");
}

static void check_wrapping_lengths(void) {
    unsigned char* p =
        mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED, "mmap of two pages");
    if (p == MAP_FAILED)
        return;
    /* Raw calls: musl's wrappers answer some of these themselves. */
    expect_errno(syscall(SYS_munmap, p, (size_t)-PAGE), EINVAL, "munmap(p, -4096)");
    expect_errno(syscall(SYS_munmap, p, 0), EINVAL, "munmap(p, 0)");
    expect_errno(syscall(SYS_munmap, TASK_SIZE - PAGE, 2 * PAGE), EINVAL,
                 "munmap past the top of user memory");
    expect_errno(syscall(SYS_mprotect, p, (size_t)-PAGE, PROT_READ), ENOMEM, "mprotect(p, -4096)");
    expect_errno(syscall(SYS_mprotect, p, SIZE_MAX, PROT_READ), ENOMEM, "mprotect(p, SIZE_MAX)");
    expect_errno(syscall(SYS_madvise, p, (size_t)-PAGE, MADV_DONTNEED), EINVAL,
                 "madvise(p, -4096)");
    expect_errno(syscall(SYS_msync, p, (size_t)-PAGE, MS_SYNC), ENOMEM, "msync(p, -4096)");
    expect_errno(syscall(SYS_mmap, 0, SIZE_MAX, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
                 ENOMEM, "mmap(NULL, SIZE_MAX)");
    expect_errno(syscall(SYS_mremap, p, PAGE, SIZE_MAX, MREMAP_MAYMOVE, 0), EINVAL,
                 "mremap to SIZE_MAX");
    p[0] = 1;
    CHECK(p[0] == 1 && p[PAGE] == 0, "the mapping is intact after the refused calls");
    munmap(p, 2 * PAGE);
}

/* The permissions /proc/self/maps shows for the mapping holding `address`. */
static void permissions_of(const void* address, char out[5]) {
    strcpy(out, "none");
    FILE* maps = fopen("/proc/self/maps", "r");
    if (!maps)
        return;
    char line[512];
    while (fgets(line, sizeof line, maps)) {
        unsigned long start, end;
        char permissions[5];
        if (sscanf(line, "%lx-%lx %4s", &start, &end, permissions) == 3 &&
            start <= (uintptr_t)address && (uintptr_t)address < end) {
            memcpy(out, permissions, 5);
            break;
        }
    }
    fclose(maps);
}

static void check_mremap_keeps_protection(void) {
    unsigned char* p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        CHECK(0, "mmap for mremap");
        return;
    }
    memset(p, 'r', PAGE);
    mprotect(p, PAGE, PROT_READ);
    /* Something right after it, so that the growth has to move. */
    void* blocker =
        mmap(p + PAGE, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    unsigned char* q = mremap(p, PAGE, 4 * PAGE, MREMAP_MAYMOVE);
    CHECK(q != MAP_FAILED, "mremap(MREMAP_MAYMOVE) grows a read-only mapping");
    if (q == MAP_FAILED)
        return;
    char permissions[5];
    permissions_of(q, permissions);
    CHECK(strcmp(permissions, "r--p") == 0, "the moved mapping stays r--p (got %s)", permissions);
    CHECK(q[0] == 'r' && q[PAGE - 1] == 'r' && q[PAGE] == 0,
          "the moved mapping keeps its bytes, the growth is zero");
    munmap(q, 4 * PAGE);
    if (blocker != MAP_FAILED)
        munmap(blocker, PAGE);
}

static void check_vdso_is_readable(const char* dir) {
    const unsigned char* vdso = (const unsigned char*)getauxval(AT_SYSINFO_EHDR);
    if (!vdso) {
        CHECK(1, "write(2) from the vDSO copies its ELF header");
        return;
    }
    char path[512];
    snprintf(path, sizeof path, "%s/vdso-copy", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    long wrote = fd < 0 ? -1 : write(fd, vdso, 64);
    unsigned char back[64] = {0};
    long got = fd < 0 ? -1 : pread(fd, back, sizeof back, 0);
    CHECK(wrote == 64 && got == 64 && memcmp(back, vdso, 64) == 0,
          "write(2) from the vDSO copies its ELF header");
    if (fd >= 0)
        close(fd);
    unlink(path);
}

/* ---- the guard gap below the stack ---- */

static sigjmp_buf overflow_return;
static char alternate_stack[64 * 1024];

static void on_overflow(int signal) {
    (void)signal;
    siglongjmp(overflow_return, 1);
}

static int __attribute__((noinline)) recurse(int depth) {
    volatile char frame[4000];
    frame[0] = (char)depth;
    frame[sizeof frame - 1] = (char)depth;
    if (depth > 1 << 16) /* 256 MiB: far past any stack limit used here */
        return frame[0];
    return recurse(depth + 1) + frame[0];
}

static void check_stack_guard_gap(unsigned char* first_mapping) {
    /* The limit Linux grows the stack to; myst's stack has this size. */
    struct rlimit limit = {8 << 20, RLIM_INFINITY};
    struct rlimit old;
    getrlimit(RLIMIT_STACK, &old);
    limit.rlim_max = old.rlim_max;
    if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max < limit.rlim_cur)
        limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_STACK, &limit);
    stack_t stack = {.ss_sp = alternate_stack, .ss_size = sizeof alternate_stack};
    sigaltstack(&stack, NULL);
    struct sigaction action, previous;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_overflow;
    action.sa_flags = SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    sigaction(SIGSEGV, &action, &previous);
    int faulted = 0;
    if (sigsetjmp(overflow_return, 1) == 0)
        recurse(0);
    else
        faulted = 1;
    sigaction(SIGSEGV, &previous, NULL);
    CHECK(faulted, "a runaway recursion raises SIGSEGV");
    int intact = 1;
    for (int i = 0; i < PAGE; i++)
        intact &= first_mapping[i] == 0x5a;
    CHECK(intact, "the mapping made first is untouched by the overflow");
}

/* ---- file offsets after a faulting read or write ---- */

static void check_fault_offsets(const char* dir) {
    char path[512];
    snprintf(path, sizeof path, "%s/offsets", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
        CHECK(0, "create %s/offsets", "DIR");
        return;
    }
    static char data[3 * PAGE];
    memset(data, 'd', sizeof data);
    CHECK(write(fd, data, sizeof data) == (long)sizeof data, "write 3 pages");
    unsigned char* buffer =
        mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(buffer + PAGE, PAGE);
    unsigned char* hole = buffer + PAGE;

    lseek(fd, 0, SEEK_SET);
    expect_errno(read(fd, hole, 1000), EFAULT, "read into an unmapped page");
    CHECK(lseek(fd, 0, SEEK_CUR) == 0, "the failed read left the offset at 0");
    expect_errno(syscall(SYS_read, fd, buffer, SIZE_MAX), EFAULT, "read(fd, buf, SIZE_MAX)");
    CHECK(lseek(fd, 0, SEEK_CUR) == 0, "read(fd, buf, SIZE_MAX) left the offset at 0");
    long got = read(fd, hole - 100, 1000);
    CHECK(got >= 1 && got <= 100 && lseek(fd, 0, SEEK_CUR) == got,
          "a read that faults part way stops there, and so does the offset");

    lseek(fd, 0, SEEK_SET);
    expect_errno(write(fd, hole, 1000), EFAULT, "write from an unmapped page");
    CHECK(lseek(fd, 0, SEEK_CUR) == 0, "the failed write left the offset at 0");
    memset(buffer, 'w', PAGE);
    long wrote = write(fd, hole - 100, 1000);
    CHECK(wrote >= 1 && wrote <= 100 && lseek(fd, 0, SEEK_CUR) == wrote,
          "a write that faults part way stops there, and so does the offset");
    lseek(fd, 0, SEEK_SET);
    expect_errno(pread(fd, hole, 1000, 0), EFAULT, "pread into an unmapped page");
    struct iovec vectors[2] = {{buffer, 10}, {hole, 10}};
    long vectored = readv(fd, vectors, 2);
    CHECK(vectored == 10 && lseek(fd, 0, SEEK_CUR) == 10,
          "readv stops at the vector that faults, and so does the offset");
    munmap(buffer, PAGE);
    close(fd);
    unlink(path);
}

/* ---- RLIMIT_NOFILE ---- */

/* Opens /dev/null until that fails; returns the highest descriptor opened
 * and leaves the failure's errno in *error. */
static int open_until_failure(int* error) {
    int highest = -1;
    for (;;) {
        int fd = open("/dev/null", O_RDONLY);
        if (fd < 0) {
            *error = errno;
            return highest;
        }
        if (fd > highest)
            highest = fd;
    }
}

/* Opening stopped with EMFILE once every descriptor up to `last` was open
 * (some may have been open before: a parent's leaked descriptors). */
static int filled_to(int last, int highest, int error) {
    return error == EMFILE && highest <= last && fcntl(last, F_GETFD) >= 0;
}

static void close_from(int lowest, int highest) {
    for (int fd = lowest; fd <= highest; fd++)
        close(fd);
}

static void check_nofile(void) {
    struct rlimit original;
    getrlimit(RLIMIT_NOFILE, &original);
    int error = 0;

    struct rlimit small = {64, original.rlim_max};
    CHECK(setrlimit(RLIMIT_NOFILE, &small) == 0, "setrlimit(RLIMIT_NOFILE, 64)");
    int highest = open_until_failure(&error);
    CHECK(filled_to(63, highest, error), "opens stop at descriptor 63 with EMFILE");

    rlim_t medium_limit = original.rlim_max < 300 ? original.rlim_max : 300;
    struct rlimit medium = {medium_limit, original.rlim_max};
    CHECK(setrlimit(RLIMIT_NOFILE, &medium) == 0, "setrlimit(RLIMIT_NOFILE, 300)");
    highest = open_until_failure(&error);
    CHECK(filled_to((int)medium_limit - 1, highest, error),
          "after raising it, opens go on up to the new limit");

    /* Lowering below the open descriptors is allowed; new ones fail. */
    struct rlimit lowered = {10, original.rlim_max};
    CHECK(setrlimit(RLIMIT_NOFILE, &lowered) == 0, "lowering below the open descriptors");
    expect_errno(open("/dev/null", O_RDONLY), EMFILE, "open past the lowered limit");
    expect_errno(dup2(0, 20), EBADF, "dup2 to a descriptor past the limit");
    expect_errno(fcntl(0, F_DUPFD, 20), EINVAL, "F_DUPFD past the limit");
    CHECK(fcntl((int)medium_limit - 1, F_GETFD) >= 0,
          "descriptors past the lowered limit stay open");
    close_from(3, (int)medium_limit - 1);

    /* 4096 where the hard limit allows it (root may raise it). */
    struct rlimit big = {4096, original.rlim_max < 4096 ? 4096 : original.rlim_max};
    if (setrlimit(RLIMIT_NOFILE, &big) == 0) {
        highest = open_until_failure(&error);
        CHECK(filled_to(4095, highest, error), "RLIMIT_NOFILE 4096 gives 4096 descriptors");
        close_from(3, 4095);
    } else {
        CHECK(errno == EPERM, "RLIMIT_NOFILE 4096 gives 4096 descriptors");
    }
    setrlimit(RLIMIT_NOFILE, &original);
}

/* ---- single-step ---- */

static volatile int traps;

static void on_trap(int signal) {
    (void)signal;
    traps++;
}

static void check_single_step(void) {
    struct sigaction action, previous;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_trap;
    sigemptyset(&action.sa_mask);
    sigaction(SIGTRAP, &action, &previous);
    unsigned long flags_after = 0;
    traps = 0;
    __asm__ volatile(
        "pushfq\n\t"
        "orq $0x100, (%%rsp)\n\t"
        "popfq\n\t"
        "nop\n\t"
        "nop\n\t"
        "nop\n\t"
        "nop\n\t"
        "pushfq\n\t"
        "andq $~0x100, (%%rsp)\n\t"
        "popfq\n\t"
        "pushfq\n\t"
        "popq %0\n\t"
        : "=r"(flags_after)
        :
        : "memory", "cc");
    int counted = traps;
    sigaction(SIGTRAP, &previous, NULL);
    CHECK(counted >= 6 && counted <= 8,
          "single-step runs the SIGTRAP handler once per "
          "instruction (%d traps)",
          counted);
    CHECK(!(flags_after & 0x100), "TF is clear after the program clears it");
}

/* ---- SIGPIPE (run with stdout into `head -c1`) ---- */

static volatile int sigpipes;

static void on_sigpipe(int signal) {
    (void)signal;
    sigpipes++;
}

static int write_until_failure(const char* mode) {
    if (strcmp(mode, "sigpipe-ignore") == 0)
        signal(SIGPIPE, SIG_IGN);
    else if (strcmp(mode, "sigpipe-handler") == 0)
        signal(SIGPIPE, on_sigpipe);
    static char block[PAGE];
    memset(block, 'x', sizeof block);
    /* At most 4 GiB: the reader has long gone by then. */
    for (long i = 0; i < (1l << 20); i++) {
        if (write(STDOUT_FILENO, block, sizeof block) < 0) {
            int error = errno;
            fprintf(stderr, "%s: write failed with %s, %d SIGPIPE handler run(s)\n", mode,
                    errno_name(error), sigpipes);
            return error == EPIPE ? 0 : 1;
        }
    }
    fprintf(stderr, "%s: every write succeeded\n", mode);
    return 1;
}

int main(int argc, char** argv) {
    if (argc == 2 && strncmp(argv[1], "sigpipe-", 8) == 0)
        return write_until_failure(argv[1]);
    /* Made before anything else maps memory of its own. */
    unsigned char* first_mapping =
        mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (first_mapping == MAP_FAILED)
        return 2;
    memset(first_mapping, 0x5a, PAGE);
    const char* dir = argc > 1 ? argv[1] : "/tmp";
    check_break();
    check_wrapping_lengths();
    check_mremap_keeps_protection();
    check_vdso_is_readable(dir);
    check_stack_guard_gap(first_mapping);
    check_fault_offsets(dir);
    check_nofile();
    check_single_step();
    return verdict_finish();
}
