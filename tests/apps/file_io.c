/* file_io [DIR]: file-system calls on files and directories in a fresh work
 * directory DIR/file_io.work (DIR defaults to /tmp). Every result is printed as
 * a verdict or as a value that is the same on any Linux file system, so that a
 * native run in a host scratch directory and a run under myst in the image's
 * /tmp print the same lines. */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "verdict.h"

#define DATA_SIZE 5000

static unsigned char pattern(size_t i) {
    return (unsigned char)((i * 7) % 251);
}

static int matches_pattern(const unsigned char* buffer, size_t offset, size_t count) {
    for (size_t i = 0; i < count; i++)
        if (buffer[i] != pattern(offset + i))
            return 0;
    return 1;
}

static int all_zero(const unsigned char* buffer, size_t count) {
    for (size_t i = 0; i < count; i++)
        if (buffer[i])
            return 0;
    return 1;
}

static long file_size(int fd) {
    struct stat st;
    return fstat(fd, &st) == 0 ? (long)st.st_size : -1;
}

static void check_create_and_stat(void) {
    unsigned char data[DATA_SIZE];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = pattern(i);

    int fd = open("data", O_CREAT | O_WRONLY | O_EXCL, 0640);
    CHECK(fd >= 0, "create data with O_CREAT|O_EXCL");
    CHECK(write(fd, data, sizeof(data)) == DATA_SIZE, "write %d bytes", DATA_SIZE);
    struct stat st;
    CHECK(fstat(fd, &st) == 0, "fstat");
    printf("size: %ld\n", (long)st.st_size);
    printf("mode: %o\n", (unsigned)st.st_mode);
    CHECK(S_ISREG(st.st_mode), "S_ISREG");
    CHECK((long)st.st_blocks * 512 >= DATA_SIZE, "st_blocks covers the size");
    CHECK(st.st_nlink == 1, "st_nlink is 1");
    CHECK(close(fd) == 0, "close");
}

static void check_read_seek(void) {
    unsigned char buffer[DATA_SIZE + 16];
    int fd = open("data", O_RDWR);
    CHECK(fd >= 0, "open data O_RDWR");
    CHECK(read(fd, buffer, sizeof(buffer)) == DATA_SIZE, "read returns the whole file");
    CHECK(matches_pattern(buffer, 0, DATA_SIZE), "read returns the written bytes");
    CHECK(read(fd, buffer, sizeof(buffer)) == 0, "read at end of file returns 0");

    CHECK(lseek(fd, 100, SEEK_SET) == 100, "lseek SEEK_SET");
    CHECK(read(fd, buffer, 10) == 10 && matches_pattern(buffer, 100, 10), "read after lseek");
    CHECK(lseek(fd, 0, SEEK_CUR) == 110, "lseek SEEK_CUR reports the offset");
    CHECK(lseek(fd, -10, SEEK_END) == DATA_SIZE - 10, "lseek SEEK_END");
    expect_errno(lseek(fd, -1, SEEK_SET), EINVAL, "lseek to a negative offset");

    CHECK(pread(fd, buffer, 20, 2000) == 20 && matches_pattern(buffer, 2000, 20), "pread");
    CHECK(pwrite(fd, "XYZ", 3, 10) == 3, "pwrite");
    CHECK(pread(fd, buffer, 3, 10) == 3 && memcmp(buffer, "XYZ", 3) == 0, "pread sees the pwrite");
    CHECK(lseek(fd, 0, SEEK_CUR) == DATA_SIZE - 10, "pread/pwrite leave the offset alone");

    /* A write past the end leaves a hole that reads as zeros. */
    CHECK(lseek(fd, 10000, SEEK_SET) == 10000, "lseek past the end");
    CHECK(write(fd, "E", 1) == 1, "write past the end");
    CHECK(file_size(fd) == 10001, "file grows to the write");
    CHECK(pread(fd, buffer, 100, DATA_SIZE) == 100 && all_zero(buffer, 100), "hole reads as zeros");

    CHECK(ftruncate(fd, 100) == 0 && file_size(fd) == 100, "ftruncate shrinks");
    CHECK(ftruncate(fd, 8192) == 0 && file_size(fd) == 8192, "ftruncate grows");
    CHECK(pread(fd, buffer, 200, 50) == 200 && matches_pattern(buffer + 40, 90, 10) &&
              all_zero(buffer + 50, 150),
          "ftruncate keeps the head and zero-fills the rest");
    CHECK(close(fd) == 0, "close");
}

static void check_open_flags(void) {
    int fd = open("data", O_WRONLY | O_APPEND);
    CHECK(fd >= 0, "open O_APPEND");
    CHECK(lseek(fd, 0, SEEK_SET) == 0, "lseek to 0 on an O_APPEND file");
    CHECK(write(fd, "tail", 4) == 4, "write with O_APPEND");
    CHECK(file_size(fd) == 8196, "O_APPEND write lands at the end");
    close(fd);
    unsigned char tail[4];
    fd = open("data", O_RDONLY);
    CHECK(pread(fd, tail, 4, 8192) == 4 && memcmp(tail, "tail", 4) == 0, "appended bytes");
    close(fd);

    expect_errno(open("data", O_CREAT | O_EXCL | O_WRONLY, 0600), EEXIST,
                 "O_CREAT|O_EXCL on an existing file");
    fd = open("data", O_WRONLY | O_TRUNC);
    CHECK(fd >= 0 && file_size(fd) == 0, "O_TRUNC empties the file");
    close(fd);
}

static void check_fd_calls(void) {
    int fd = open("data", O_RDWR | O_CLOEXEC);
    CHECK(fd >= 0 && fcntl(fd, F_GETFD) == FD_CLOEXEC, "O_CLOEXEC sets FD_CLOEXEC");
    CHECK((fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR, "F_GETFL reports O_RDWR");
    CHECK(write(fd, "0123456789", 10) == 10, "write 10 bytes");

    int copy = dup(fd);
    CHECK(copy >= 0 && copy != fd, "dup returns a new descriptor");
    CHECK(fcntl(copy, F_GETFD) == 0, "dup clears FD_CLOEXEC");
    CHECK(lseek(fd, 3, SEEK_SET) == 3 && lseek(copy, 0, SEEK_CUR) == 3,
          "dup shares the file offset");
    CHECK(dup2(fd, 100) == 100, "dup2 to a chosen number");
    char c = 0;
    CHECK(read(100, &c, 1) == 1 && c == '3', "dup2 copy reads at the shared offset");
    CHECK(dup2(fd, fd) == fd, "dup2 onto itself returns the descriptor");
    int high = fcntl(fd, F_DUPFD_CLOEXEC, 50);
    CHECK(high >= 50 && fcntl(high, F_GETFD) == FD_CLOEXEC, "F_DUPFD_CLOEXEC");
    CHECK(fcntl(copy, F_SETFD, FD_CLOEXEC) == 0 && fcntl(copy, F_GETFD) == FD_CLOEXEC, "F_SETFD");
    CHECK(fcntl(copy, F_SETFL, O_APPEND) == 0 && (fcntl(fd, F_GETFL) & O_APPEND),
          "F_SETFL O_APPEND shows through the shared open file");
    close(high);
    close(100);
    close(copy);
    CHECK(close(fd) == 0, "close");
    char byte;
    expect_errno(read(fd, &byte, 1), EBADF, "read on a closed descriptor");
    expect_errno(close(fd), EBADF, "close of a closed descriptor");
    expect_errno(dup(fd), EBADF, "dup of a closed descriptor");
    expect_errno(fcntl(fd, F_GETFD), EBADF, "fcntl on a closed descriptor");
}

static void check_rename_unlink(void) {
    CHECK(rename("data", "renamed") == 0, "rename");
    expect_errno(open("data", O_RDONLY), ENOENT, "open of the old name");
    int fd = open("renamed", O_RDONLY);
    CHECK(fd >= 0 && file_size(fd) == 10, "the new name has the contents");
    close(fd);

    fd = open("other", O_CREAT | O_WRONLY, 0600);
    CHECK(fd >= 0 && write(fd, "other", 5) == 5, "create other");
    close(fd);
    CHECK(rename("other", "renamed") == 0, "rename over an existing file");
    fd = open("renamed", O_RDONLY);
    CHECK(fd >= 0 && file_size(fd) == 5, "the replaced file has the new contents");

    /* An unlinked file stays readable through an open descriptor. */
    CHECK(unlink("renamed") == 0, "unlink an open file");
    expect_errno(open("renamed", O_RDONLY), ENOENT, "open after unlink");
    char buffer[8] = {0};
    struct stat st;
    CHECK(pread(fd, buffer, 5, 0) == 5 && memcmp(buffer, "other", 5) == 0,
          "an unlinked open file is still readable");
    CHECK(fstat(fd, &st) == 0 && st.st_nlink == 0, "an unlinked open file has st_nlink 0");
    close(fd);
    expect_errno(unlink("renamed"), ENOENT, "unlink of a missing file");
}

static int compare_names(const void* a, const void* b) {
    return strcmp((const char*)a, (const char*)b);
}

/* Lists a directory with the raw getdents64 call (the libc wrappers differ). */
static void list_directory(const char* path) {
    int fd = open(path, O_RDONLY | O_DIRECTORY);
    CHECK(fd >= 0, "open a directory with O_DIRECTORY");
    char names[16][32];
    int count = 0;
    unsigned char buffer[4096];
    for (;;) {
        long n = syscall(SYS_getdents64, fd, buffer, sizeof(buffer));
        if (n <= 0) {
            CHECK(n == 0, "getdents64 ends with 0");
            break;
        }
        for (long pos = 0; pos < n;) {
            uint16_t reclen;
            memcpy(&reclen, buffer + pos + 16, sizeof(reclen));
            unsigned char type = buffer[pos + 18];
            const char* name = (const char*)buffer + pos + 19;
            if (count < 16) {
                char tag = type == DT_DIR ? 'd' : type == DT_REG ? 'f' : type == DT_LNK ? 'l' : '?';
                snprintf(names[count++], sizeof(names[0]), "%s:%c", name, tag);
            }
            pos += reclen;
        }
    }
    qsort(names, (size_t)count, sizeof(names[0]), compare_names);
    printf("entries of %s:", path);
    for (int i = 0; i < count; i++)
        printf(" %s", names[i]);
    printf("\n");
    close(fd);
}

static void check_directories(void) {
    CHECK(mkdir("dir", 0755) == 0, "mkdir");
    struct stat st;
    CHECK(stat("dir", &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0755,
          "stat of the new directory");
    expect_errno(mkdir("dir", 0755), EEXIST, "mkdir of an existing directory");
    expect_errno(mkdir("missing/sub", 0755), ENOENT, "mkdir under a missing directory");
    CHECK(mkdir("dir/sub", 0700) == 0, "mkdir dir/sub");
    int fd = open("dir/a", O_CREAT | O_WRONLY, 0644);
    CHECK(fd >= 0 && write(fd, "a", 1) == 1, "create dir/a");
    close(fd);
    fd = open("dir/b", O_CREAT | O_WRONLY, 0644);
    CHECK(fd >= 0, "create dir/b");
    close(fd);

    CHECK(symlink("a", "dir/link") == 0, "symlink");
    char target[64] = {0};
    CHECK(readlink("dir/link", target, sizeof(target)) == 1 && strcmp(target, "a") == 0,
          "readlink returns the target");
    CHECK(lstat("dir/link", &st) == 0 && S_ISLNK(st.st_mode), "lstat sees a symlink");
    CHECK(stat("dir/link", &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 1,
          "stat follows the symlink");
    expect_errno(readlink("dir/a", target, sizeof(target)), EINVAL, "readlink of a file");
    expect_errno(symlink("x", "dir/link"), EEXIST, "symlink over an existing name");

    list_directory("dir");

    expect_errno(open("missing", O_RDONLY), ENOENT, "open of a missing file");
    expect_errno(open("dir/a/x", O_RDONLY), ENOTDIR, "open through a file");
    expect_errno(open("dir", O_WRONLY), EISDIR, "open of a directory for writing");
    expect_errno(rmdir("dir"), ENOTEMPTY, "rmdir of a non-empty directory");
    expect_errno(rmdir("dir/a"), ENOTDIR, "rmdir of a file");
    expect_errno(unlink("dir/sub"), EISDIR, "unlink of a directory");
    expect_errno(open("dir/a", O_RDONLY | O_DIRECTORY), ENOTDIR, "O_DIRECTORY on a file");

    CHECK(unlink("dir/link") == 0 && unlink("dir/a") == 0 && unlink("dir/b") == 0,
          "unlink the files");
    CHECK(rmdir("dir/sub") == 0, "rmdir dir/sub");
    list_directory("dir");
    CHECK(rmdir("dir") == 0, "rmdir of the emptied directory");
    expect_errno(stat("dir", &st), ENOENT, "stat of the removed directory");
}

int main(int argc, char** argv) {
    const char* base = argc > 1 ? argv[1] : "/tmp";
    umask(022);
    char work[4096];
    snprintf(work, sizeof(work), "%s/file_io.work", base);
    if (mkdir(work, 0755) != 0 || chdir(work) != 0) {
        printf("FAIL: cannot make and enter the work directory (%s)\n", errno_name(errno));
        return 1;
    }
    char cwd[4096];
    CHECK(getcwd(cwd, sizeof(cwd)) != NULL && strlen(cwd) >= 13 &&
              strcmp(cwd + strlen(cwd) - 13, "/file_io.work") == 0,
          "getcwd names the work directory");

    check_create_and_stat();
    check_read_seek();
    check_open_flags();
    check_fd_calls();
    check_rename_unlink();
    check_directories();

    CHECK(chdir("..") == 0 && rmdir("file_io.work") == 0, "remove the work directory");
    return verdict_finish();
}
