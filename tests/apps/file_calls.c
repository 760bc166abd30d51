/* The less common file calls: utime/utimes/futimesat, readahead,
 * sync_file_range, openat2 with its RESOLVE_ flags, chroot, and splice/tee/
 * vmsplice (with sendfile into a blocking socket). Run as root with no
 * arguments; it works in /tmp/file_calls.work. Children report through
 * their exit status, so nothing printed depends on scheduling. (File locks
 * are in file_locks.c.) */
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>

#include "verdict.h"

#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef EXDEV
#define EXDEV 18
#endif

/* openat2(2)'s struct open_how and RESOLVE_ flags (musl has no header). */
struct how {
    uint64_t flags;
    uint64_t mode;
    uint64_t resolve;
};
#define R_NO_XDEV 0x01
#define R_NO_MAGICLINKS 0x02
#define R_NO_SYMLINKS 0x04
#define R_BENEATH 0x08
#define R_IN_ROOT 0x10
#define R_CACHED 0x20

#define S_NONBLOCK 0x02 /* SPLICE_F_NONBLOCK */
#define S_MORE 0x04     /* SPLICE_F_MORE */

#define WORK "/tmp/file_calls.work"

static void make_file(const char* path, const char* content) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        if (write(fd, content, strlen(content)) < 0)
            perror("write");
        close(fd);
    }
}

static int remove_entry(const char* path, const struct stat* st, int type, struct FTW* ftw) {
    (void)st;
    (void)type;
    (void)ftw;
    remove(path);
    return 0;
}

/* Empties the work directory of an earlier run. */
static void remove_tree(const char* path) {
    nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int run_child_status(pid_t pid) {
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

/* ---- utime, utimes, futimesat ---- */

static void check_times(void) {
    const char* path = WORK "/times";
    make_file(path, "t");
    struct stat st;
    struct utimbuf buf = {1000, 2000};
    CHECK(utime(path, &buf) == 0 && stat(path, &st) == 0 && st.st_atime == 1000 &&
              st.st_mtime == 2000 && st.st_mtim.tv_nsec == 0,
          "utime sets whole seconds");
    CHECK(utime(path, NULL) == 0 && stat(path, &st) == 0 && st.st_mtime > 2000,
          "utime(NULL) sets now");
    struct timeval tv[2] = {{3000, 500000}, {4000, 7}};
    CHECK(utimes(path, tv) == 0 && stat(path, &st) == 0 && st.st_atime == 3000 &&
              st.st_atim.tv_nsec == 500000000 && st.st_mtime == 4000 && st.st_mtim.tv_nsec == 7000,
          "utimes sets microseconds");
    struct timeval bad[2] = {{1, 1000000}, {1, 0}};
    expect_errno(utimes(path, bad), EINVAL, "utimes with tv_usec 1000000");
    bad[0].tv_usec = -1;
    expect_errno(utimes(path, bad), EINVAL, "utimes with negative tv_usec");
    expect_errno(utime(WORK "/missing", NULL), ENOENT, "utime of a missing file");

    int dir = open(WORK, O_RDONLY | O_DIRECTORY);
    struct timeval tv2[2] = {{5000, 0}, {6000, 0}};
    CHECK(syscall(SYS_futimesat, dir, "times", tv2) == 0 && stat(path, &st) == 0 &&
              st.st_mtime == 6000,
          "futimesat relative to a directory descriptor");
    int fd = open(path, O_RDONLY);
    tv2[1].tv_sec = 7000;
    CHECK(syscall(SYS_futimesat, fd, NULL, tv2) == 0 && stat(path, &st) == 0 && st.st_mtime == 7000,
          "futimesat with a null path changes the descriptor's file");
    expect_errno(syscall(SYS_futimesat, AT_FDCWD, NULL, tv2), EFAULT, "futimesat(AT_FDCWD, NULL)");
    expect_errno(syscall(SYS_futimesat, -1, "times", tv2), EBADF, "futimesat with a bad dirfd");
    close(fd);
    close(dir);

    /* Not the owner: "now" needs write access, other times ownership. */
    const char* shared = WORK "/times-shared";
    make_file(shared, "s");
    chmod(path, 0644);
    chmod(shared, 0666);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        if (setuid(65534) != 0)
            _exit(1);
        struct utimbuf some = {1, 2};
        if (utime(path, NULL) != -1 || errno != EACCES)
            _exit(2);
        if (utime(path, &some) != -1 || errno != EPERM)
            _exit(3);
        if (utime(shared, NULL) != 0)
            _exit(4);
        if (utime(shared, &some) != -1 || errno != EPERM)
            _exit(5);
        if (utimes(shared, NULL) != 0)
            _exit(6);
        if (chroot(WORK) != -1 || errno != EPERM)
            _exit(7);
        _exit(0);
    }
    int status = run_child_status(pid);
    CHECK(status == 0, "unprivileged: utime EACCES/EPERM rules and chroot EPERM (step %d)", status);
}

/* ---- readahead, sync_file_range ---- */

static void check_readahead_sync(void) {
    const char* path = WORK "/ra";
    make_file(path, "readahead data");
    int fd = open(path, O_RDWR);
    int wronly = open(path, O_WRONLY);
    int dir = open(WORK, O_RDONLY | O_DIRECTORY);
    int p[2];
    if (pipe(p) != 0)
        return;
    CHECK(syscall(SYS_readahead, fd, 0, 4096) == 0, "readahead of a file");
    expect_errno(syscall(SYS_readahead, -1, 0, 10), EBADF, "readahead of a bad descriptor");
    expect_errno(syscall(SYS_readahead, wronly, 0, 10), EBADF, "readahead of a write-only file");
    expect_errno(syscall(SYS_readahead, p[0], 0, 10), EINVAL, "readahead of a pipe");
    expect_errno(syscall(SYS_readahead, dir, 0, 10), EINVAL, "readahead of a directory");

    CHECK(syscall(SYS_sync_file_range, fd, 0, 0, 2) == 0, "sync_file_range of a file");
    CHECK(syscall(SYS_sync_file_range, fd, 0, 100, 7) == 0, "sync_file_range with all flags");
    CHECK(syscall(SYS_sync_file_range, wronly, 0, 0, 2) == 0,
          "sync_file_range of a write-only file");
    expect_errno(syscall(SYS_sync_file_range, fd, 0, 0, 8), EINVAL,
                 "sync_file_range with an unknown flag");
    expect_errno(syscall(SYS_sync_file_range, fd, (loff_t)-1, (loff_t)0, 2), EINVAL,
                 "sync_file_range at a negative offset");
    expect_errno(syscall(SYS_sync_file_range, fd, (loff_t)0, (loff_t)-1, 2), EINVAL,
                 "sync_file_range of a negative count");
    expect_errno(syscall(SYS_sync_file_range, p[1], 0, 0, 2), ESPIPE, "sync_file_range of a pipe");
    expect_errno(syscall(SYS_sync_file_range, -1, 0, 0, 2), EBADF,
                 "sync_file_range of a bad descriptor");
    close(p[0]);
    close(p[1]);
    close(dir);
    close(wronly);
    close(fd);
}

/* ---- openat2 ---- */

static long open2(int dirfd, const char* path, uint64_t flags, uint64_t mode, uint64_t resolve) {
    struct how how = {flags, mode, resolve};
    return syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

static int same_file(long fd, const char* path) {
    struct stat a, b;
    return fd >= 0 && fstat((int)fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino &&
           a.st_dev == b.st_dev;
}

static void check_openat2(void) {
    const char* base = WORK "/o";
    mkdir(base, 0755);
    mkdir(WORK "/o/sub", 0755);
    make_file(WORK "/o/f", "f");
    make_file(WORK "/outside", "outside");
    symlink("/etc", WORK "/o/abs");
    symlink("../outside", WORK "/o/up");
    symlink("/f", WORK "/o/rootf");
    symlink("f", WORK "/o/rel");
    int dir = open(base, O_RDONLY | O_DIRECTORY);

    long fd = open2(dir, "f", O_RDONLY, 0, 0);
    CHECK(same_file(fd, WORK "/o/f"), "openat2 opens relative to dirfd");
    close((int)fd);
    struct {
        struct how how;
        uint64_t extra;
    } bigger = {{O_RDONLY, 0, 0}, 0};
    fd = syscall(SYS_openat2, dir, "f", &bigger, sizeof bigger);
    CHECK(fd >= 0, "a larger struct open_how with zero tail is accepted");
    close((int)fd);
    bigger.extra = 1;
    expect_errno(syscall(SYS_openat2, dir, "f", &bigger, sizeof bigger), E2BIG,
                 "a larger struct open_how with unknown fields set");
    struct how how = {O_RDONLY, 0, 0};
    expect_errno(syscall(SYS_openat2, dir, "f", &how, 23), EINVAL, "struct open_how too small");
    expect_errno(syscall(SYS_openat2, dir, "f", &how, 4097), E2BIG,
                 "struct open_how larger than a page");
    expect_errno(open2(dir, "f", 1ULL << 40, 0, 0), EINVAL, "openat2 with unknown flags");
    expect_errno(open2(dir, "f", O_RDONLY, 0, 0x40), EINVAL, "openat2 with unknown resolve");
    expect_errno(open2(dir, "f", O_RDONLY, 0644, 0), EINVAL, "openat2 with a mode and no O_CREAT");
    expect_errno(open2(dir, "new", O_CREAT | O_WRONLY, 010000, 0), EINVAL,
                 "openat2 with a mode beyond 07777");
    expect_errno(open2(dir, "f", O_RDONLY, 0, R_BENEATH | R_IN_ROOT), EINVAL,
                 "RESOLVE_BENEATH with RESOLVE_IN_ROOT");
    expect_errno(open2(dir, "f", O_PATH | O_RDWR, 0, 0), EINVAL, "O_PATH with O_RDWR");
    expect_errno(open2(dir, "new", O_CREAT | O_WRONLY, 0600, R_CACHED), EAGAIN,
                 "RESOLVE_CACHED with O_CREAT");
    fd = open2(dir, "created", O_CREAT | O_WRONLY, 0600, 0);
    struct stat st;
    CHECK(fd >= 0 && fstat((int)fd, &st) == 0 && (st.st_mode & 07777) == 0600,
          "openat2 O_CREAT with its mode");
    close((int)fd);

    /* RESOLVE_BENEATH: never above dirfd. */
    fd = open2(dir, "sub/../f", O_RDONLY, 0, R_BENEATH);
    CHECK(same_file(fd, WORK "/o/f"), "RESOLVE_BENEATH allows .. that stays inside");
    close((int)fd);
    fd = open2(dir, "rel", O_RDONLY, 0, R_BENEATH);
    CHECK(same_file(fd, WORK "/o/f"), "RESOLVE_BENEATH follows a relative symlink inside");
    close((int)fd);
    expect_errno(open2(dir, "../o/f", O_RDONLY, 0, R_BENEATH), EXDEV, "RESOLVE_BENEATH and ..");
    expect_errno(open2(dir, WORK "/o/f", O_RDONLY, 0, R_BENEATH), EXDEV,
                 "RESOLVE_BENEATH and an absolute path");
    expect_errno(open2(dir, "abs", O_RDONLY, 0, R_BENEATH), EXDEV,
                 "RESOLVE_BENEATH and an absolute symlink");
    expect_errno(open2(dir, "up", O_RDONLY, 0, R_BENEATH), EXDEV,
                 "RESOLVE_BENEATH and a symlink that climbs out");
    fd = open2(dir, "up", O_RDONLY, 0, 0);
    CHECK(same_file(fd, WORK "/outside"), "without RESOLVE_BENEATH the symlink leads out");
    close((int)fd);

    /* RESOLVE_IN_ROOT: dirfd is the root. */
    fd = open2(dir, "/f", O_RDONLY, 0, R_IN_ROOT);
    CHECK(same_file(fd, WORK "/o/f"), "RESOLVE_IN_ROOT: / is dirfd");
    close((int)fd);
    fd = open2(dir, "../../f", O_RDONLY, 0, R_IN_ROOT);
    CHECK(same_file(fd, WORK "/o/f"), "RESOLVE_IN_ROOT: .. stops at dirfd");
    close((int)fd);
    fd = open2(dir, "rootf", O_RDONLY, 0, R_IN_ROOT);
    CHECK(same_file(fd, WORK "/o/f"), "RESOLVE_IN_ROOT: absolute symlinks start at dirfd");
    close((int)fd);
    expect_errno(open2(dir, "up", O_RDONLY, 0, R_IN_ROOT), ENOENT,
                 "RESOLVE_IN_ROOT: a climbing symlink stays inside");

    /* Symlinks and magic links. */
    expect_errno(open2(dir, "rel", O_RDONLY, 0, R_NO_SYMLINKS), ELOOP, "RESOLVE_NO_SYMLINKS");
    fd = open2(dir, "rel", O_PATH | O_NOFOLLOW, 0, R_NO_SYMLINKS);
    CHECK(fd >= 0, "RESOLVE_NO_SYMLINKS with O_PATH|O_NOFOLLOW opens the link itself");
    close((int)fd);
    char magic[64];
    snprintf(magic, sizeof magic, "/proc/self/fd/%d", dir);
    fd = open2(AT_FDCWD, magic, O_RDONLY, 0, 0);
    CHECK(same_file(fd, base), "/proc/self/fd/N leads to the open directory");
    close((int)fd);
    expect_errno(open2(AT_FDCWD, magic, O_RDONLY, 0, R_NO_MAGICLINKS), ELOOP,
                 "RESOLVE_NO_MAGICLINKS");
    expect_errno(open2(AT_FDCWD, magic, O_RDONLY, 0, R_NO_SYMLINKS), ELOOP,
                 "RESOLVE_NO_SYMLINKS refuses magic links too");

    /* RESOLVE_NO_XDEV: /proc is a mount of its own. */
    int root = open("/", O_RDONLY | O_DIRECTORY);
    expect_errno(open2(root, "proc/self/status", O_RDONLY, 0, R_NO_XDEV), EXDEV,
                 "RESOLVE_NO_XDEV refuses to enter a mount");
    expect_errno(open2(AT_FDCWD, "/proc/self/status", O_RDONLY, 0, R_NO_XDEV), EXDEV,
                 "RESOLVE_NO_XDEV: an absolute path may start at / but not enter /proc");
    fd = open2(dir, "sub/../f", O_RDONLY, 0, R_NO_XDEV);
    CHECK(same_file(fd, WORK "/o/f"), "RESOLVE_NO_XDEV within one mount");
    close((int)fd);
    close(root);
    expect_errno(open2(dir, "missing", O_RDONLY, 0, 0), ENOENT, "openat2 of a missing file");
    expect_errno(open2(-1, "f", O_RDONLY, 0, 0), EBADF, "openat2 with a bad dirfd");
    close(dir);
}

/* ---- chroot ---- */

static void check_chroot(void) {
    const char* jail = WORK "/jail";
    mkdir(jail, 0755);
    mkdir(WORK "/jail/sub", 0755);
    make_file(WORK "/jail/inside", "jail");
    make_file(WORK "/jail/sub/deeper", "deep");
    expect_errno(chroot(WORK "/missing"), ENOENT, "chroot to a missing directory");
    expect_errno(chroot(WORK "/jail/inside"), ENOTDIR, "chroot to a file");
    char link[64] = "";
    ssize_t length = readlink("/proc/self/root", link, sizeof link - 1);
    if (length >= 0)
        link[length] = '\0';
    CHECK(strcmp(link, "/") == 0, "/proc/self/root reads /");
    struct stat a, b;
    CHECK(stat("/proc/self/root/", &a) == 0 && stat("/", &b) == 0 && a.st_ino == b.st_ino,
          "/proc/self/root leads to the root");

    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        char text[16] = "";
        if (chroot(jail) != 0)
            _exit(1);
        if (chdir("/") != 0)
            _exit(2);
        int fd = open("/inside", O_RDONLY);
        if (fd < 0 || read(fd, text, sizeof text) != 4 || memcmp(text, "jail", 4) != 0)
            _exit(3);
        close(fd);
        if (access("/../../../inside", F_OK) != 0)
            _exit(4);
        char cwd[64];
        if (!getcwd(cwd, sizeof cwd) || strcmp(cwd, "/") != 0)
            _exit(5);
        if (chdir("/sub") != 0 || access("../inside", F_OK) != 0 || access("deeper", F_OK) != 0)
            _exit(6);
        if (!getcwd(cwd, sizeof cwd) || strcmp(cwd, "/sub") != 0)
            _exit(7);
        if (access(WORK, F_OK) != -1 || errno != ENOENT)
            _exit(8);
        /* A second chroot builds on the first. */
        if (chroot("/sub") != 0 || access("/deeper", F_OK) != 0 || access("/inside", F_OK) == 0)
            _exit(9);
        _exit(0);
    }
    int status = run_child_status(pid);
    CHECK(status == 0, "chroot: / and .. stay in the new root, getcwd follows (step %d)", status);
    CHECK(access(WORK "/jail/inside", F_OK) == 0, "the parent's root is unchanged");
}

/* ---- splice, tee, vmsplice ---- */

static int read_all(int fd, char* buffer, size_t size) {
    size_t done = 0;
    while (done < size) {
        ssize_t got = read(fd, buffer + done, size - done);
        if (got <= 0)
            break;
        done += (size_t)got;
    }
    return (int)done;
}

struct drain {
    int fd;
    char* buffer;
    size_t size;
    size_t got;
};

static void* drain_socket(void* argument) {
    struct drain* drain = argument;
    drain->got = (size_t)read_all(drain->fd, drain->buffer, drain->size);
    return NULL;
}

/* sendfile and splice into a blocking socket wait for room, as write does:
 * more than the socket buffer holds goes out in one call while another
 * thread reads. */
static void check_socket_waits(int src, const char* data, char* back, size_t size) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        return;
    struct drain drain = {sv[1], back, size, 0};
    pthread_t reader;
    memset(back, 0, size);
    if (pthread_create(&reader, NULL, drain_socket, &drain) != 0)
        return;
    off_t off = 0;
    ssize_t sent = sendfile(sv[0], src, &off, size);
    pthread_join(reader, NULL);
    CHECK(sent == (ssize_t)size && off == (off_t)size && drain.got == size &&
              memcmp(back, data, size) == 0,
          "sendfile of more than a socket buffer to a blocking socket sends it all");

    int p[2];
    if (pipe(p) != 0)
        return;
    memset(back, 0, size);
    drain.got = 0;
    if (pthread_create(&reader, NULL, drain_socket, &drain) != 0)
        return;
    loff_t in_off = 0;
    size_t moved = 0;
    while (moved < size) {
        long in = syscall(SYS_splice, src, &in_off, p[1], NULL, size - moved, 0);
        if (in <= 0)
            break;
        long left = in;
        while (left > 0) {
            long out = syscall(SYS_splice, p[0], NULL, sv[0], NULL, left, 0);
            if (out <= 0)
                break;
            left -= out;
            moved += (size_t)out;
        }
        if (left > 0)
            break;
    }
    pthread_join(reader, NULL);
    CHECK(moved == size && drain.got == size && memcmp(back, data, size) == 0,
          "splice file -> pipe -> blocking socket moves it all");
    close(p[0]);
    close(p[1]);
    close(sv[0]);
    close(sv[1]);
}

static void check_splice(void) {
    enum { kSize = 200000 };
    static char data[kSize], back[kSize];
    for (int i = 0; i < kSize; i++)
        data[i] = (char)(i * 7 + i / 251);
    const char* src_path = WORK "/splice-src";
    const char* dst_path = WORK "/splice-dst";
    int src = open(src_path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (src < 0 || write(src, data, kSize) != kSize)
        return;
    lseek(src, 0, SEEK_SET);
    int dst = open(dst_path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    int p[2];
    if (pipe(p) != 0)
        return;
    long total = 0, moved = 0;
    int ok = 1;
    while (total < kSize) {
        long in = syscall(SYS_splice, src, NULL, p[1], NULL, kSize - total, S_MORE);
        if (in <= 0) {
            ok = 0;
            break;
        }
        long left = in;
        while (left > 0) {
            long out = syscall(SYS_splice, p[0], NULL, dst, NULL, left, 0);
            if (out <= 0) {
                ok = 0;
                break;
            }
            left -= out;
            moved += out;
        }
        if (!ok)
            break;
        total += in;
    }
    CHECK(ok && total == kSize && moved == kSize, "splice file -> pipe -> file moves every byte");
    CHECK(lseek(src, 0, SEEK_CUR) == kSize && lseek(dst, 0, SEEK_CUR) == kSize,
          "splice without offsets moves the file offsets");
    CHECK(pread(dst, back, kSize, 0) == kSize && memcmp(back, data, kSize) == 0,
          "the copy is byte-exact");
    CHECK(syscall(SYS_splice, src, NULL, p[1], NULL, 100, 0) == 0, "splice at end of file gives 0");

    /* Offsets: the file offset stays, the given one moves. */
    loff_t in_off = 1000, out_off = 50;
    lseek(src, 7, SEEK_SET);
    CHECK(syscall(SYS_splice, src, &in_off, p[1], NULL, 300, 0) == 300 && in_off == 1300 &&
              lseek(src, 0, SEEK_CUR) == 7,
          "splice with an input offset");
    CHECK(syscall(SYS_splice, p[0], NULL, dst, &out_off, 300, 0) == 300 && out_off == 350 &&
              lseek(dst, 0, SEEK_CUR) == kSize,
          "splice with an output offset");
    CHECK(pread(dst, back, 300, 50) == 300 && memcmp(back, data + 1000, 300) == 0,
          "the bytes landed at the output offset");

    /* Errors. */
    expect_errno(syscall(SYS_splice, src, NULL, dst, NULL, 10, 0), EINVAL,
                 "splice between two files");
    expect_errno(syscall(SYS_splice, p[0], &in_off, dst, NULL, 10, 0), ESPIPE,
                 "splice with an offset for the pipe");
    expect_errno(syscall(SYS_splice, -1, NULL, p[1], NULL, 10, 0), EBADF,
                 "splice from a bad descriptor");
    expect_errno(syscall(SYS_splice, p[1], NULL, dst, NULL, 10, 0), EBADF,
                 "splice from a pipe's write end");
    expect_errno(syscall(SYS_splice, src, NULL, p[1], NULL, 10, 0x10), EINVAL,
                 "splice with an unknown flag");
    expect_errno(syscall(SYS_splice, p[0], NULL, p[1], NULL, 10, 0), EINVAL,
                 "splice of a pipe into itself");
    CHECK(syscall(SYS_splice, -1, NULL, -1, NULL, 0, 0) == 0, "splice of 0 bytes");
    expect_errno(syscall(SYS_splice, p[0], NULL, dst, NULL, 10, S_NONBLOCK), EAGAIN,
                 "SPLICE_F_NONBLOCK on an empty pipe");
    loff_t negative = -1;
    expect_errno(syscall(SYS_splice, src, &negative, p[1], NULL, 10, 0), EINVAL,
                 "splice with a negative offset");
    int append = open(dst_path, O_WRONLY | O_APPEND);
    if (write(p[1], "x", 1) != 1)
        ok = 0;
    expect_errno(syscall(SYS_splice, p[0], NULL, append, NULL, 10, 0), EINVAL,
                 "splice to an O_APPEND file");
    close(append);
    char drop;
    if (read(p[0], &drop, 1) != 1)
        ok = 0;

    /* A file to a socket, through the pipe. */
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0) {
        loff_t off = 0;
        long in = syscall(SYS_splice, src, &off, p[1], NULL, 4096, 0);
        long out = syscall(SYS_splice, p[0], NULL, sv[0], NULL, 4096, S_MORE);
        CHECK(in == 4096 && out == 4096 && read_all(sv[1], back, 4096) == 4096 &&
                  memcmp(back, data, 4096) == 0,
              "splice file -> pipe -> socket");
        if (write(sv[1], "socket", 6) == 6) {
            CHECK(syscall(SYS_splice, sv[0], NULL, p[1], NULL, 100, 0) == 6 &&
                      read(p[0], back, 100) == 6 && memcmp(back, "socket", 6) == 0,
                  "splice socket -> pipe");
        }
        close(sv[0]);
        close(sv[1]);
    }

    check_socket_waits(src, data, back, kSize);

    /* tee: the input keeps its bytes. */
    int q[2];
    if (pipe(q) != 0)
        return;
    if (write(p[1], "hello", 5) != 5)
        return;
    char text[16] = "";
    CHECK(syscall(SYS_tee, p[0], q[1], 100, 0) == 5, "tee copies what the pipe holds");
    CHECK(read(q[0], text, sizeof text) == 5 && memcmp(text, "hello", 5) == 0,
          "the second pipe got the bytes");
    CHECK(read(p[0], text, sizeof text) == 5 && memcmp(text, "hello", 5) == 0,
          "the first pipe still has them");
    expect_errno(syscall(SYS_tee, p[0], q[1], 100, S_NONBLOCK), EAGAIN,
                 "tee of an empty pipe with SPLICE_F_NONBLOCK");
    expect_errno(syscall(SYS_tee, p[0], dst, 100, 0), EINVAL, "tee to a file");
    expect_errno(syscall(SYS_tee, p[0], p[1], 100, 0), EINVAL, "tee of a pipe to itself");
    expect_errno(syscall(SYS_tee, p[0], q[1], 100, 0x10), EINVAL, "tee with an unknown flag");
    expect_errno(syscall(SYS_tee, -1, q[1], 100, 0), EBADF, "tee from a bad descriptor");

    /* vmsplice: program memory into a pipe and back. */
    struct iovec iov[2] = {{"abc", 3}, {"defg", 4}};
    CHECK(syscall(SYS_vmsplice, p[1], iov, 2, 0) == 7, "vmsplice into a pipe");
    CHECK(read(p[0], text, sizeof text) == 7 && memcmp(text, "abcdefg", 7) == 0,
          "the pipe holds the buffers in order");
    if (write(p[1], "xyz", 3) == 3) {
        char got[8] = "";
        struct iovec into = {got, sizeof got};
        CHECK(syscall(SYS_vmsplice, p[0], &into, 1, 0) == 3 && memcmp(got, "xyz", 3) == 0,
              "vmsplice from a pipe into memory");
    }
    expect_errno(syscall(SYS_vmsplice, dst, iov, 2, 0), EBADF, "vmsplice to a file");
    expect_errno(syscall(SYS_vmsplice, p[1], iov, 2, 0x10), EINVAL,
                 "vmsplice with an unknown flag");
    expect_errno(syscall(SYS_vmsplice, p[0], iov, 2, S_NONBLOCK), EAGAIN,
                 "vmsplice from an empty pipe with SPLICE_F_NONBLOCK");
    CHECK(syscall(SYS_vmsplice, p[1], iov, 0, 0) == 0, "vmsplice of no buffers");

    /* The write end gone: tee and splice see the end of file. */
    close(p[1]);
    CHECK(syscall(SYS_tee, p[0], q[1], 100, 0) == 0, "tee at end of file gives 0");
    CHECK(syscall(SYS_splice, p[0], NULL, dst, NULL, 100, 0) == 0, "splice at end of file gives 0");
    close(p[0]);
    close(q[0]);
    close(q[1]);
    close(src);
    close(dst);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    umask(022);
    remove_tree(WORK);
    mkdir(WORK, 0755);
    check_times();
    check_readahead_sync();
    check_openat2();
    check_chroot();
    check_splice();
    remove_tree(WORK);
    return verdict_finish();
}
