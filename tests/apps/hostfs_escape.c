/* hostfs_escape OUTSIDE: the rename + symlink escape from a hostfs mount.
 * Run under myst only, with `--mount <host dir>=/data`; OUTSIDE is a host
 * directory beside the mounted one holding secret.txt. As uid 1000 the
 * program opens a directory of the mount, renames it, and plants a symlink
 * with its old name pointing out of the mount (to /etc, to OUTSIDE). Every
 * call through the open directory must then act on the renamed directory,
 * as Linux does, and never follow the planted link on the host: nothing is
 * read from or made in /etc or OUTSIDE. The same for the working directory
 * and for a directory whose parent was renamed. Prints one verdict per
 * check; the calling script checks the host side. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "verdict.h"

static int exists(const char* path) {
    struct stat st;
    return lstat(path, &st) == 0;
}

/* Every call that names "secret.txt" through `dir`: the secret is only
 * where the planted link points, so each must say ENOENT. */
static void nothing_of_outside(int dir, const char* how) {
    char what[160];
    struct stat st;
#define NAMED(call, text)                                          \
    snprintf(what, sizeof what, "%s: %s", how, text);             \
    expect_errno(call, ENOENT, what)
    NAMED(openat(dir, "secret.txt", O_RDONLY), "openat secret.txt");
    NAMED(openat(dir, "secret.txt", O_WRONLY | O_TRUNC), "openat secret.txt O_TRUNC");
    NAMED(fstatat(dir, "secret.txt", &st, AT_SYMLINK_NOFOLLOW), "fstatat secret.txt");
    NAMED(fchmodat(dir, "secret.txt", 0777, 0), "fchmodat secret.txt");
    NAMED(utimensat(dir, "secret.txt", NULL, 0), "utimensat secret.txt");
    NAMED(unlinkat(dir, "secret.txt", 0), "unlinkat secret.txt");
    NAMED(renameat(dir, "secret.txt", dir, "moved"), "renameat secret.txt");
    NAMED(linkat(dir, "secret.txt", dir, "hard", 0), "linkat secret.txt");
    NAMED(faccessat(dir, "secret.txt", F_OK, 0), "faccessat secret.txt");
#undef NAMED
}

int main(int argc, char** argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: hostfs_escape OUTSIDE\n");
        return 2;
    }
    const char* outside = argv[1];
    /* As root: directories uid 1000 may write in (hostfs makes host files
     * as myst's host user, with the host's umask). */
    CHECK(mkdir("/data/d", 0777) == 0 && chmod("/data/d", 0777) == 0, "mkdir /data/d");
    CHECK(mkdir("/data/d/sub", 0777) == 0 && chmod("/data/d/sub", 0777) == 0, "mkdir /data/d/sub");
    CHECK(setgid(1000) == 0 && setuid(1000) == 0 && geteuid() == 1000, "run as uid 1000");

    /* A directory opened by fd. */
    int dir = open("/data/d", O_RDONLY | O_DIRECTORY);
    CHECK(dir >= 0, "open /data/d");
    CHECK(rename("/data/d", "/data/d2") == 0, "rename /data/d to /data/d2 while it is open");
    CHECK(symlink("/etc", "/data/d") == 0, "plant the symlink /data/d -> /etc");
    struct stat st;
    expect_errno(openat(dir, "passwd", O_RDONLY), ENOENT, "openat(dir, passwd) after the plant");
    expect_errno(fstatat(dir, "passwd", &st, 0), ENOENT, "fstatat(dir, passwd) after the plant");
    CHECK(unlink("/data/d") == 0 && symlink(outside, "/data/d") == 0,
          "plant the symlink /data/d -> the outside directory");
    nothing_of_outside(dir, "open directory");

    /* What is made through the fd lands in the renamed directory. */
    int fd = openat(dir, "created", O_CREAT | O_EXCL | O_WRONLY, 0666);
    CHECK(fd >= 0 && write(fd, "inside\n", 7) == 7, "openat O_CREAT through the open directory");
    if (fd >= 0)
        close(fd);
    CHECK(exists("/data/d2/created"), "... made /data/d2/created");
    CHECK(mkdirat(dir, "made", 0777) == 0 && exists("/data/d2/made"), "mkdirat lands in d2");
    CHECK(symlinkat("created", dir, "link") == 0 && exists("/data/d2/link"),
          "symlinkat lands in d2");
    char text[64] = {0};
    CHECK(readlinkat(dir, "link", text, sizeof text - 1) == 7 && strcmp(text, "created") == 0,
          "readlinkat reads d2/link");
    CHECK(renameat(dir, "created", dir, "renamed") == 0 && exists("/data/d2/renamed"),
          "renameat within d2");
    CHECK(linkat(dir, "renamed", dir, "hard", 0) == 0 && exists("/data/d2/hard"),
          "linkat within d2");
    CHECK(unlinkat(dir, "hard", 0) == 0 && !exists("/data/d2/hard"), "unlinkat within d2");

    /* The working directory. */
    CHECK(chdir("/data/d2") == 0, "chdir /data/d2");
    CHECK(rename("/data/d2", "/data/d3") == 0, "rename the working directory to /data/d3");
    CHECK(symlink(outside, "/data/d2") == 0, "plant /data/d2 -> the outside directory");
    nothing_of_outside(AT_FDCWD, "working directory");
    fd = open("renamed", O_RDONLY);
    CHECK(fd >= 0 && read(fd, text, 7) == 7 && memcmp(text, "inside\n", 7) == 0,
          "the working directory still reads its own files");
    if (fd >= 0)
        close(fd);
    fd = open("from-cwd", O_CREAT | O_WRONLY, 0666);
    CHECK(fd >= 0 && exists("/data/d3/from-cwd"), "a file made in the working directory is in d3");
    if (fd >= 0)
        close(fd);

    /* A directory whose parent is renamed under it. */
    int made = open("/data/d3/sub", O_RDONLY | O_DIRECTORY);
    CHECK(made >= 0, "open /data/d3/sub");
    CHECK(chdir("/") == 0 && rename("/data/d3", "/data/d4") == 0, "rename its parent to d4");
    CHECK(symlink(outside, "/data/d3") == 0, "plant /data/d3 -> the outside directory");
    nothing_of_outside(made, "directory under a renamed parent");
    expect_errno(openat(made, "../secret.txt", O_RDONLY), ENOENT, "openat(sub, ../secret.txt)");
    fd = openat(made, "deep", O_CREAT | O_WRONLY, 0666);
    CHECK(fd >= 0 && exists("/data/d4/sub/deep"), "a file made there is in d4/sub");
    if (fd >= 0)
        close(fd);
    close(made);
    close(dir);
    return verdict_finish();
}
