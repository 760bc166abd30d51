/* /proc/self as the program sees it: the exe link names the program, maps
 * lists the executable, and fd lists the standard descriptors and the
 * directory's own descriptor, and closing what it lists while reading it
 * skips none. Only verdicts are printed (paths differ between
 * a native run and a run under myst). */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "verdict.h"

/* A getdents64 record. */
struct listed {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

static int ends_with(const char* text, const char* suffix) {
    size_t a = strlen(text), b = strlen(suffix);
    return a >= b && strcmp(text + a - b, suffix) == 0;
}

int main(int argc, char** argv) {
    (void)argc;
    const char* name = strrchr(argv[0], '/');
    name = name ? name + 1 : argv[0];
    char suffix[512];
    snprintf(suffix, sizeof(suffix), "/%s", name);

    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    CHECK(n > 0, "readlink /proc/self/exe");
    if (n > 0) {
        exe[n] = '\0';
        CHECK(exe[0] == '/', "/proc/self/exe is an absolute path");
        CHECK(ends_with(exe, suffix), "/proc/self/exe ends with the program's name");
    }

    FILE* maps = fopen("/proc/self/maps", "r");
    CHECK(maps != NULL, "open /proc/self/maps");
    if (maps) {
        char line[4096];
        int lines = 0, names_exe = 0, has_stack = 0;
        while (fgets(line, sizeof(line), maps)) {
            lines++;
            line[strcspn(line, "\n")] = '\0';
            if (ends_with(line, suffix))
                names_exe = 1;
            if (ends_with(line, "[stack]"))
                has_stack = 1;
        }
        fclose(maps);
        CHECK(lines > 0, "/proc/self/maps is not empty");
        CHECK(names_exe, "/proc/self/maps names the executable");
        CHECK(has_stack, "/proc/self/maps has a [stack] line");
    }

    int dir_fd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY);
    DIR* dir = dir_fd >= 0 ? fdopendir(dir_fd) : NULL;
    CHECK(dir != NULL, "open /proc/self/fd");
    if (dir) {
        int seen[4] = {0}, seen_dir_fd = 0;
        struct dirent* entry;
        while ((entry = readdir(dir)) != NULL) {
            if (entry->d_name[0] == '.')
                continue;
            int fd = atoi(entry->d_name);
            if (fd >= 0 && fd <= 2)
                seen[fd] = 1;
            if (fd == dir_fd)
                seen_dir_fd = 1;
        }
        closedir(dir);
        CHECK(seen[0] && seen[1] && seen[2], "/proc/self/fd lists 0, 1 and 2");
        CHECK(seen_dir_fd, "/proc/self/fd lists the directory's own descriptor");
    }

    /* Closing descriptors while reading /proc/self/fd in small pieces (as
     * CPython's subprocess does when close_range is refused) skips none:
     * positions there follow the descriptor numbers. */
    int first_pipe[2];
    CHECK(pipe(first_pipe) == 0, "a pipe to close while listing");
    for (int i = 0; i < 5; i++) {
        int more[2];
        CHECK(pipe(more) == 0, "another pipe to close while listing");
    }
    int listing = open("/proc/self/fd", O_RDONLY | O_DIRECTORY);
    CHECK(listing >= 0, "open /proc/self/fd to close what it lists");
    /* Room for about three entries per call. */
    _Alignas(8) char buffer[96];
    long got;
    while (listing >= 0 && (got = syscall(SYS_getdents64, listing, buffer, sizeof buffer)) > 0) {
        for (long at = 0; at < got;) {
            struct listed* entry = (struct listed*)(buffer + at);
            int fd = atoi(entry->d_name);
            if (entry->d_name[0] != '.' && fd >= first_pipe[0] && fd != listing)
                close(fd);
            at += entry->d_reclen;
        }
    }
    int left = 0;
    for (int fd = first_pipe[0]; fd < first_pipe[0] + 12; fd++)
        left += fd != listing && fcntl(fd, F_GETFD) >= 0;
    CHECK(left == 0, "closing while listing /proc/self/fd closed every pipe (%d left)", left);
    close(listing);
    return verdict_finish();
}
