/* mmap_test [DIR]: anonymous mappings (mmap, munmap, mprotect, MAP_FIXED over
 * part of an own mapping), a private file mapping of a file made in DIR
 * (default /tmp), and growing and shrinking the break with the raw brk call
 * (musl's sbrk refuses non-zero increments, so libc's sbrk is not used). */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "verdict.h"

#define PAGE 4096

static sigjmp_buf fault_return;

static void on_fault(int sig) {
    (void)sig;
    siglongjmp(fault_return, 1);
}

/* 1 when writing one byte at p raises SIGSEGV. */
static int write_faults(volatile unsigned char* p) {
    struct sigaction action, old;
    memset(&action, 0, sizeof(action));
    action.sa_handler = on_fault;
    sigemptyset(&action.sa_mask);
    sigaction(SIGSEGV, &action, &old);
    int faulted = 0;
    if (sigsetjmp(fault_return, 1) == 0)
        *p = 1;
    else
        faulted = 1;
    sigaction(SIGSEGV, &old, NULL);
    return faulted;
}

static int all_equal(const unsigned char* p, size_t count, unsigned char value) {
    for (size_t i = 0; i < count; i++)
        if (p[i] != value)
            return 0;
    return 1;
}

static void check_anonymous(void) {
    unsigned char* p =
        mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED, "anonymous mmap of 4 pages");
    if (p == MAP_FAILED)
        return;
    CHECK(((uintptr_t)p % PAGE) == 0, "the mapping is page aligned");
    CHECK(all_equal(p, 4 * PAGE, 0), "anonymous memory reads as zeros");
    memset(p, 'A', 4 * PAGE);

    /* MAP_FIXED over the second page replaces just that page. */
    unsigned char* fixed = mmap(p + PAGE, PAGE, PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    CHECK(fixed == p + PAGE, "MAP_FIXED inside an own mapping returns the address");
    CHECK(all_equal(p + PAGE, PAGE, 0), "the MAP_FIXED page is fresh zeros");
    CHECK(all_equal(p, PAGE, 'A') && all_equal(p + 2 * PAGE, 2 * PAGE, 'A'),
          "the pages around MAP_FIXED keep their bytes");

    CHECK(mprotect(p + 2 * PAGE, PAGE, PROT_READ) == 0, "mprotect a page read-only");
    CHECK(p[2 * PAGE] == 'A', "a read-only page is still readable");
    CHECK(write_faults(p + 2 * PAGE), "writing a read-only page raises SIGSEGV");
    CHECK(mprotect(p + 2 * PAGE, PAGE, PROT_READ | PROT_WRITE) == 0 && !write_faults(p + 2 * PAGE),
          "mprotect back to read-write");

    CHECK(munmap(p + 3 * PAGE, PAGE) == 0, "munmap the last page");
    expect_errno(mprotect(p + 3 * PAGE, PAGE, PROT_READ), ENOMEM, "mprotect of an unmapped page");
    CHECK(munmap(p, 3 * PAGE) == 0, "munmap the rest");
    expect_errno(mprotect(p, PAGE, PROT_READ), ENOMEM, "mprotect after munmap");

    expect_errno((long)(intptr_t)mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
                 EINVAL, "mmap of length 0");
    expect_errno(munmap((unsigned char*)p + 1, PAGE), EINVAL, "munmap of an unaligned address");
}

static void check_file_mapping(const char* dir) {
    char path[4096];
    snprintf(path, sizeof(path), "%s/mmap_test.data", dir);
    const size_t size = 3 * PAGE + 100;
    unsigned char data[3 * PAGE + 100];
    for (size_t i = 0; i < size; i++)
        data[i] = (unsigned char)(i % 253);
    int fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0600);
    CHECK(fd >= 0 && write(fd, data, size) == (ssize_t)size, "write a file to map");
    if (fd < 0)
        return;

    unsigned char* m = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, PAGE);
    CHECK(m != MAP_FAILED, "MAP_PRIVATE file mapping at offset one page");
    if (m != MAP_FAILED) {
        CHECK(memcmp(m, data + PAGE, 2 * PAGE) == 0, "the mapping has the file's bytes");
        m[0] = 'Z';
        unsigned char first = 0;
        CHECK(pread(fd, &first, 1, PAGE) == 1 && first == data[PAGE],
              "writing a private mapping leaves the file alone");
        CHECK(munmap(m, 2 * PAGE) == 0, "munmap the file mapping");
    }

    /* The last page is partly beyond the end of the file: that part is zeros. */
    unsigned char* tail = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, 3 * PAGE);
    CHECK(tail != MAP_FAILED, "map the file's last, partial page");
    if (tail != MAP_FAILED) {
        CHECK(memcmp(tail, data + 3 * PAGE, 100) == 0 && all_equal(tail + 100, PAGE - 100, 0),
              "the partial page has the tail bytes, then zeros");
        munmap(tail, PAGE);
    }
    expect_errno((long)(intptr_t)mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, 100), EINVAL,
                 "file mapping at an unaligned offset");
    close(fd);
    CHECK(unlink(path) == 0, "remove the mapped file");
}

static void check_brk(void) {
    uintptr_t start = (uintptr_t)syscall(SYS_brk, 0);
    CHECK(start != 0, "brk(0) reports the break");
    uintptr_t grown = (uintptr_t)syscall(SYS_brk, start + 16 * PAGE);
    CHECK(grown == start + 16 * PAGE, "brk grows by 64 KiB");
    if (grown == start + 16 * PAGE) {
        unsigned char* p = (unsigned char*)start;
        memset(p, 'B', 16 * PAGE);
        CHECK(all_equal(p, 16 * PAGE, 'B'), "the grown break is usable memory");
        uintptr_t shrunk = (uintptr_t)syscall(SYS_brk, start);
        CHECK(shrunk == start, "brk shrinks back");
    }
}

/* madvise(MADV_DONTNEED) zeroes private anonymous pages whatever their
 * protection (glibc's thread exit drops its stack this way, guard page
 * included); unknown advice is EINVAL and a hole is ENOMEM. */
static void check_madvise(void) {
    unsigned char* p =
        mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED, "anonymous mmap for madvise");
    if (p == MAP_FAILED)
        return;
    memset(p, 'B', 4 * PAGE);
    CHECK(mprotect(p, PAGE, PROT_NONE) == 0, "a PROT_NONE guard page");
    CHECK(madvise(p, 3 * PAGE, MADV_DONTNEED) == 0, "MADV_DONTNEED over a guard page");
    CHECK(all_equal(p + PAGE, 2 * PAGE, 0), "MADV_DONTNEED pages read as zeros");
    CHECK(all_equal(p + 3 * PAGE, PAGE, 'B'), "the page after the range keeps its bytes");
    CHECK(mprotect(p, PAGE, PROT_READ) == 0 && all_equal(p, PAGE, 0),
          "the guard page was zeroed too");
    CHECK(mprotect(p + 2 * PAGE, PAGE, PROT_READ) == 0 &&
              madvise(p + 2 * PAGE, PAGE, MADV_DONTNEED) == 0,
          "MADV_DONTNEED of a read-only page");
    CHECK(madvise(p, 4 * PAGE, MADV_WILLNEED) == 0 && madvise(p, PAGE, MADV_NORMAL) == 0,
          "paging hints are accepted");
    expect_errno(madvise(p, PAGE, 9999), EINVAL, "madvise with unknown advice");
    expect_errno(madvise(p + 1, PAGE, MADV_NORMAL), EINVAL, "madvise of an unaligned address");
    CHECK(munmap(p + PAGE, PAGE) == 0, "punch a hole");
    expect_errno(madvise(p, 3 * PAGE, MADV_DONTNEED), ENOMEM, "MADV_DONTNEED over a hole");
    expect_errno(madvise(p, 3 * PAGE, MADV_WILLNEED), ENOMEM, "MADV_WILLNEED over a hole");
    CHECK(all_equal(p + 3 * PAGE, PAGE, 'B'), "a page past a failed madvise keeps its bytes");
    munmap(p, 4 * PAGE);
}

int main(int argc, char** argv) {
    const char* dir = argc > 1 ? argv[1] : "/tmp";
    check_anonymous();
    check_madvise();
    check_file_mapping(dir);
    check_brk();
    return verdict_finish();
}
