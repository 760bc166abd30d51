/* mount_calls IMAGE ENCRYPTED KEYHEX HOSTDIR: mount(2) and umount2(2) from
 * inside a program under myst. IMAGE is a host path of a plain myst mkext2
 * image holding /etc/motd ("Hello World!"); ENCRYPTED one made with
 * --encrypt, holding note.txt ("top secret"); KEYHEX its 64-byte key in hex;
 * HOSTDIR a host directory holding hello.txt ("from the host") and the
 * symlink to_root -> /, into which the program writes written.txt. The
 * operator allows mounting the directory holding all of them and nothing
 * else. Prints one verdict per check. Only for myst: mounting a host file
 * needs no loop device here, unlike Linux.
 *
 * mount_calls mount-max: tmpfs mounts in a loop stop with ENOSPC at Linux's
 * default /proc/sys/fs/mount-max (100000 mounts in all, the ones myst makes
 * at start included) instead of growing myst without bound. Only for myst:
 * natively it would mount on the host. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "verdict.h"

static int file_is(const char* path, const char* expected) {
    char buffer[256] = {0};
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buffer, sizeof buffer - 1);
    close(fd);
    return n == (ssize_t)strlen(expected) && memcmp(buffer, expected, (size_t)n) == 0;
}

static int mounts_show(const char* needle) {
    static char text[16384];
    memset(text, 0, sizeof text);
    int fd = open("/proc/mounts", O_RDONLY);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    return n > 0 && strstr(text, needle) != NULL;
}

static void plain_image(const char* image) {
    mkdir("/mnt", 0755);
    mkdir("/mnt/a", 0755);
    CHECK(mount(image, "/mnt/a", "ext2", 0, NULL) == 0, "mount an ext2 image");
    CHECK(file_is("/mnt/a/etc/motd", "Hello World!\n"), "read a file in the mounted image");
    CHECK(mounts_show(" /mnt/a ext2 rw"), "/proc/mounts lists the mount");
    int fd = open("/mnt/a/new-file", O_CREAT | O_WRONLY, 0644);
    CHECK(fd >= 0 && write(fd, "x", 1) == 1, "write in the mounted image (kept in memory)");
    expect_errno(umount2("/mnt/a", 0), EBUSY, "umount2 with a file open in the mount");
    close(fd);
    CHECK(umount2("/mnt/a", 0) == 0, "umount2 once nothing uses the mount");
    expect_errno(access("/mnt/a/etc/motd", F_OK), ENOENT, "after umount2 the image's files");
    CHECK(!mounts_show(" /mnt/a "), "/proc/mounts no longer lists the mount");

    CHECK(mount(image, "/mnt/a", "ext2", MS_RDONLY | MS_NOSUID, NULL) == 0, "mount read-only");
    expect_errno(open("/mnt/a/other", O_CREAT | O_WRONLY, 0644), EROFS, "create on read-only");
    expect_errno(open("/mnt/a/etc/motd", O_WRONLY), EROFS, "open for writing on read-only");
    expect_errno(chmod("/mnt/a/etc/motd", 0600), EROFS, "chmod on read-only");
    CHECK(mounts_show(" /mnt/a ext2 ro"), "/proc/mounts shows ro");
    fd = open("/mnt/a/etc/motd", O_RDONLY);
    int dir = open("/mnt/a/etc", O_RDONLY | O_DIRECTORY);
    CHECK(umount2("/mnt/a", MNT_DETACH) == 0, "umount2 MNT_DETACH of a busy mount");
    CHECK(dir >= 0 && fchdir(dir) == 0, "fchdir into the detached mount");
    expect_errno(mount("none", ".", "tmpfs", 0, NULL), EINVAL, "a mount on a detached mount");
    CHECK(chdir("/") == 0, "chdir back to /");
    close(dir);
    char byte = 0;
    CHECK(fd >= 0 && read(fd, &byte, 1) == 1 && byte == 'H', "a detached mount's open file reads");
    close(fd);
    expect_errno(access("/mnt/a/etc/motd", F_OK), ENOENT, "a detached mount's files by path");
}

static void encrypted_image(const char* image, const char* key_hex) {
    mkdir("/mnt/s", 0755);
    expect_errno(mount(image, "/mnt/s", "ext2", 0, NULL), ENOKEY, "an encrypted image without key");
    char data[300];
    snprintf(data, sizeof data, "key=%.127s0", key_hex);
    if (key_hex[127] == '0')
        data[strlen(data) - 1] = '1';
    expect_errno(mount(image, "/mnt/s", "ext2", 0, data), EKEYREJECTED, "the wrong key");
    expect_errno(mount(image, "/mnt/s", "ext2", 0, "key=abc"), EINVAL, "a malformed key");
    snprintf(data, sizeof data, "rw,key=%s", key_hex);
    CHECK(mount(image, "/mnt/s", "ext2", 0, data) == 0, "mount an encrypted image with key=");
    CHECK(file_is("/mnt/s/note.txt", "top secret\n"), "read a file in the encrypted image");
    CHECK(umount2("/mnt/s", 0) == 0, "umount2 the encrypted image");
    snprintf(data, sizeof data, "key=%s,roothash=%064d", key_hex, 1);
    expect_errno(mount(image, "/mnt/s", "ext2", 0, data), EACCES, "a root hash it does not have");
}

static void host_directory(const char* directory) {
    mkdir("/mnt/h", 0755);
    CHECK(mount(directory, "/mnt/h", "hostfs", 0, NULL) == 0, "mount a host directory");
    CHECK(file_is("/mnt/h/hello.txt", "from the host\n"), "read a host file");
    int fd = open("/mnt/h/written.txt", O_CREAT | O_WRONLY | O_TRUNC, 0644);
    CHECK(fd >= 0 && write(fd, "from myst\n", 10) == 10, "write a host file");
    close(fd);
    CHECK(chdir("/mnt/h") == 0, "chdir into the mount");
    expect_errno(umount2("/mnt/h", 0), EBUSY, "umount2 of the cwd's mount");
    CHECK(chdir("/") == 0 && umount2("/mnt/h", 0) == 0, "umount2 after leaving it");
}

static void ramfs(void) {
    mkdir("/mnt/t", 0755);
    CHECK(mount("none", "/mnt/t", "tmpfs", 0, "mode=0700,size=1m") == 0, "mount a tmpfs");
    struct stat st;
    CHECK(stat("/mnt/t", &st) == 0 && (st.st_mode & 07777) == 0700, "mode= sets the root mode");
    int fd = open("/mnt/t/file", O_CREAT | O_WRONLY, 0644);
    CHECK(fd >= 0, "create a file in the tmpfs");
    close(fd);
    struct statfs sf;
    CHECK(statfs("/mnt/t", &sf) == 0 && sf.f_blocks * (unsigned long)sf.f_bsize == (1ul << 20) &&
              sf.f_bfree <= sf.f_blocks,
          "statfs shows size=1m");
    /* 2 MiB into a 1 MiB tmpfs: a short write, then ENOSPC. */
    static char chunk[1 << 20];
    fd = open("/mnt/t/big", O_CREAT | O_WRONLY, 0644);
    ssize_t first = write(fd, chunk, sizeof chunk);
    ssize_t second = write(fd, chunk, sizeof chunk);
    CHECK(first > 0 && first < (ssize_t)sizeof chunk, "a write past size= is short");
    expect_errno(second, ENOSPC, "the next write past size=");
    close(fd);
    CHECK(statfs("/mnt/t", &sf) == 0 && sf.f_bfree == 0, "statfs shows the tmpfs full");
    CHECK(unlink("/mnt/t/big") == 0 && statfs("/mnt/t", &sf) == 0 && sf.f_bfree > 200,
          "removing the file gives the room back");
    mkdir("/mnt/u", 0755);
    expect_errno(mount("none", "/mnt/u", "tmpfs", 0, "size=1q"), EINVAL, "a malformed size=");
    /* nr_inodes= counts the root and every name, a hard link too (as
     * Linux's tmpfs: nr_inodes=4 holds 3 files); 0 is no limit. */
    mkdir("/mnt/n", 0755);
    CHECK(mount("none", "/mnt/n", "tmpfs", 0, "nr_inodes=4") == 0, "mount with nr_inodes=4");
    CHECK(statfs("/mnt/n", &sf) == 0 && sf.f_files == 4 && sf.f_ffree == 3,
          "statfs shows 4 inodes, 3 free");
    for (int i = 0; i < 3; i++) {
        char name[32];
        snprintf(name, sizeof name, "/mnt/n/%d", i);
        fd = open(name, O_CREAT | O_WRONLY, 0644);
        CHECK(fd >= 0, "a file within nr_inodes=");
        close(fd);
    }
    expect_errno(open("/mnt/n/3", O_CREAT | O_WRONLY, 0644), ENOSPC, "a file past nr_inodes=");
    expect_errno(link("/mnt/n/0", "/mnt/n/l"), ENOSPC, "a hard link past nr_inodes=");
    CHECK(unlink("/mnt/n/1") == 0 && link("/mnt/n/0", "/mnt/n/l") == 0,
          "unlink gives an inode back");
    CHECK(umount2("/mnt/n", 0) == 0, "umount2 the nr_inodes= tmpfs");
    expect_errno(mount("none", "/mnt/n", "tmpfs", 0, "nr_inodes=5%"), EINVAL,
                 "nr_inodes= as a percentage");
    CHECK(mount("none", "/mnt/n", "tmpfs", 0, "nr_inodes=1k") == 0 && statfs("/mnt/n", &sf) == 0 &&
              sf.f_files == 1024 && umount2("/mnt/n", 0) == 0,
          "nr_inodes=1k is 1024");
    CHECK(mount("none", "/mnt/n", "tmpfs", 0, "nr_inodes=0") == 0 && statfs("/mnt/n", &sf) == 0 &&
              sf.f_files == 0 && sf.f_ffree == 0 && umount2("/mnt/n", 0) == 0,
          "nr_inodes=0 is no limit and statfs says 0");
    mkdir("/mnt/t/inner", 0755);
    CHECK(mount("none", "/mnt/t/inner", "ramfs", 0, NULL) == 0, "mount a ramfs inside it");
    expect_errno(umount2("/mnt/t", 0), EBUSY, "umount2 of a mount with a mount inside");
    CHECK(umount2("/mnt/t/inner", 0) == 0 && umount2("/mnt/t", 0) == 0, "umount2 both");
}

static void bad_calls(const char* image) {
    expect_errno(mount(image, "/mnt", "xfs", 0, NULL), ENODEV, "an unknown file system type");
    expect_errno(mount("relative.img", "/mnt", "ext2", 0, NULL), EINVAL, "a relative source");
    expect_errno(mount(image, "/missing", "ext2", 0, NULL), ENOENT, "a missing mount point");
    expect_errno(mount(image, "/mnt/a/../../etc/motd", "ext2", 0, NULL), ENOENT,
                 "a mount point through a missing directory");
    char missing[4200];
    snprintf(missing, sizeof missing, "%.4000s.missing", image);
    expect_errno(mount(missing, "/mnt", "ext2", 0, NULL), ENOENT, "a missing image");
    expect_errno(mount(image, "/mnt", "ext2", MS_BIND, NULL), EINVAL, "a bind mount");
    expect_errno(mount(image, "/mnt", "ext2", 0, "nonsense"), EINVAL, "an unknown option");
    expect_errno(umount2("/mnt", 0), EINVAL, "umount2 of a directory that is not a mount");
    expect_errno(umount2("/", 0), EBUSY, "umount2 of /");
    expect_errno(umount2("/mnt", 0x100), EINVAL, "umount2 with unknown flags");
}

/* Only what the operator listed: neither other host paths nor ".." or a
 * symlink out of the listed directory. */
static void not_allowed(const char* directory) {
    mkdir("/mnt/x", 0755);
    expect_errno(mount("/", "/mnt/x", "hostfs", 0, NULL), EPERM, "a hostfs mount of the host's /");
    expect_errno(mount("/etc/passwd", "/mnt/x", "ext2", 0, NULL), EPERM,
                 "an ext2 mount of a host file not listed");
    expect_errno(mount("/no/such/image", "/mnt/x", "ext2", 0, NULL), EPERM,
                 "a missing path not listed");
    char path[4200];
    snprintf(path, sizeof path, "%.4000s/../../../../../../../../etc", directory);
    expect_errno(mount(path, "/mnt/x", "hostfs", 0, NULL), EPERM, "a listed path with ..");
    snprintf(path, sizeof path, "%.4000s/to_root", directory);
    expect_errno(mount(path, "/mnt/x", "hostfs", 0, NULL), EPERM, "a symlink out of a listed path");
    snprintf(path, sizeof path, "%.4000s/to_root/etc/passwd", directory);
    expect_errno(mount(path, "/mnt/x", "ext2", 0, NULL), EPERM, "a file through that symlink");
    expect_errno(access("/mnt/x/etc", F_OK), ENOENT, "nothing got mounted");
}

static int mount_max(void) {
    mkdir("/mnt", 0755);
    mkdir("/mnt/many", 0755);
    CHECK(mount("none", "/mnt/many", "tmpfs", 0, NULL) == 0, "mount a tmpfs for the points");
    char path[64];
    long made = 0;
    int result = 0;
    for (; made < 200000; made++) {
        snprintf(path, sizeof path, "/mnt/many/%ld", made);
        if (mkdir(path, 0755) != 0 || (result = mount("none", path, "tmpfs", 0, NULL)) != 0)
            break;
    }
    CHECK(result == -1 && errno == ENOSPC && made > 99000 && made < 100000,
          "tmpfs mounts in a loop stop with ENOSPC just below mount-max (100000)");
    snprintf(path, sizeof path, "/mnt/many/%ld", made - 1);
    CHECK(umount2(path, 0) == 0 && mount("none", path, "tmpfs", 0, NULL) == 0,
          "once one is unmounted another fits");
    return verdict_finish();
}

int main(int argc, char** argv) {
    if (argc == 2 && strcmp(argv[1], "mount-max") == 0)
        return mount_max();
    if (argc != 5) {
        fprintf(stderr, "usage: mount_calls IMAGE ENCRYPTED KEYHEX HOSTDIR\n");
        return 2;
    }
    plain_image(argv[1]);
    encrypted_image(argv[2], argv[3]);
    host_directory(argv[4]);
    ramfs();
    bad_calls(argv[1]);
    not_allowed(argv[4]);
    if (setuid(1000) == 0)
        expect_errno(mount("none", "/mnt", "tmpfs", 0, NULL), EPERM, "mount as a user");
    return verdict_finish();
}
