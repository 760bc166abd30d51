/* System V semaphores and message queues: semget/semop/semtimedop/semctl
 * and msgget/msgsnd/msgrcv/msgctl, their error paths, waits that another
 * thread or a forked child ends (a wake, IPC_RMID's EIDRM, a signal's
 * EINTR), SEM_UNDO at exit and the IPC_INFO limits. Ids, pids and times
 * differ between runs: only comparisons of them are printed. */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "verdict.h"

#ifndef CLONE_SYSVSEM
#define CLONE_SYSVSEM 0x00040000
#endif

#ifndef MSG_COPY
#define MSG_COPY 040000
#endif

/* Keys nothing else on the machine uses, not even another run of this
 * program at the same time (natively the runs share the host's IPC). */
#define SEM_KEY ((key_t)(0x4d000000 | (getpid() & 0xffff) << 4 | 1))
#define MSG_KEY ((key_t)(0x4d000000 | (getpid() & 0xffff) << 4 | 2))

union semun {
    int val;
    struct semid_ds* buf;
    unsigned short* array;
    struct seminfo* info;
};

static const char* ipc_errno_name(int code) {
    switch (code) {
        case EIDRM:
            return "EIDRM";
        case ENOMSG:
            return "ENOMSG";
        case E2BIG:
            return "E2BIG";
        case EFBIG:
            return "EFBIG";
        case ERANGE:
            return "ERANGE";
        default:
            return errno_name(code);
    }
}

static void expect_ipc_errno(long result, int expected, const char* what) {
    int got = result == -1 ? errno : 0;
    if (result == -1 && got == expected)
        verdict(1, "%s fails with %s", what, ipc_errno_name(expected));
    else
        verdict(0, "%s fails with %s (got result %s, errno %s)", what, ipc_errno_name(expected),
                result == -1 ? "-1" : "success", ipc_errno_name(got));
}

static void sleep_ms(long ms) {
    struct timespec pause = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&pause, NULL);
}

static void on_signal(int signal) {
    (void)signal;
}

static int semval(int id, int index) {
    return semctl(id, index, GETVAL);
}

/* A thread's semop or msgrcv, with its result and errno. */
struct waiter {
    int id;
    struct sembuf op;
    long result;
    int error;
    long type;
    char text[32];
};

/* A thread's result, with errno set to what the thread saw. */
#define THREAD_ERRNO(w) (errno = (w).error, (w).result)

static void* semop_thread(void* argument) {
    struct waiter* w = argument;
    w->result = semop(w->id, &w->op, 1);
    w->error = errno;
    return NULL;
}

static void* msgrcv_thread(void* argument) {
    struct waiter* w = argument;
    struct {
        long type;
        char text[32];
    } message;
    w->result = msgrcv(w->id, &message, sizeof message.text, 0, 0);
    w->error = errno;
    if (w->result >= 0) {
        w->type = message.type;
        memcpy(w->text, message.text, sizeof w->text);
    }
    return NULL;
}

static void* msgsnd_thread(void* argument) {
    struct waiter* w = argument;
    struct {
        long type;
        char text[32];
    } message = {7, "late"};
    w->result = msgsnd(w->id, &message, 5, 0);
    w->error = errno;
    return NULL;
}

static void remove_key(int semaphores, key_t key) {
    int id = semaphores ? semget(key, 0, 0) : msgget(key, 0);
    if (id >= 0) {
        if (semaphores)
            semctl(id, 0, IPC_RMID);
        else
            msgctl(id, IPC_RMID, NULL);
    }
}

static void semaphore_basics(void) {
    expect_ipc_errno(semget(IPC_PRIVATE, 0, 0600), EINVAL, "semget with nsems 0");
    expect_ipc_errno(semget(IPC_PRIVATE, 32001, 0600), EINVAL, "semget past SEMMSL");
    expect_ipc_errno(semget(IPC_PRIVATE, -1, 0600), EINVAL, "semget with nsems -1");
    remove_key(1, SEM_KEY);
    expect_ipc_errno(semget(SEM_KEY, 2, 0600), ENOENT, "semget of a missing key");
    int id = semget(SEM_KEY, 2, IPC_CREAT | IPC_EXCL | 0600);
    CHECK(id >= 0, "semget IPC_CREAT|IPC_EXCL makes a set");
    expect_ipc_errno(semget(SEM_KEY, 2, IPC_CREAT | IPC_EXCL | 0600), EEXIST,
                     "semget IPC_EXCL of an existing key");
    expect_ipc_errno(semget(SEM_KEY, 3, 0), EINVAL, "semget asking more semaphores");
    CHECK(semget(SEM_KEY, 2, 0) == id, "semget finds the set by key");
    CHECK(semget(SEM_KEY, 0, IPC_CREAT) == id, "semget IPC_CREAT of an existing key");

    struct semid_ds status;
    CHECK(semctl(id, 0, IPC_STAT, (union semun){.buf = &status}) == 0, "semctl IPC_STAT");
    CHECK(status.sem_nsems == 2 && (status.sem_perm.mode & 0777) == 0600 &&
              status.sem_perm.__key == SEM_KEY && status.sem_otime == 0 && status.sem_ctime != 0,
          "IPC_STAT shows nsems, mode, key, no otime and a ctime");
    CHECK(status.sem_perm.uid == geteuid() && status.sem_perm.cuid == geteuid(),
          "IPC_STAT shows the caller as owner and creator");
    CHECK(semval(id, 0) == 0 && semval(id, 1) == 0, "new semaphores are 0");
    CHECK(semctl(id, 0, SETVAL, (union semun){.val = 5}) == 0 && semval(id, 0) == 5,
          "SETVAL then GETVAL");
    CHECK(semctl(id, 0, GETPID) == getpid(), "GETPID names the last process");
    expect_ipc_errno(semctl(id, 0, SETVAL, (union semun){.val = 32768}), ERANGE,
                     "SETVAL past SEMVMX");
    expect_ipc_errno(semctl(id, 0, SETVAL, (union semun){.val = -1}), ERANGE, "SETVAL -1");
    expect_ipc_errno(semctl(id, 2, GETVAL), EINVAL, "GETVAL past the set");
    expect_ipc_errno(semctl(id, 0, 999), EINVAL, "semctl with an unknown command");
    expect_ipc_errno(semctl(id + 1, 0, GETVAL), EINVAL, "semctl of an unknown id");
    unsigned short values[2] = {1, 2};
    CHECK(semctl(id, 0, SETALL, (union semun){.array = values}) == 0, "SETALL");
    values[0] = values[1] = 0;
    CHECK(semctl(id, 0, GETALL, (union semun){.array = values}) == 0 && values[0] == 1 &&
              values[1] == 2,
          "GETALL returns what SETALL set");
    values[1] = 40000;
    expect_ipc_errno(semctl(id, 0, SETALL, (union semun){.array = values}), ERANGE,
                     "SETALL past SEMVMX");

    struct sembuf ops[501];
    memset(ops, 0, sizeof ops);
    expect_ipc_errno(semop(id, ops, 0), EINVAL, "semop with no operations");
    expect_ipc_errno(semop(id, ops, 501), E2BIG, "semop past SEMOPM");
    ops[0] = (struct sembuf){2, 1, 0};
    expect_ipc_errno(semop(id, ops, 1), EFBIG, "semop past the set");
    ops[0] = (struct sembuf){0, -5, IPC_NOWAIT};
    expect_ipc_errno(semop(id, ops, 1), EAGAIN, "semop that would block with IPC_NOWAIT");
    ops[0] = (struct sembuf){0, 32767, 0};
    expect_ipc_errno(semop(id, ops, 1), ERANGE, "semop past SEMVMX");
    ops[0] = (struct sembuf){0, 1, 0};
    ops[1] = (struct sembuf){1, -5, IPC_NOWAIT};
    expect_ipc_errno(semop(id, ops, 2), EAGAIN, "a blocked array of operations");
    CHECK(semval(id, 0) == 1, "nothing of a blocked array is done");
    ops[0] = (struct sembuf){0, -1, 0};
    ops[1] = (struct sembuf){1, 1, 0};
    CHECK(semop(id, ops, 2) == 0 && semval(id, 0) == 0 && semval(id, 1) == 3,
          "an array of operations is done at once");
    ops[0] = (struct sembuf){0, 0, 0};
    CHECK(semop(id, ops, 1) == 0, "waiting for zero on a zero semaphore returns");
    CHECK(semctl(id, 0, IPC_STAT, (union semun){.buf = &status}) == 0 && status.sem_otime != 0,
          "semop sets sem_otime");

    struct timespec timeout = {0, 50000000};
    ops[0] = (struct sembuf){0, -1, 0};
    expect_ipc_errno(semtimedop(id, ops, 1, &timeout), EAGAIN, "semtimedop timing out");
    timeout.tv_nsec = 1000000000;
    expect_ipc_errno(semtimedop(id, ops, 1, &timeout), EINVAL, "semtimedop with a bad timeout");

    struct seminfo info;
    expect_ipc_errno(semctl(-1, 0, IPC_INFO, (union semun){.info = &info}), EINVAL,
                     "IPC_INFO with a negative id");
    int max_index = semctl(0, 0, IPC_INFO, (union semun){.info = &info});
    CHECK(max_index >= 0 && info.semmsl == 32000 && info.semopm == 500 && info.semvmx == 32767 &&
              info.semmni == 32000,
          "IPC_INFO gives SEMMSL, SEMOPM, SEMVMX and SEMMNI");
    max_index = semctl(0, 0, SEM_INFO, (union semun){.info = &info});
    CHECK(max_index >= 0 && info.semusz >= 1 && info.semaem >= 2, "SEM_INFO counts the sets");
    int found = 0;
    for (int index = 0; index <= max_index; index++)
        if (semctl(index, 0, SEM_STAT, (union semun){.buf = &status}) == id)
            found = 1;
    CHECK(found, "SEM_STAT over the indexes finds the set");

    status.sem_perm.mode = 0640;
    CHECK(semctl(id, 0, IPC_SET, (union semun){.buf = &status}) == 0, "IPC_SET");
    CHECK(semctl(id, 0, IPC_STAT, (union semun){.buf = &status}) == 0 &&
              (status.sem_perm.mode & 0777) == 0640,
          "IPC_SET changes the mode");
    CHECK(semctl(id, 0, IPC_RMID) == 0, "IPC_RMID");
    expect_ipc_errno(semctl(id, 0, GETVAL), EINVAL, "GETVAL of a removed set");
    expect_ipc_errno(semop(id, ops, 1), EINVAL, "semop on a removed set");
}

static void semaphore_waits(void) {
    int id = semget(IPC_PRIVATE, 1, 0600);
    pthread_t thread;
    struct waiter w = {.id = id, .op = {0, -1, 0}};
    pthread_create(&thread, NULL, semop_thread, &w);
    sleep_ms(100);
    CHECK(semctl(id, 0, GETNCNT) == 1, "GETNCNT counts the waiter");
    struct sembuf post = {0, 1, 0};
    CHECK(semop(id, &post, 1) == 0, "posting the semaphore");
    pthread_join(thread, NULL);
    CHECK(w.result == 0 && semval(id, 0) == 0, "the post wakes the waiting thread");
    CHECK(semctl(id, 0, GETNCNT) == 0, "GETNCNT is 0 again");

    semctl(id, 0, SETVAL, (union semun){.val = 1});
    w = (struct waiter){.id = id, .op = {0, 0, 0}};
    pthread_create(&thread, NULL, semop_thread, &w);
    sleep_ms(100);
    CHECK(semctl(id, 0, GETZCNT) == 1, "GETZCNT counts the zero waiter");
    struct sembuf take = {0, -1, 0};
    semop(id, &take, 1);
    pthread_join(thread, NULL);
    CHECK(w.result == 0, "reaching zero wakes the zero waiter");

    w = (struct waiter){.id = id, .op = {0, -1, 0}};
    pthread_create(&thread, NULL, semop_thread, &w);
    sleep_ms(100);
    semctl(id, 0, IPC_RMID);
    pthread_join(thread, NULL);
    expect_ipc_errno(THREAD_ERRNO(w), EIDRM, "semop while the set is removed");

    id = semget(IPC_PRIVATE, 1, 0600);
    struct sigaction action = {.sa_handler = on_signal, .sa_flags = SA_RESTART};
    sigaction(SIGUSR1, &action, NULL);
    w = (struct waiter){.id = id, .op = {0, -1, 0}};
    pthread_create(&thread, NULL, semop_thread, &w);
    sleep_ms(100);
    pthread_kill(thread, SIGUSR1);
    pthread_join(thread, NULL);
    expect_ipc_errno(THREAD_ERRNO(w), EINTR, "semop interrupted by a signal, even with SA_RESTART");
    semctl(id, 0, IPC_RMID);
}

static void semaphore_processes(void) {
    int id = semget(IPC_PRIVATE, 1, 0600);
    semctl(id, 0, SETVAL, (union semun){.val = 3});
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        struct sembuf ops[2] = {{0, 2, SEM_UNDO}, {0, -1, SEM_UNDO}};
        _exit(semop(id, ops, 2) == 0 && semval(id, 0) == 4 ? 0 : 1);
    }
    int status = 0;
    waitpid(child, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child's SEM_UNDO semop");
    CHECK(semval(id, 0) == 3, "SEM_UNDO is undone when the child exits");
    CHECK(semctl(id, 0, GETPID) == child, "the undo records the child's pid");

    /* unshare(CLONE_SYSVSEM) drops the last reference to the undo list:
     * its adjustments are applied then, and not again at exit. */
    fflush(stdout);
    child = fork();
    if (child == 0) {
        struct sembuf up = {0, 2, SEM_UNDO};
        int applied = semop(id, &up, 1) == 0 && semval(id, 0) == 5 &&
                      syscall(SYS_unshare, CLONE_SYSVSEM) == 0 && semval(id, 0) == 3;
        struct sembuf again = {0, 1, 0};
        _exit(applied && semop(id, &again, 1) == 0 ? 0 : 1);
    }
    waitpid(child, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "unshare(CLONE_SYSVSEM) applies the undo");
    CHECK(semval(id, 0) == 4, "an applied undo list is not applied again at exit");

    /* A post from a forked child is there for the parent once it runs
     * (the checks hold also under ForkMode pseudo_wait_for_exit_exec,
     * where the parent waits in fork until the child exits). */
    semctl(id, 0, SETVAL, (union semun){.val = 0});
    fflush(stdout);
    child = fork();
    if (child == 0) {
        struct sembuf post = {0, 1, 0};
        _exit(semop(id, &post, 1) == 0 ? 0 : 1);
    }
    waitpid(child, &status, 0);
    struct sembuf take = {0, -1, 0};
    struct timespec limit = {5, 0};
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0 && semtimedop(id, &take, 1, &limit) == 0,
          "the parent takes the child's post");
    CHECK(semval(id, 0) == 0, "the post is used up");

    /* Permissions: another user is refused, then the owner changes them. */
    fflush(stdout);
    child = fork();
    if (child == 0) {
        if (setresuid(65534, 65534, 65534) != 0)
            _exit(2);
        struct sembuf take = {0, -1, IPC_NOWAIT};
        int ok = semop(id, &take, 1) == -1 && errno == EACCES;
        ok &= semctl(id, 0, GETVAL) == -1 && errno == EACCES;
        ok &= semctl(id, 0, IPC_RMID) == -1 && errno == EPERM;
        _exit(ok ? 0 : 1);
    }
    waitpid(child, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "another user gets EACCES for semop and GETVAL, EPERM for IPC_RMID");
    semctl(id, 0, IPC_RMID);
}

struct message {
    long type;
    char text[64];
};

static int send_text(int id, long type, const char* text, int flags) {
    struct message message = {.type = type};
    strcpy(message.text, text);
    return msgsnd(id, &message, strlen(text) + 1, flags);
}

static void message_basics(void) {
    remove_key(0, MSG_KEY);
    expect_ipc_errno(msgget(MSG_KEY, 0600), ENOENT, "msgget of a missing key");
    int id = msgget(MSG_KEY, IPC_CREAT | IPC_EXCL | 0600);
    CHECK(id >= 0, "msgget IPC_CREAT|IPC_EXCL makes a queue");
    expect_ipc_errno(msgget(MSG_KEY, IPC_CREAT | IPC_EXCL), EEXIST,
                     "msgget IPC_EXCL of an existing key");
    CHECK(msgget(MSG_KEY, 0) == id, "msgget finds the queue by key");

    struct message message = {.type = 0};
    expect_ipc_errno(msgsnd(id, &message, 4, 0), EINVAL, "msgsnd with mtype 0");
    message.type = 1;
    expect_ipc_errno(msgsnd(id, &message, 8193, 0), EINVAL, "msgsnd past MSGMAX");
    expect_ipc_errno(msgsnd(id + 1, &message, 4, 0), EINVAL, "msgsnd to an unknown id");

    struct msqid_ds status;
    CHECK(msgctl(id, IPC_STAT, &status) == 0 && status.msg_qnum == 0 &&
              status.msg_qbytes == 16384 && status.msg_stime == 0 && status.msg_ctime != 0,
          "IPC_STAT of a new queue");
    CHECK(send_text(id, 3, "three", 0) == 0 && send_text(id, 1, "one", 0) == 0 &&
              send_text(id, 2, "two", 0) == 0 && send_text(id, 1, "uno", 0) == 0,
          "msgsnd of four messages");
    CHECK(msgctl(id, IPC_STAT, &status) == 0 && status.msg_qnum == 4 &&
              status.__msg_cbytes == 6 + 4 + 4 + 4 && status.msg_lspid == getpid() &&
              status.msg_stime != 0 && status.msg_rtime == 0,
          "IPC_STAT counts messages and bytes, sets msg_lspid and msg_stime");

    long got = msgrcv(id, &message, sizeof message.text, 2, IPC_NOWAIT);
    CHECK(got == 4 && message.type == 2 && strcmp(message.text, "two") == 0,
          "msgrcv of a given type");
    got = msgrcv(id, &message, sizeof message.text, 1, MSG_EXCEPT | IPC_NOWAIT);
    CHECK(got == 6 && message.type == 3, "msgrcv MSG_EXCEPT skips the type");
    send_text(id, 3, "three", 0);
    got = msgrcv(id, &message, sizeof message.text, -3, IPC_NOWAIT);
    CHECK(got == 4 && message.type == 1 && strcmp(message.text, "one") == 0,
          "msgrcv with msgtyp < 0 takes the lowest type first");
    expect_ipc_errno(msgrcv(id, &message, 2, 0, IPC_NOWAIT), E2BIG, "msgrcv of a longer message");
    got = msgrcv(id, &message, sizeof message.text, 0, MSG_COPY | IPC_NOWAIT);
    CHECK(got == 4 && strcmp(message.text, "uno") == 0, "MSG_COPY copies message 0");
    got = msgrcv(id, &message, sizeof message.text, 1, MSG_COPY | IPC_NOWAIT);
    CHECK(got == 6 && strcmp(message.text, "three") == 0, "MSG_COPY copies message 1");
    expect_ipc_errno(msgrcv(id, &message, sizeof message.text, 2, MSG_COPY | IPC_NOWAIT), ENOMSG,
                     "MSG_COPY past the last message");
    expect_ipc_errno(msgrcv(id, &message, sizeof message.text, 0, MSG_COPY), EINVAL,
                     "MSG_COPY without IPC_NOWAIT");
    CHECK(msgctl(id, IPC_STAT, &status) == 0 && status.msg_qnum == 2, "MSG_COPY leaves the queue");
    memset(message.text, 0, sizeof message.text);
    got = msgrcv(id, &message, 2, 0, MSG_NOERROR | IPC_NOWAIT);
    CHECK(got == 2 && memcmp(message.text, "un", 2) == 0 && message.text[2] == 0,
          "MSG_NOERROR truncates");
    expect_ipc_errno(msgrcv(id, &message, sizeof message.text, 9, IPC_NOWAIT), ENOMSG,
                     "msgrcv of a type not queued");
    CHECK(msgctl(id, IPC_STAT, &status) == 0 && status.msg_qnum == 1 &&
              status.msg_lrpid == getpid() && status.msg_rtime != 0,
          "msgrcv sets msg_lrpid and msg_rtime");
    msgrcv(id, &message, sizeof message.text, 0, IPC_NOWAIT);

    status.msg_qbytes = 100;
    CHECK(msgctl(id, IPC_SET, &status) == 0, "IPC_SET of msg_qbytes");
    CHECK(send_text(id, 1, "0123456789012345678901234567890123456789012345678", 0) == 0,
          "a 50-byte message fits");
    CHECK(send_text(id, 1, "0123456789012345678901234567890123456789012345678", 0) == 0,
          "a second one fills msg_qbytes");
    expect_ipc_errno(send_text(id, 1, "x", IPC_NOWAIT), EAGAIN,
                     "msgsnd to a full queue with IPC_NOWAIT");

    struct msginfo info;
    expect_ipc_errno(msgctl(-1, IPC_INFO, (struct msqid_ds*)&info), EINVAL,
                     "msgctl IPC_INFO with a negative id");
    int max_index = msgctl(0, IPC_INFO, (struct msqid_ds*)&info);
    CHECK(max_index >= 0 && info.msgmax == 8192 && info.msgmnb == 16384 && info.msgmni == 32000,
          "IPC_INFO gives MSGMAX, MSGMNB and MSGMNI");
    max_index = msgctl(0, MSG_INFO, (struct msqid_ds*)&info);
    CHECK(max_index >= 0 && info.msgpool >= 1 && info.msgmap >= 2 && info.msgtql >= 100,
          "MSG_INFO counts queues, messages and bytes");
    int found = 0;
    for (int index = 0; index <= max_index; index++)
        if (msgctl(index, MSG_STAT, &status) == id)
            found = 1;
    CHECK(found, "MSG_STAT over the indexes finds the queue");
    expect_ipc_errno(msgctl(id, 999, &status), EINVAL, "msgctl with an unknown command");
    CHECK(msgctl(id, IPC_RMID, NULL) == 0, "IPC_RMID of a queue with messages");
    expect_ipc_errno(msgctl(id, IPC_STAT, &status), EINVAL, "IPC_STAT of a removed queue");
}

static void message_waits(void) {
    int id = msgget(IPC_PRIVATE, 0600);
    pthread_t thread;
    struct waiter w = {.id = id};
    pthread_create(&thread, NULL, msgrcv_thread, &w);
    sleep_ms(100);
    send_text(id, 5, "wake", 0);
    pthread_join(thread, NULL);
    CHECK(w.result == 5 && w.type == 5 && strcmp(w.text, "wake") == 0,
          "a message wakes the receiving thread");

    struct msqid_ds status;
    msgctl(id, IPC_STAT, &status);
    status.msg_qbytes = 10;
    msgctl(id, IPC_SET, &status);
    send_text(id, 1, "012345678", 0);
    w = (struct waiter){.id = id};
    pthread_create(&thread, NULL, msgsnd_thread, &w);
    sleep_ms(100);
    CHECK(msgctl(id, IPC_STAT, &status) == 0 && status.msg_qnum == 1,
          "the sender waits while the queue is full");
    struct message message;
    msgrcv(id, &message, sizeof message.text, 0, 0);
    pthread_join(thread, NULL);
    CHECK(w.result == 0, "a receive makes room for the waiting sender");
    CHECK(msgrcv(id, &message, sizeof message.text, 7, IPC_NOWAIT) == 5, "its message arrived");

    w = (struct waiter){.id = id};
    pthread_create(&thread, NULL, msgrcv_thread, &w);
    sleep_ms(100);
    pthread_kill(thread, SIGUSR1);
    pthread_join(thread, NULL);
    expect_ipc_errno(THREAD_ERRNO(w), EINTR, "msgrcv interrupted by a signal");

    w = (struct waiter){.id = id};
    pthread_create(&thread, NULL, msgrcv_thread, &w);
    sleep_ms(100);
    msgctl(id, IPC_RMID, NULL);
    pthread_join(thread, NULL);
    expect_ipc_errno(THREAD_ERRNO(w), EIDRM, "msgrcv while the queue is removed");

    /* A forked child's message, received by its parent. */
    id = msgget(IPC_PRIVATE, 0600);
    fflush(stdout);
    pid_t child = fork();
    if (child == 0)
        _exit(send_text(id, 9, "child", 0) == 0 ? 0 : 1);
    int exit_status = 0;
    waitpid(child, &exit_status, 0);
    CHECK(
        msgrcv(id, &message, sizeof message.text, 9, 0) == 6 && strcmp(message.text, "child") == 0,
        "the parent receives the child's message");
    CHECK(msgctl(id, IPC_STAT, &status) == 0 && status.msg_lspid == child,
          "msg_lspid names the child");
    msgctl(id, IPC_RMID, NULL);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    semaphore_basics();
    semaphore_waits();
    semaphore_processes();
    message_basics();
    message_waits();
    return verdict_finish();
}
