/* The device files a program expects: /dev/null swallows writes and reads as
 * end of file, /dev/zero reads zeros, /dev/urandom reads random bytes. */
#include <fcntl.h>
#include <unistd.h>

#include "verdict.h"

int main(void) {
    unsigned char buffer[4096];

    int fd = open("/dev/null", O_RDWR);
    CHECK(fd >= 0, "open /dev/null");
    CHECK(write(fd, "discard me", 10) == 10, "write to /dev/null takes everything");
    CHECK(read(fd, buffer, sizeof(buffer)) == 0, "read from /dev/null is end of file");
    close(fd);

    fd = open("/dev/zero", O_RDONLY);
    CHECK(fd >= 0, "open /dev/zero");
    memset(buffer, 0xAA, sizeof(buffer));
    int zeros = read(fd, buffer, sizeof(buffer)) == (ssize_t)sizeof(buffer);
    for (size_t i = 0; zeros && i < sizeof(buffer); i++)
        zeros = buffer[i] == 0;
    CHECK(zeros, "read from /dev/zero fills the buffer with zeros");
    close(fd);

    fd = open("/dev/urandom", O_RDONLY);
    CHECK(fd >= 0, "open /dev/urandom");
    unsigned char a[16] = {0}, b[16] = {0};
    CHECK(read(fd, a, sizeof(a)) == 16 && read(fd, b, sizeof(b)) == 16,
          "read 16 bytes from /dev/urandom twice");
    int nonzero = 0;
    for (size_t i = 0; i < sizeof(a); i++)
        nonzero |= a[i];
    CHECK(nonzero, "/dev/urandom bytes are not all zero");
    CHECK(memcmp(a, b, sizeof(a)) != 0, "two /dev/urandom reads differ");
    close(fd);
    return verdict_finish();
}
