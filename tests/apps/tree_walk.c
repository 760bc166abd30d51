/* tree_walk DIR [change]: prints every entry under DIR, in name order, with
 * its type, permissions, size (files), link count (files), a checksum of the
 * contents (files, read in odd-sized pieces plus a pread spot check) and the
 * target (symlinks). With "change", first does file work under DIR/changes:
 * a file written across indirect blocks, overwritten in the middle, extended
 * with a hole, truncated; a hard link, a symlink, a rename across
 * directories, an unlink and an rmdir; then the listing shows the result.
 * Paths are relative to DIR and no inode numbers or times are printed, so a
 * native run on the source directory and a run under myst on an image of it
 * print the same lines. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int failures;

static void failed(const char* what, const char* path) {
    printf("ERROR: %s %s: %s\n", what, path, strerror(errno));
    failures++;
}

/* FNV-1a, 64 bits: enough to tell contents apart, no library needed. */
static uint64_t fnv1a(uint64_t hash, const unsigned char* bytes, size_t count) {
    for (size_t i = 0; i < count; i++) {
        hash ^= bytes[i];
        hash *= 0x100000001b3ull;
    }
    return hash;
}

static void print_file(const char* path, const char* shown, const struct stat* st) {
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return failed("open", shown);
    static unsigned char buffer[7001]; /* odd size: reads straddle blocks */
    uint64_t hash = 0xcbf29ce484222325ull;
    long long total = 0;
    ssize_t n;
    while ((n = read(fd, buffer, sizeof buffer)) > 0) {
        hash = fnv1a(hash, buffer, (size_t)n);
        total += n;
    }
    if (n < 0)
        failed("read", shown);
    unsigned char spot[3] = {0};
    long long spot_at = st->st_size > 3 ? st->st_size / 2 - 1 : 0;
    ssize_t spot_read = pread(fd, spot, sizeof spot, spot_at);
    close(fd);
    printf("file %s mode %04o size %lld links %lu read %lld fnv %016llx mid %zd:%02x%02x%02x\n",
           shown, (unsigned)(st->st_mode & 07777), (long long)st->st_size,
           (unsigned long)st->st_nlink, total, (unsigned long long)hash, spot_read, spot[0],
           spot[1], spot[2]);
}

static void walk(const char* path, const char* shown) {
    struct dirent** entries;
    int count = scandir(path, &entries, NULL, alphasort);
    if (count < 0)
        return failed("scandir", shown);
    for (int i = 0; i < count; i++) {
        const char* name = entries[i]->d_name;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
            free(entries[i]);
            continue;
        }
        char child[4096], child_shown[4096];
        snprintf(child, sizeof child, "%s/%s", path, name);
        snprintf(child_shown, sizeof child_shown, "%s/%s", shown, name);
        struct stat st;
        if (lstat(child, &st) != 0) {
            failed("lstat", child_shown);
        } else if (S_ISDIR(st.st_mode)) {
            printf("dir %s mode %04o\n", child_shown, (unsigned)(st.st_mode & 07777));
            walk(child, child_shown);
        } else if (S_ISLNK(st.st_mode)) {
            char target[4096];
            ssize_t n = readlink(child, target, sizeof target - 1);
            target[n < 0 ? 0 : n] = '\0';
            printf("symlink %s -> %s\n", child_shown, target);
        } else if (S_ISREG(st.st_mode)) {
            print_file(child, child_shown, &st);
        } else {
            printf("other %s mode %06o\n", child_shown, (unsigned)st.st_mode);
        }
        free(entries[i]);
    }
    free(entries);
}

static int write_pattern(int fd, long long offset, long long count, unsigned seed) {
    static unsigned char chunk[65536];
    while (count > 0) {
        size_t n = count < (long long)sizeof chunk ? (size_t)count : sizeof chunk;
        for (size_t i = 0; i < n; i++)
            chunk[i] = (unsigned char)(((offset + (long long)i) * 131 + seed) % 253);
        if (pwrite(fd, chunk, n, offset) != (ssize_t)n)
            return -1;
        offset += (long long)n;
        count -= (long long)n;
    }
    return 0;
}

#define STEP(call, what)          \
    do {                          \
        if ((call) != 0)          \
            failed(what, "step"); \
    } while (0)

static void change(const char* dir) {
    char base[4096], a[4200], b[4200], c[4200];
    snprintf(base, sizeof base, "%s/changes", dir);
    STEP(mkdir(base, 0755), "mkdir changes");
    snprintf(a, sizeof a, "%s/sub", base);
    STEP(mkdir(a, 0750), "mkdir sub");
    snprintf(a, sizeof a, "%s/big", base);
    int fd = open(a, O_CREAT | O_RDWR | O_TRUNC, 0640);
    if (fd < 0)
        return failed("create", "big");
    /* 5 MiB: past the direct and single-indirect blocks of a 4 KiB ext2. */
    STEP(write_pattern(fd, 0, 5 << 20, 1), "write big");
    STEP(write_pattern(fd, 1234567, 100000, 2), "overwrite big");
    STEP(write_pattern(fd, (8 << 20) + 17, 5000, 3), "extend big past a hole");
    STEP(ftruncate(fd, (7 << 20) + 5), "truncate big");
    STEP(fsync(fd), "fsync big");
    close(fd);
    snprintf(b, sizeof b, "%s/big-link", base);
    STEP(link(a, b), "link");
    snprintf(b, sizeof b, "%s/to-big", base);
    STEP(symlink("big", b), "symlink");
    snprintf(b, sizeof b, "%s/small", base);
    fd = open(b, O_CREAT | O_WRONLY | O_EXCL, 0600);
    if (fd < 0)
        return failed("create", "small");
    STEP(write(fd, "small file\n", 11) == 11 ? 0 : -1, "write small");
    close(fd);
    snprintf(c, sizeof c, "%s/sub/moved", base);
    STEP(rename(b, c), "rename small");
    snprintf(b, sizeof b, "%s/gone", base);
    fd = open(b, O_CREAT | O_WRONLY, 0600);
    close(fd);
    STEP(unlink(b), "unlink gone");
    snprintf(b, sizeof b, "%s/empty", base);
    STEP(mkdir(b, 0700), "mkdir empty");
    STEP(rmdir(b), "rmdir empty");
    STEP(chmod(c, 0604), "chmod moved");
}

int main(int argc, char** argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: tree_walk DIR [change]\n");
        return 2;
    }
    if (argc > 2 && strcmp(argv[2], "change") == 0)
        change(argv[1]);
    walk(argv[1], ".");
    printf("%s\n", failures ? "FAILED" : "done");
    return failures ? 1 : 0;
}
