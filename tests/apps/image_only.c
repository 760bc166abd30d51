/* image_only IMAGE_FILE HOST_PATH: the program sees the image, not the host.
 * IMAGE_FILE exists only in the image: its content is printed. HOST_PATH is a
 * path that exists on the host but not in the image: opening it must fail with
 * ENOENT, as must stat. (Run natively, the runner passes a copy of the image
 * file and a path that does not exist, so both runs print the same lines.) */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "verdict.h"

int main(int argc, char** argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: image_only IMAGE_FILE HOST_PATH\n");
        return 2;
    }
    int fd = open(argv[1], O_RDONLY);
    CHECK(fd >= 0, "open the image-only file");
    if (fd >= 0) {
        char buffer[512];
        ssize_t n = read(fd, buffer, sizeof(buffer) - 1);
        CHECK(n > 0, "read the image-only file");
        if (n > 0) {
            buffer[n] = '\0';
            printf("content: %s", buffer);
            if (buffer[n - 1] != '\n')
                printf("\n");
        }
        close(fd);
    }
    expect_errno(open(argv[2], O_RDONLY), ENOENT, "open of a host-only path");
    struct stat st;
    expect_errno(stat(argv[2], &st), ENOENT, "stat of a host-only path");
    return verdict_finish();
}
