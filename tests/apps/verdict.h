/* Verdict helpers shared by the test programs. Each check prints one line,
 * "PASS: <what>" or "FAIL: <what> (...)", and the program exits 0 only when
 * every check passed. Nothing printed may depend on pids, addresses, times or
 * host paths: the output of a native run and of a run under myst must be equal
 * byte for byte. */
#ifndef MYST_TEST_APPS_VERDICT_H
#define MYST_TEST_APPS_VERDICT_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int verdict_failures;

static inline void verdict(int ok, const char* format, ...) __attribute__((format(printf, 2, 3)));
static inline void verdict(int ok, const char* format, ...) {
    va_list args;
    va_start(args, format);
    fputs(ok ? "PASS: " : "FAIL: ", stdout);
    vprintf(format, args);
    fputc('\n', stdout);
    va_end(args);
    if (!ok)
        verdict_failures++;
}

#define CHECK(cond, ...) verdict((cond) != 0, __VA_ARGS__)

/* A call that must fail with -1 and one errno. On a mismatch the line names
 * the errno that came instead (symbolic, so native and myst runs compare). */
static inline const char* errno_name(int code) {
#define ERRNO_ENTRY(name) \
    { name, #name }
    static const struct {
        int code;
        const char* name;
    } names[] = {
        {0, "success"},      ERRNO_ENTRY(EPERM),     ERRNO_ENTRY(ENOENT),       ERRNO_ENTRY(EBADF),
        ERRNO_ENTRY(EACCES), ERRNO_ENTRY(EEXIST),    ERRNO_ENTRY(ENOTDIR),      ERRNO_ENTRY(EISDIR),
        ERRNO_ENTRY(EINVAL), ERRNO_ENTRY(ENOTEMPTY), ERRNO_ENTRY(ENOSYS),       ERRNO_ENTRY(ENOMEM),
        ERRNO_ENTRY(EFAULT), ERRNO_ENTRY(ESPIPE),    ERRNO_ENTRY(ENAMETOOLONG), ERRNO_ENTRY(ELOOP),
        ERRNO_ENTRY(EXDEV),  ERRNO_ENTRY(EAGAIN),    ERRNO_ENTRY(ENODEV),       ERRNO_ENTRY(EROFS),
        ERRNO_ENTRY(EBUSY),  ERRNO_ENTRY(ENOKEY),    ERRNO_ENTRY(EKEYREJECTED), ERRNO_ENTRY(EMFILE),
        ERRNO_ENTRY(EPIPE),  ERRNO_ENTRY(EOVERFLOW), ERRNO_ENTRY(EINTR),        ERRNO_ENTRY(ENXIO),
        ERRNO_ENTRY(ENFILE), ERRNO_ENTRY(E2BIG),     ERRNO_ENTRY(ENOSPC),
    };
#undef ERRNO_ENTRY
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].code == code)
            return names[i].name;
    return "other";
}

static inline void expect_errno(long result, int expected, const char* what) {
    int got = result == -1 ? errno : 0;
    if (result == -1 && got == expected)
        verdict(1, "%s fails with %s", what, errno_name(expected));
    else
        verdict(0, "%s fails with %s (got result %s, errno %s)", what, errno_name(expected),
                result == -1 ? "-1" : "success", errno_name(got));
}

static inline int verdict_finish(void) {
    fflush(stdout);
    return verdict_failures == 0 ? 0 : 1;
}

#endif
