/* Changing ids with Linux's rules, starting as root: setresuid/setreuid/
 * setuid/setfsuid and their gid forms, what an unprivileged process may and
 * may not do, supplementary groups, and file access by the new ids. Must
 * start as root (CI and the tests run as root). */
#include <fcntl.h>
#include <grp.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <unistd.h>

#include "verdict.h"

int setresuid(uid_t, uid_t, uid_t);
int setresgid(gid_t, gid_t, gid_t);
int getresuid(uid_t*, uid_t*, uid_t*);
int getresgid(gid_t*, gid_t*, gid_t*);

static int ids_are(uid_t r, uid_t e, uid_t s) {
    uid_t a, b, c;
    getresuid(&a, &b, &c);
    return a == r && b == e && c == s;
}

static int gids_are(gid_t r, gid_t e, gid_t s) {
    gid_t a, b, c;
    getresgid(&a, &b, &c);
    return a == r && b == e && c == s;
}

int main(int argc, char** argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char* dir = argc > 1 ? argv[1] : "/tmp";
    if (getuid() != 0) {
        printf("FAIL: must start as root\n");
        return 1;
    }
    char path[256];
    snprintf(path, sizeof path, "%s/credentials-secret", dir);
    unlink(path);
    int fd = open(path, O_CREAT | O_WRONLY, 0600);
    close(fd);

    gid_t groups[] = {5, 7, 9};
    CHECK(setgroups(3, groups) == 0, "root sets three supplementary groups");
    gid_t got[8] = {0};
    CHECK(getgroups(0, NULL) == 3 && getgroups(8, got) == 3 && got[1] == 7,
          "getgroups returns them");
    CHECK(setgroups(0, NULL) == 0 && getgroups(0, NULL) == 0, "and clears them");

    CHECK(setresgid(100, 200, 300) == 0 && gids_are(100, 200, 300), "root sets any three gids");
    CHECK(setregid(300, -1) == 0 && gids_are(300, 200, 200),
          "setregid with a real gid moves the saved gid to the effective one");
    CHECK(setresuid(1000, 1001, 0) == 0 && ids_are(1000, 1001, 0),
          "setresuid drops privilege but keeps saved uid 0");
    CHECK(setfsuid(-1) == 1001, "fsuid follows the effective uid");
    errno = 0;
    CHECK(open(path, O_RDONLY) == -1 && errno == EACCES,
          "uid 1001 cannot open root's 0600 file (%s)", errno_name(errno));
    CHECK(setresuid(-1, 0, -1) == 0 && ids_are(1000, 0, 0), "the saved uid 0 comes back");
    fd = open(path, O_RDONLY);
    CHECK(fd >= 0, "as effective root the file opens");
    if (fd >= 0)
        close(fd);
    unlink(path);
    CHECK(setreuid(-1, 1000) == 0 && ids_are(1000, 1000, 0),
          "setreuid of the effective uid to the real one keeps the saved uid");
    errno = 0;
    CHECK(setresuid(2000, -1, -1) == -1 && errno == EPERM,
          "an unprivileged process cannot take a foreign uid (%s)", errno_name(errno));
    errno = 0;
    CHECK(setreuid(2000, -1) == -1 && errno == EPERM,
          "setreuid refuses a foreign real uid (%s)", errno_name(errno));
    CHECK(setuid(0) == 0 && ids_are(1000, 0, 0), "setuid to the saved uid changes only the effective one");
    CHECK(setreuid(1000, 1000) == 0 && ids_are(1000, 1000, 1000),
          "setreuid with a real uid sets the saved one too");
    errno = 0;
    CHECK(setuid(0) == -1 && errno == EPERM, "now root is gone for good (%s)", errno_name(errno));
    CHECK(setfsuid(0) == 1000 && setfsuid(-1) == 1000, "setfsuid to a foreign uid changes nothing");
    errno = 0;
    CHECK(setgroups(0, NULL) == -1 && errno == EPERM, "only root sets groups (%s)",
          errno_name(errno));
    return verdict_finish();
}
