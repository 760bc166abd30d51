/* Timers that send signals: alarm (and what it returns), setitimer/getitimer
 * periodic ITIMER_REAL, timer_create with SIGEV_SIGNAL and SIGEV_THREAD_ID,
 * absolute and relative timer_settime, timer_gettime, timer_delete, and
 * SIGEV_THREAD through glibc/musl's helper thread. */
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "verdict.h"

static volatile sig_atomic_t alarms, timer_signals, timer_value;
static volatile pid_t handler_tid;

static void on_alarm(int signal) {
    (void)signal;
    alarms++;
}

static void on_timer(int signal, siginfo_t* info, void* context) {
    (void)signal;
    (void)context;
    /* The count last: the main thread reads the rest once it moves. */
    handler_tid = (pid_t)syscall(SYS_gettid);
    timer_value = info->si_value.sival_int;
    __atomic_fetch_add(&timer_signals, 1, __ATOMIC_SEQ_CST);
}

static void sleep_ms(long ms) {
    struct timespec left = {ms / 1000, (ms % 1000) * 1000000};
    while (nanosleep(&left, &left) != 0) {
    }
}

static void check_alarm(void) {
    signal(SIGALRM, on_alarm);
    CHECK(alarm(10) == 0, "a first alarm returns 0");
    unsigned left = alarm(0);
    CHECK(left >= 9 && left <= 10, "alarm(0) returns the seconds left and cancels");
    alarm(1);
    pause();
    CHECK(alarms == 1, "an alarm interrupts pause with SIGALRM");
}

static void check_itimer(void) {
    alarms = 0;
    struct itimerval every = {{0, 20000}, {0, 20000}};
    CHECK(setitimer(ITIMER_REAL, &every, NULL) == 0, "setitimer arms a 20 ms periodic timer");
    struct itimerval now;
    getitimer(ITIMER_REAL, &now);
    CHECK(now.it_interval.tv_usec == 20000 && now.it_value.tv_usec <= 20000,
          "getitimer shows the interval and the time left");
    while (alarms < 3)
        pause();
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, &now);
    CHECK(alarms >= 3 && now.it_interval.tv_usec == 20000, "it fires again and again");
    errno = 0;
    CHECK(setitimer(99, &off, NULL) == -1 && errno == EINVAL, "an unknown timer is EINVAL (%s)",
          errno_name(errno));
}

static void check_posix_timer(void) {
    struct sigaction action = {0};
    action.sa_sigaction = on_timer;
    action.sa_flags = SA_SIGINFO;
    sigaction(SIGRTMIN, &action, NULL);
    struct sigevent event = {0};
    event.sigev_notify = SIGEV_SIGNAL;
    event.sigev_signo = SIGRTMIN;
    event.sigev_value.sival_int = 77;
    timer_t timer;
    CHECK(timer_create(CLOCK_MONOTONIC, &event, &timer) == 0, "timer_create");
    struct itimerspec once = {{0, 0}, {0, 30 * 1000 * 1000}};
    CHECK(timer_settime(timer, 0, &once, NULL) == 0, "a relative one-shot is armed");
    struct itimerspec shown;
    timer_gettime(timer, &shown);
    CHECK(shown.it_value.tv_sec == 0 && shown.it_value.tv_nsec > 0, "timer_gettime shows it");
    for (int i = 0; i < 200 && timer_signals == 0; i++)
        sleep_ms(5);
    CHECK(timer_signals == 1 && timer_value == 77, "it fires once with its sigev_value");
    timer_gettime(timer, &shown);
    CHECK(shown.it_value.tv_sec == 0 && shown.it_value.tv_nsec == 0, "and is disarmed after");

    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    struct itimerspec at = {{0, 0}, {now.tv_sec, now.tv_nsec}};
    at.it_value.tv_nsec += 20 * 1000 * 1000;
    if (at.it_value.tv_nsec >= 1000000000) {
        at.it_value.tv_sec++;
        at.it_value.tv_nsec -= 1000000000;
    }
    CHECK(timer_settime(timer, TIMER_ABSTIME, &at, NULL) == 0, "an absolute one is armed");
    for (int i = 0; i < 200 && timer_signals == 1; i++)
        sleep_ms(5);
    CHECK(timer_signals == 2, "it fires at its time");
    CHECK(timer_delete(timer) == 0, "timer_delete");
    errno = 0;
    CHECK(timer_settime(timer, 0, &once, NULL) == -1 && errno == EINVAL,
          "a deleted timer is EINVAL (%s)", errno_name(errno));
}

static volatile pid_t worker_tid;
static volatile int worker_stop;
static void* worker(void* argument) {
    (void)argument;
    worker_tid = (pid_t)syscall(SYS_gettid);
    while (!worker_stop)
        sleep_ms(2);
    return NULL;
}

static void check_thread_id_timer(void) {
    pthread_t thread;
    pthread_create(&thread, NULL, worker, NULL);
    while (worker_tid == 0)
        sleep_ms(1);
    struct sigevent event = {0};
    event.sigev_notify = SIGEV_THREAD_ID;
    event.sigev_signo = SIGRTMIN;
    event.sigev_value.sival_int = 5;
#ifdef sigev_notify_thread_id
    event.sigev_notify_thread_id = worker_tid;
#else
    event._sigev_un._tid = worker_tid;
#endif
    int timer = -1;  // the kernel's timer id (the raw syscalls take it)
    int made = syscall(SYS_timer_create, CLOCK_MONOTONIC, &event, &timer) == 0;
    CHECK(made, "timer_create with SIGEV_THREAD_ID");
    handler_tid = 0;
    int before = timer_signals;
    struct itimerspec once = {{0, 0}, {0, 10 * 1000 * 1000}};
    syscall(SYS_timer_settime, timer, 0, &once, NULL);
    for (int i = 0; i < 200 && (timer_signals == before || handler_tid == 0); i++)
        sleep_ms(5);
    CHECK(handler_tid == worker_tid, "its signal runs the handler on the chosen thread");
    syscall(SYS_timer_delete, timer);
    worker_stop = 1;
    pthread_join(thread, NULL);
}

static volatile int notified;
static void on_notify(union sigval value) {
    notified = value.sival_int;
}

static void check_sigev_thread(void) {
    struct sigevent event = {0};
    event.sigev_notify = SIGEV_THREAD;
    event.sigev_notify_function = on_notify;
    event.sigev_value.sival_int = 9;
    timer_t timer;
    CHECK(timer_create(CLOCK_REALTIME, &event, &timer) == 0, "timer_create with SIGEV_THREAD");
    struct itimerspec once = {{0, 0}, {0, 10 * 1000 * 1000}};
    timer_settime(timer, 0, &once, NULL);
    for (int i = 0; i < 400 && notified == 0; i++)
        sleep_ms(5);
    CHECK(notified == 9, "the notify function runs with its value");
    timer_delete(timer);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    check_alarm();
    check_itimer();
    check_posix_timer();
    check_thread_id_timer();
    check_sigev_thread();
    return verdict_finish();
}
