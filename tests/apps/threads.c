/* Threads: a 64-thread mutex/condvar counter, thread-local storage in every
 * thread, join values and detached threads, thread ids, a signal sent to one
 * chosen thread (running program code, or waiting in the kernel) whose
 * handler runs on that thread, futex timeouts and errors, and a robust mutex
 * whose owner died. */
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "verdict.h"

/* <linux/futex.h>'s values (musl-gcc has no kernel headers). */
#define FUTEX_WAIT_PRIVATE 128
#define FUTEX_WAKE_PRIVATE 129
#define FUTEX_WAIT_BITSET_PRIVATE 137
#define FUTEX_CLOCK_REALTIME 256
#define FUTEX_BITSET_MATCH_ANY 0xffffffffu

#define THREADS 64
#define ROUNDS 2000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t all_started = PTHREAD_COND_INITIALIZER;
static int started;
static long counter;
static __thread long tls_index = -1;
static __thread char tls_buffer[64];

static pid_t current_tid(void) {
    return (pid_t)syscall(SYS_gettid);
}

static void* counting_thread(void* argument) {
    long index = (long)argument;
    tls_index = index;
    snprintf(tls_buffer, sizeof tls_buffer, "thread %ld", index);
    pthread_mutex_lock(&lock);
    started++;
    pthread_cond_broadcast(&all_started);
    while (started < THREADS)
        pthread_cond_wait(&all_started, &lock);
    pthread_mutex_unlock(&lock);
    for (int i = 0; i < ROUNDS; i++) {
        pthread_mutex_lock(&lock);
        counter++;
        pthread_mutex_unlock(&lock);
    }
    char expected[64];
    snprintf(expected, sizeof expected, "thread %ld", index);
    int tls_ok = tls_index == index && strcmp(tls_buffer, expected) == 0;
    return (void*)(intptr_t)(tls_ok ? index * 3 : -1);
}

static pthread_attr_t small_stack(void) {
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setstacksize(&attributes, 256 * 1024);
    return attributes;
}

static void check_counter_and_tls(void) {
    pthread_t threads[THREADS];
    pthread_attr_t attributes = small_stack();
    int created = 0;
    tls_index = 1000;
    for (long i = 0; i < THREADS; i++)
        created += pthread_create(&threads[i], &attributes, counting_thread, (void*)i) == 0;
    CHECK(created == THREADS, "%d threads start", THREADS);
    long sum = 0, expected = 0;
    for (long i = 0; i < created; i++) {
        void* result = NULL;
        pthread_join(threads[i], &result);
        sum += (long)(intptr_t)result;
        expected += i * 3;
    }
    CHECK(counter == (long)THREADS * ROUNDS, "a mutex keeps a %d-thread counter exact", THREADS);
    CHECK(sum == expected, "every thread saw its own TLS and returned its value through join");
    CHECK(tls_index == 1000, "the main thread's TLS is its own");
}

static sem_t detached_done;
static void* detached_thread(void* argument) {
    (void)argument;
    sem_post(&detached_done);
    return NULL;
}

static pid_t seen_tid;
static void* report_tid(void* argument) {
    (void)argument;
    seen_tid = current_tid();
    return NULL;
}

static void check_ids_and_detach(void) {
    CHECK(current_tid() == getpid(), "the main thread's tid is the pid");
    pthread_t thread;
    pthread_create(&thread, NULL, report_tid, NULL);
    pthread_join(thread, NULL);
    CHECK(seen_tid != getpid() && seen_tid > 0, "another thread has its own tid");
    sem_init(&detached_done, 0, 0);
    pthread_attr_t attributes = small_stack();
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    int ok = pthread_create(&thread, &attributes, detached_thread, NULL) == 0;
    CHECK(ok && sem_wait(&detached_done) == 0, "a detached thread runs");
    int all = 1;
    for (int i = 0; i < 200; i++) {
        if (pthread_create(&thread, &attributes, detached_thread, NULL) != 0 ||
            sem_wait(&detached_done) != 0)
            all = 0;
    }
    CHECK(all, "200 detached threads come and go");
}

static volatile pid_t handler_tid;
static volatile sig_atomic_t spin_stop;
static sem_t waiting_ready, waiting_wake;
static volatile pid_t spinner_tid, waiter_tid;

static void on_usr1(int signal) {
    (void)signal;
    handler_tid = current_tid();
    spin_stop = 1;
}

static void* spinning_thread(void* argument) {
    (void)argument;
    spinner_tid = current_tid();
    while (!spin_stop) {
    }
    return NULL;
}

static void* waiting_thread(void* argument) {
    (void)argument;
    waiter_tid = current_tid();
    sem_post(&waiting_ready);
    while (sem_wait(&waiting_wake) != 0) {
    }
    return NULL;
}

static void check_signal_to_thread(void) {
    struct sigaction action = {0};
    action.sa_handler = on_usr1;
    sigaction(SIGUSR1, &action, NULL);

    pthread_t spinner;
    pthread_create(&spinner, NULL, spinning_thread, NULL);
    while (spinner_tid == 0)
        sched_yield();
    pthread_kill(spinner, SIGUSR1);
    pthread_join(spinner, NULL);
    CHECK(handler_tid == spinner_tid, "pthread_kill runs the handler on a thread in program code");

    sem_init(&waiting_ready, 0, 0);
    sem_init(&waiting_wake, 0, 0);
    handler_tid = 0;
    pthread_t waiter;
    pthread_create(&waiter, NULL, waiting_thread, NULL);
    sem_wait(&waiting_ready);
    struct timespec pause = {0, 20 * 1000 * 1000};
    nanosleep(&pause, NULL);  // let it reach its futex wait
    pthread_kill(waiter, SIGUSR1);
    for (int i = 0; i < 500 && handler_tid == 0; i++)
        nanosleep(&pause, NULL);
    CHECK(handler_tid == waiter_tid, "pthread_kill runs the handler on a thread waiting in futex");
    sem_post(&waiting_wake);
    pthread_join(waiter, NULL);
}

static volatile int sleep_result, sleep_errno, sleep_finished;
static volatile long sleep_left_ms;
static volatile pid_t sleeper_tid;
static void* sleeping_thread(void* argument) {
    (void)argument;
    sleeper_tid = current_tid();
    struct timespec request = {5, 0}, left = {0, 0};
    sleep_result = nanosleep(&request, &left);
    sleep_errno = errno;
    sleep_finished = 1;
    sleep_left_ms = left.tv_sec * 1000 + left.tv_nsec / 1000000;
    return NULL;
}

static void check_signal_ends_sleep(void) {
    handler_tid = 0;
    pthread_t sleeper;
    pthread_create(&sleeper, NULL, sleeping_thread, NULL);
    /* A signal that comes before the sleep starts only runs the handler:
     * send again until the sleep has ended. */
    struct timespec pause = {0, 50 * 1000 * 1000};
    while (!sleep_finished) {
        nanosleep(&pause, NULL);
        if (!sleep_finished)
            pthread_kill(sleeper, SIGUSR1);
    }
    pthread_join(sleeper, NULL);
    CHECK(handler_tid == sleeper_tid, "the handler runs on the sleeping thread");
    CHECK(sleep_result == -1 && sleep_errno == EINTR, "its nanosleep fails with EINTR (%s)",
          errno_name(sleep_errno));
    CHECK(sleep_left_ms > 3000 && sleep_left_ms <= 5000, "and reports the time left");
}

static long futex(uint32_t* word, int operation, uint32_t value, const struct timespec* timeout,
                  uint32_t value3) {
    return syscall(SYS_futex, word, operation, value, timeout, NULL, value3);
}

static void check_futex(void) {
    uint32_t word = 0;
    struct timespec short_wait = {0, 20 * 1000 * 1000};
    errno = 0;
    long result = futex(&word, FUTEX_WAIT_PRIVATE, 0, &short_wait, 0);
    CHECK(result == -1 && errno == ETIMEDOUT, "FUTEX_WAIT times out (%s)", errno_name(errno));
    errno = 0;
    result = futex(&word, FUTEX_WAIT_PRIVATE, 1, NULL, 0);
    CHECK(result == -1 && errno == EAGAIN, "FUTEX_WAIT on a changed word fails with EAGAIN (%s)",
          errno_name(errno));
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    now.tv_nsec += 10 * 1000 * 1000;
    if (now.tv_nsec >= 1000000000) {
        now.tv_sec++;
        now.tv_nsec -= 1000000000;
    }
    errno = 0;
    result = futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 0, &now, FUTEX_BITSET_MATCH_ANY);
    CHECK(result == -1 && errno == ETIMEDOUT,
          "FUTEX_WAIT_BITSET with an absolute monotonic time times out (%s)", errno_name(errno));
    clock_gettime(CLOCK_REALTIME, &now);
    now.tv_sec -= 1;
    errno = 0;
    result = futex(&word, FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME, 0, &now,
                   FUTEX_BITSET_MATCH_ANY);
    CHECK(result == -1 && errno == ETIMEDOUT, "a realtime deadline in the past times out (%s)",
          errno_name(errno));
    CHECK(futex(&word, FUTEX_WAKE_PRIVATE, 1, NULL, 0) == 0, "FUTEX_WAKE with no waiter wakes 0");
    errno = 0;
    result = syscall(SYS_futex, (uint32_t*)((char*)&word + 1), FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    CHECK(result == -1 && errno == EINVAL, "an unaligned futex is EINVAL (%s)", errno_name(errno));
}

static pthread_mutex_t robust;
static void* die_holding_lock(void* argument) {
    (void)argument;
    pthread_mutex_lock(&robust);
    return NULL;  // ends without unlocking
}

static void check_robust_mutex(void) {
    pthread_mutexattr_t attributes;
    pthread_mutexattr_init(&attributes);
    pthread_mutexattr_setrobust(&attributes, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(&robust, &attributes);
    pthread_t thread;
    pthread_create(&thread, NULL, die_holding_lock, NULL);
    pthread_join(thread, NULL);
    int result = pthread_mutex_lock(&robust);
    CHECK(result == EOWNERDEAD, "locking a robust mutex whose owner died gives EOWNERDEAD (%s)",
          errno_name(result));
    CHECK(pthread_mutex_consistent(&robust) == 0, "pthread_mutex_consistent repairs it");
    CHECK(pthread_mutex_unlock(&robust) == 0 && pthread_mutex_lock(&robust) == 0,
          "the repaired mutex locks again");
    pthread_mutex_unlock(&robust);
}

static void check_scheduling(void) {
    struct sched_param param;
    param.sched_priority = 5;
    /* Raw calls: musl's wrappers answer ENOSYS without asking the kernel. */
    CHECK(syscall(SYS_sched_getscheduler, 0) == SCHED_OTHER, "threads run under SCHED_OTHER");
    CHECK(syscall(SYS_sched_getparam, 0, &param) == 0 && param.sched_priority == 0,
          "at priority 0");
    CHECK(sched_get_priority_max(SCHED_FIFO) == 99 && sched_get_priority_min(SCHED_OTHER) == 0,
          "the priority ranges are Linux's");
    enum { query = 0, private_expedited = 1 << 3, register_private_expedited = 1 << 4 };
    long commands = syscall(SYS_membarrier, query, 0, 0);
    CHECK(commands > 0 && (commands & private_expedited), "membarrier offers PRIVATE_EXPEDITED");
    CHECK(syscall(SYS_membarrier, register_private_expedited, 0, 0) == 0 &&
              syscall(SYS_membarrier, private_expedited, 0, 0) == 0,
          "registered, it runs");
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    check_counter_and_tls();
    check_ids_and_detach();
    check_signal_to_thread();
    check_signal_ends_sleep();
    check_futex();
    check_robust_mutex();
    check_scheduling();
    return verdict_finish();
}
