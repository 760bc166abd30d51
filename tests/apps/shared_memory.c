/* Shared memory: /dev/shm is writable; MAP_SHARED mappings of a file see
 * each other's writes (in one process, through fork and through exec) and
 * read(2)/write(2) see them at once; msync; anonymous MAP_SHARED memory
 * keeps what a fork child wrote while MAP_PRIVATE memory does not;
 * memfd_create; shm_open/shm_unlink; System V shmget/shmat/shmdt/shmctl
 * with their errors.
 *
 * Usage: shared_memory                  all checks (same output natively and under myst)
 *        shared_memory files <dir>      the MAP_SHARED file checks in <dir> only (ext2)
 *        shared_memory budget <MiB>     under myst --memory-size <MiB>m only: shared
 *                                       memory and files in memory (/dev/shm, /tmp,
 *                                       the CPIO root) past the budget are
 *                                       ENOMEM/ENOSPC; so are empty files without end
 *        shared_memory child-write <path> <text>   (internal: the exec'd child) */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "verdict.h"

#define PAGE 4096

static char self_path[4096];

/* Waits for the child and says whether it exited with 0. */
static int child_succeeded(pid_t child) {
    int status = 0;
    return child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) &&
           WEXITSTATUS(status) == 0;
}

/* The 4th letter of the permissions /proc/self/maps shows for `address`. */
static char maps_share_flag(void* address) {
    FILE* maps = fopen("/proc/self/maps", "r");
    if (!maps)
        return '?';
    char line[512];
    char flag = '?';
    while (fgets(line, sizeof line, maps)) {
        unsigned long start = 0, end = 0;
        char permissions[8] = {0};
        if (sscanf(line, "%lx-%lx %7s", &start, &end, permissions) == 3 &&
            (uintptr_t)address >= start && (uintptr_t)address < end) {
            flag = permissions[3];
            break;
        }
    }
    fclose(maps);
    return flag;
}

static void dev_shm(void) {
    struct stat st;
    CHECK(stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 01777) == 01777,
          "/dev/shm is a sticky world-writable directory");
    char path[64];
    snprintf(path, sizeof path, "/dev/shm/myst-test-%d", (int)getpid());
    int fd = open(path, O_CREAT | O_EXCL | O_RDWR, 0600);
    CHECK(fd >= 0, "a file can be made in /dev/shm");
    char buffer[8] = {0};
    CHECK(write(fd, "in shm", 6) == 6 && pread(fd, buffer, 6, 0) == 6 &&
              memcmp(buffer, "in shm", 6) == 0,
          "a /dev/shm file reads back what was written");
    close(fd);
    CHECK(unlink(path) == 0, "the /dev/shm file can be removed");
}

/* The pseudo fork's snapshot must give back private pages and keep shared ones. */
static int private_global = 1;

static void fork_snapshot(void) {
    char* shared = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    char* private_page =
        mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(shared != MAP_FAILED && private_page != MAP_FAILED,
          "anonymous MAP_SHARED and MAP_PRIVATE pages");
    if (shared == MAP_FAILED || private_page == MAP_FAILED)
        return;
    strcpy(shared, "parent");
    strcpy(private_page, "parent");
    CHECK(maps_share_flag(shared) == 's' && maps_share_flag(private_page) == 'p',
          "/proc/self/maps marks them s and p");
    pid_t child = fork();
    if (child == 0) {
        strcpy(shared, "child");
        strcpy(private_page, "child");
        private_global = 2;
        _exit(0);
    }
    CHECK(child_succeeded(child), "the fork child wrote and exited");
    CHECK(strcmp(shared, "child") == 0, "the parent sees the child's write to MAP_SHARED memory");
    CHECK(strcmp(private_page, "parent") == 0,
          "the parent keeps its MAP_PRIVATE page (the child's write is not seen)");
    CHECK(private_global == 1, "the parent keeps its own globals");
    munmap(shared, PAGE);
    munmap(private_page, PAGE);
}

static int child_write(const char* path, const char* text) {
    int fd = open(path, O_RDWR);
    if (fd < 0)
        return 1;
    char* map = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED)
        return 2;
    memcpy(map, text, strlen(text));
    close(fd);
    return 0; /* no msync, no munmap: exit must keep the bytes */
}

static void file_mappings(const char* directory, const char* label) {
    char path[128];
    snprintf(path, sizeof path, "%s/myst-shared-%d", directory, (int)getpid());
    int fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0600);
    CHECK(fd >= 0, "%s: create a file", label);
    if (fd < 0)
        return;
    char page[PAGE];
    memset(page, '.', sizeof page);
    CHECK(write(fd, page, sizeof page) == PAGE, "%s: fill one page", label);
    char* a = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    char* b = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(a != MAP_FAILED && b != MAP_FAILED && a != b, "%s: two MAP_SHARED mappings", label);
    if (a == MAP_FAILED || b == MAP_FAILED)
        return;
    memcpy(a, "through a", 9);
    CHECK(memcmp(b, "through a", 9) == 0, "%s: a write through one mapping shows in the other",
          label);
    char buffer[16] = {0};
    CHECK(pread(fd, buffer, 9, 0) == 9 && memcmp(buffer, "through a", 9) == 0,
          "%s: read(2) sees the mapped write at once", label);
    CHECK(pwrite(fd, "by write", 8, 100) == 8 && memcmp(a + 100, "by write", 8) == 0 &&
              memcmp(b + 100, "by write", 8) == 0,
          "%s: both mappings see write(2) at once", label);
    CHECK(msync(a, PAGE, MS_SYNC) == 0 && msync(b, PAGE, MS_ASYNC) == 0, "%s: msync", label);

    pid_t child = fork();
    if (child == 0) {
        memcpy(b + 200, "fork child", 10);
        _exit(0);
    }
    CHECK(child_succeeded(child) && memcmp(a + 200, "fork child", 10) == 0,
          "%s: a fork child's write to the mapping stays", label);
    child = fork();
    if (child == 0) {
        execl(self_path, self_path, "child-write", path, "exec child", (char*)NULL);
        _exit(127);
    }
    CHECK(child_succeeded(child) && memcmp(a, "exec child", 10) == 0,
          "%s: an exec'd program's own mapping of the file writes into ours", label);

    CHECK(munmap(a, PAGE) == 0 && munmap(b, PAGE) == 0, "%s: munmap both", label);
    close(fd);
    fd = open(path, O_RDONLY);
    memset(buffer, 0, sizeof buffer);
    CHECK(fd >= 0 && pread(fd, buffer, 10, 0) == 10 && memcmp(buffer, "exec child", 10) == 0 &&
              pread(fd, buffer, 10, 200) == 10 && memcmp(buffer, "fork child", 10) == 0,
          "%s: the file keeps the mapped writes after munmap", label);
    char* readonly = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    expect_errno(readonly == MAP_FAILED ? -1 : 0, EACCES,
                 "a writable MAP_SHARED mapping of a read-only descriptor");
    close(fd);
    unlink(path);
}

static void memfd(void) {
    int fd = memfd_create("myst-test", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    CHECK(fd >= 0, "memfd_create");
    if (fd < 0)
        return;
    CHECK(fcntl(fd, F_GETFD) == FD_CLOEXEC, "MFD_CLOEXEC sets FD_CLOEXEC");
    char link[64], target[128] = {0};
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    CHECK(readlink(link, target, sizeof target - 1) > 0 &&
              strcmp(target, "/memfd:myst-test (deleted)") == 0,
          "/proc/self/fd names it /memfd:myst-test (deleted)");
    struct stat st;
    CHECK(ftruncate(fd, 2 * PAGE) == 0 && fstat(fd, &st) == 0 && st.st_size == 2 * PAGE &&
              S_ISREG(st.st_mode) && st.st_nlink == 0,
          "ftruncate makes it 8192 bytes, a regular file with no link");
    char* map = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(map != MAP_FAILED, "mmap MAP_SHARED of the memfd");
    if (map == MAP_FAILED)
        return;
    strcpy(map + PAGE, "memfd page");
    char buffer[16] = {0};
    CHECK(pread(fd, buffer, 10, PAGE) == 10 && memcmp(buffer, "memfd page", 10) == 0,
          "read(2) of the memfd sees the mapped write");
    pid_t child = fork();
    if (child == 0) {
        strcpy(map, "memfd child");
        _exit(0);
    }
    CHECK(child_succeeded(child) && strcmp(map, "memfd child") == 0,
          "a fork child's write to the memfd mapping stays");
    munmap(map, 2 * PAGE);
    close(fd);
    errno = 0;
    expect_errno(memfd_create("bad", 0x100), EINVAL, "memfd_create with an unknown flag");
    char long_name[300];
    memset(long_name, 'n', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = 0;
    expect_errno(memfd_create(long_name, 0), EINVAL, "memfd_create with a 299-byte name");
}

static void posix_shm(void) {
    char name[64];
    snprintf(name, sizeof name, "/myst-posix-%d", (int)getpid());
    int fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
    CHECK(fd >= 0, "shm_open creates an object");
    if (fd < 0)
        return;
    CHECK(ftruncate(fd, PAGE) == 0, "ftruncate the shm object");
    char* a = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    int second = shm_open(name, O_RDWR, 0);
    char* b = second >= 0 ? mmap(NULL, PAGE, PROT_READ, MAP_SHARED, second, 0) : MAP_FAILED;
    CHECK(a != MAP_FAILED && b != MAP_FAILED, "map it twice through two shm_open calls");
    if (a != MAP_FAILED && b != MAP_FAILED) {
        strcpy(a, "posix shm");
        CHECK(strcmp(b, "posix shm") == 0, "the second mapping sees the first's write");
    }
    expect_errno(shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600), EEXIST,
                 "shm_open O_EXCL of an existing object");
    CHECK(shm_unlink(name) == 0, "shm_unlink");
    expect_errno(shm_open(name, O_RDWR, 0), ENOENT, "shm_open of an unlinked object");
    expect_errno(shm_unlink(name), ENOENT, "shm_unlink twice");
    if (a != MAP_FAILED)
        CHECK(strcmp(a, "posix shm") == 0, "the mapping outlives the name");
    close(fd);
    close(second);
}

static void sysv(void) {
    int id = shmget(IPC_PRIVATE, 10000, IPC_CREAT | 0600);
    CHECK(id >= 0, "shmget(IPC_PRIVATE, 10000)");
    if (id < 0)
        return;
    char* a = shmat(id, NULL, 0);
    char* b = shmat(id, NULL, SHM_RDONLY);
    CHECK(a != (void*)-1 && b != (void*)-1 && a != b, "shmat twice");
    if (a == (void*)-1 || b == (void*)-1)
        return;
    CHECK(a[9999] == 0, "a new segment reads as zeros");
    strcpy(a + 8192, "sysv");
    CHECK(strcmp(b + 8192, "sysv") == 0, "both attachments show the same bytes");
    struct shmid_ds ds;
    CHECK(shmctl(id, IPC_STAT, &ds) == 0 && ds.shm_segsz == 10000 && ds.shm_nattch == 2 &&
              (ds.shm_perm.mode & 0777) == 0600 && ds.shm_cpid == getpid() &&
              ds.shm_perm.__key == IPC_PRIVATE,
          "IPC_STAT: size 10000, 2 attached, mode 0600, our pid made it");
    pid_t child = fork();
    if (child == 0) {
        strcpy(a, "sysv child");
        _exit(0);
    }
    CHECK(child_succeeded(child) && strcmp(b, "sysv child") == 0,
          "a fork child's write to the segment stays");
    CHECK(shmdt(b) == 0, "shmdt one attachment");
    CHECK(shmctl(id, IPC_STAT, &ds) == 0 && ds.shm_nattch == 1, "IPC_STAT: 1 attached");
    expect_errno(shmdt(b), EINVAL, "shmdt of a detached address");
    expect_errno(shmdt(a + PAGE), EINVAL, "shmdt inside an attachment");
    ds.shm_perm.mode = 0640;
    CHECK(shmctl(id, IPC_SET, &ds) == 0 && shmctl(id, IPC_STAT, &ds) == 0 &&
              (ds.shm_perm.mode & 0777) == 0640,
          "IPC_SET changes the mode to 0640");
    CHECK(shmctl(id, IPC_RMID, NULL) == 0, "IPC_RMID while attached");
    CHECK(shmctl(id, IPC_STAT, &ds) == 0 && (ds.shm_perm.mode & SHM_DEST) &&
              ds.shm_perm.__key == IPC_PRIVATE,
          "a removed segment that is still attached shows SHM_DEST");
    CHECK(strcmp(a, "sysv child") == 0, "its memory stays while attached");
    CHECK(shmdt(a) == 0, "shmdt the last attachment");
    expect_errno(shmctl(id, IPC_STAT, &ds), EINVAL, "IPC_STAT of a removed segment");
    expect_errno((long)shmat(id, NULL, 0), EINVAL, "shmat of a removed segment");

    key_t key = (key_t)(0x4d590000 + (getpid() & 0xffff));
    expect_errno(shmget(key, PAGE, 0600), ENOENT, "shmget of a missing key without IPC_CREAT");
    int keyed = shmget(key, PAGE, IPC_CREAT | IPC_EXCL | 0600);
    CHECK(keyed >= 0, "shmget(key, IPC_CREAT|IPC_EXCL)");
    expect_errno(shmget(key, PAGE, IPC_CREAT | IPC_EXCL | 0600), EEXIST,
                 "shmget IPC_EXCL of an existing key");
    CHECK(shmget(key, 0, 0) == keyed && shmget(key, 100, IPC_CREAT | 0600) == keyed,
          "shmget of the key finds the same segment");
    expect_errno(shmget(key, 2 * PAGE, 0), EINVAL, "shmget larger than the segment");
    CHECK(shmctl(keyed, IPC_STAT, &ds) == 0 && ds.shm_perm.__key == key && ds.shm_nattch == 0,
          "IPC_STAT shows the key and nothing attached");
    CHECK(shmctl(keyed, IPC_RMID, NULL) == 0, "IPC_RMID of an unattached segment");
    expect_errno(shmget(key, PAGE, 0600), ENOENT, "shmget of the removed key");
    expect_errno(shmget(IPC_PRIVATE, 0, IPC_CREAT | 0600), EINVAL, "shmget of 0 bytes");
    expect_errno((long)shmat(-1, NULL, 0), EINVAL, "shmat of id -1");
    expect_errno(shmctl(-1, IPC_STAT, &ds), EINVAL, "shmctl of id -1");
    int unaligned = shmget(IPC_PRIVATE, PAGE, IPC_CREAT | 0600);
    expect_errno((long)shmat(unaligned, (void*)0x10001, 0), EINVAL,
                 "shmat at an unaligned address without SHM_RND");
    shmctl(unaligned, IPC_RMID, NULL);
}

/* Writes 1 MiB chunks to `path` until a write fails or `over` bytes are
 * written; 1 when it stopped with ENOSPC within `mebibytes` MiB. The file
 * is removed again. */
static int fills_to_enospc(const char* path, size_t over, long mebibytes) {
    int fd = open(path, O_CREAT | O_RDWR, 0600);
    static char chunk[1 << 20];
    memset(chunk, 'x', sizeof chunk);
    size_t written = 0;
    ssize_t got = 0;
    /* A write that only partly fits is short; the next one fails. */
    while (fd >= 0 && written < over && (got = write(fd, chunk, sizeof chunk)) > 0)
        written += (size_t)got;
    int stopped = fd >= 0 && got == -1 && errno == ENOSPC && written <= (size_t)mebibytes << 20;
    close(fd);
    unlink(path);
    return stopped;
}

/* Creates empty files <dir>/<n> until one fails or `limit` exist; 1 when
 * it stopped with ENOSPC before `limit`. The files are removed again. */
static int creates_to_enospc(const char* dir, long limit) {
    char path[256];
    long made = 0;
    int fd = 0;
    mkdir(dir, 0700);
    for (; made < limit; made++) {
        snprintf(path, sizeof path, "%s/%ld", dir, made);
        if ((fd = open(path, O_CREAT | O_WRONLY, 0600)) < 0)
            break;
        close(fd);
    }
    int stopped = made < limit && fd == -1 && errno == ENOSPC;
    while (made-- > 0) {
        snprintf(path, sizeof path, "%s/%ld", dir, made);
        unlink(path);
    }
    rmdir(dir);
    return stopped;
}

/* Under myst --memory-size <MiB>m: shared memory, the files in the memory
 * file systems (/dev/shm, /tmp, the CPIO root) and their entries are part
 * of the budget. */
static int budget(long mebibytes) {
    size_t over = (size_t)(mebibytes + 16) << 20;
    expect_errno(shmget(IPC_PRIVATE, over, IPC_CREAT | 0600), ENOMEM,
                 "shmget past the memory budget");
    void* map = mmap(NULL, over, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    expect_errno(map == MAP_FAILED ? -1 : 0, ENOMEM, "anonymous MAP_SHARED past the budget");
    CHECK(fills_to_enospc("/dev/shm/filler", over, mebibytes),
          "/dev/shm stops with ENOSPC within the budget");
    int id = shmget(IPC_PRIVATE, PAGE, IPC_CREAT | 0600);
    CHECK(id >= 0, "a small segment fits after the file is gone");
    shmctl(id, IPC_RMID, NULL);
    CHECK(fills_to_enospc("/tmp/filler", over, mebibytes),
          "/tmp stops with ENOSPC within the budget");
    id = shmget(IPC_PRIVATE, PAGE, IPC_CREAT | 0600);
    CHECK(id >= 0, "a small segment fits after the /tmp file is gone");
    shmctl(id, IPC_RMID, NULL);
    CHECK(fills_to_enospc("/budget-filler", over, mebibytes),
          "the CPIO root stops with ENOSPC within the budget");
    id = shmget(IPC_PRIVATE, PAGE, IPC_CREAT | 0600);
    CHECK(id >= 0, "a small segment fits after the root's file is gone");
    shmctl(id, IPC_RMID, NULL);
    /* Each entry costs 1 KiB of the budget: well before one per 1 KiB. */
    CHECK(creates_to_enospc("/tmp/many", mebibytes << 10),
          "empty files in /tmp stop with ENOSPC within the budget");
    CHECK(creates_to_enospc("/many", mebibytes << 10),
          "empty files in the CPIO root stop with ENOSPC within the budget");
    id = shmget(IPC_PRIVATE, PAGE, IPC_CREAT | 0600);
    CHECK(id >= 0, "a small segment fits after the files are gone");
    shmctl(id, IPC_RMID, NULL);
    return verdict_finish();
}

int main(int argc, char** argv) {
    if (argc == 4 && strcmp(argv[1], "child-write") == 0)
        return child_write(argv[2], argv[3]);
    if (argc == 3 && strcmp(argv[1], "budget") == 0)
        return budget(atol(argv[2]));
    snprintf(self_path, sizeof self_path, "%s", argv[0]);
    if (argc == 3 && strcmp(argv[1], "files") == 0) {
        file_mappings(argv[2], "files");
        return verdict_finish();
    }
    dev_shm();
    fork_snapshot();
    file_mappings("/tmp", "/tmp");
    file_mappings("/dev/shm", "/dev/shm");
    memfd();
    posix_shm();
    sysv();
    return verdict_finish();
}
