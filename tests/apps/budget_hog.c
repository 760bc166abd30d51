/* budget_hog anonymous|files|objects DIR... | images IMAGE COUNT: a program that takes every kind
 * of memory it can reach and holds all of it at once, to measure what myst's host memory comes to
 * under --memory-size (tests/tools/exec_budget_rss.sh). In turn, each until
 * the first failure or a cap: anonymous memory (touched), files in each DIR
 * (a ramfs, the CPIO root, an ext2 root), pipes filled to the brim, threads
 * that touch their stacks, open descriptors, mounts (up to the limit) and
 * directory entries.
 * Prints what each part got and how it stopped. `images` instead mounts the
 * host's ext2 IMAGE (which holds /big) COUNT times and reads /big through
 * each mount, filling the image caches. Only for myst: natively it would
 * take the host's memory. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define MIB (1ul << 20)
#define CAP_MIB 4096ul /* no part may need more than this to meet its limit */

static void report(const char* what, unsigned long count, const char* unit, int error) {
    printf("%s: %lu %s, stopped by %s\n", what, count, unit, error ? strerror(error) : "the cap");
}

static void anonymous_memory(void) {
    unsigned long mib = 0;
    int error = 0;
    for (; mib < CAP_MIB; mib++) {
        char* p = mmap(NULL, MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            error = errno;
            break;
        }
        memset(p, 0x5a, MIB);
    }
    report("anonymous memory", mib, "MiB", error);
}

static void files_in(const char* dir) {
    char path[4096];
    snprintf(path, sizeof path, "%s/hog", dir);
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
    static char chunk[1 << 20];
    memset(chunk, 'h', sizeof chunk);
    unsigned long mib = 0;
    int error = fd < 0 ? errno : 0;
    while (fd >= 0 && mib < CAP_MIB) {
        ssize_t written = write(fd, chunk, sizeof chunk);
        if (written < (ssize_t)sizeof chunk) {
            error = written < 0 ? errno : ENOSPC;
            break;
        }
        mib++;
    }
    char what[4200];
    snprintf(what, sizeof what, "file in %s", dir);
    report(what, mib, "MiB", error);
}

static void entries_in(const char* dir) {
    char path[4096];
    unsigned long made = 0;
    int error = 0;
    for (; made < 10000000ul; made++) {
        snprintf(path, sizeof path, "%s/entry-%lu", dir, made);
        if (mkdir(path, 0700) != 0) {
            error = errno;
            break;
        }
    }
    char what[4200];
    snprintf(what, sizeof what, "directories in %s", dir);
    report(what, made, "made", error);
}

static void full_pipes(void) {
    unsigned long pipes = 0, kib = 0;
    int error = 0;
    static char chunk[65536];
    for (; pipes < 100000; pipes++) {
        int ends[2];
        if (pipe2(ends, O_NONBLOCK) != 0) {
            error = errno;
            break;
        }
        (void)fcntl(ends[1], F_SETPIPE_SZ, 1 << 20);
        ssize_t written;
        while ((written = write(ends[1], chunk, sizeof chunk)) > 0)
            kib += (unsigned long)written >> 10;
    }
    report("pipes", pipes, "filled", error);
    printf("pipe contents: %lu MiB\n", kib >> 10);
}

static void* stack_toucher(void* arg) {
    volatile char stack[256 * 1024];
    memset((char*)stack, 1, sizeof stack);
    pthread_mutex_lock(arg); /* held by main until exit: the thread stays */
    return NULL;
}

static void threads(void) {
    static pthread_mutex_t hold = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&hold);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 512 * 1024);
    unsigned long made = 0;
    int error = 0;
    for (; made < 100000; made++) {
        pthread_t thread;
        if ((error = pthread_create(&thread, &attr, stack_toucher, &hold)) != 0)
            break;
    }
    report("threads", made, "alive", error);
}

static void descriptors(void) {
    struct rlimit limit = {1 << 20, 1 << 20};
    (void)setrlimit(RLIMIT_NOFILE, &limit);
    unsigned long opened = 0;
    int error = 0;
    for (; opened < (1ul << 20); opened++) {
        if (open("/", O_RDONLY | O_DIRECTORY) < 0) {
            error = errno;
            break;
        }
    }
    report("descriptors", opened, "open", error);
}

static void mounts(void) {
    unsigned long made = 0;
    int error = 0;
    mkdir("/tmp/m", 0755);
    if (mount("none", "/tmp/m", "tmpfs", 0, NULL) != 0) {
        report("mounts", 0, "made", errno);
        return;
    }
    for (; made < 100000; made++) {
        if (mount("none", "/tmp/m", "tmpfs", 0, NULL) != 0) {
            error = errno;
            break;
        }
    }
    report("stacked tmpfs mounts", made, "made", error);
}

/* Each mount of `image` reads its /big whole and stays mounted. */
static int image_mounts(const char* image, unsigned long count) {
    static char chunk[1 << 20];
    unsigned long bytes = 0;
    for (unsigned long i = 0; i < count; i++) {
        char target[64], big[80];
        snprintf(target, sizeof target, "/tmp/image%lu", i);
        snprintf(big, sizeof big, "%s/big", target);
        mkdir(target, 0755);
        if (mount(image, target, "ext2", MS_RDONLY, NULL) != 0) {
            report("image mounts", i, "made", errno);
            return 1;
        }
        int fd = open(big, O_RDONLY);
        ssize_t got;
        while (fd >= 0 && (got = read(fd, chunk, sizeof chunk)) > 0)
            bytes += got;
        if (fd < 0 || got < 0) {
            report("image mounts", i, "read", errno);
            return 1;
        }
        close(fd);
    }
    printf("image mounts: %lu, each read whole (%lu MiB in all)\n", count, bytes / MIB);
    printf("holding everything: done\n");
    return 0;
}

int main(int argc, char** argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    const char* mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "images") == 0 && argc == 4)
        return image_mounts(argv[2], strtoul(argv[3], NULL, 10));
    if (strcmp(mode, "anonymous") != 0 && strcmp(mode, "files") != 0 &&
        strcmp(mode, "objects") != 0) {
        fprintf(stderr, "usage: budget_hog anonymous|files|objects DIR... | images IMAGE COUNT\n");
        return 2;
    }
    /* The budget goes to anonymous memory, to the files or (objects) to
     * what follows; each way, the rest meets a full budget or limits of
     * its own. */
    if (strcmp(mode, "anonymous") == 0)
        anonymous_memory();
    if (strcmp(mode, "objects") != 0) {
        for (int i = 2; i < argc; i++)
            files_in(argv[i]);
        entries_in(argc > 2 ? argv[2] : "/tmp");
    }
    full_pipes();
    threads();
    descriptors();
    mounts();
    printf("holding everything: done\n");
    return 0;
}
