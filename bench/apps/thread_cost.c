/* Times thread and futex operations and prints one figure:
 *   thread_cost create N     - pthread_create + pthread_join of a thread that
 *                              returns at once, N times: microseconds each
 *   thread_cost wake N       - FUTEX_WAKE on a word nobody waits on, N times:
 *                              nanoseconds per call
 *   thread_cost pingpong N   - two threads hand a turn to each other N times
 *                              through two futex words, each side sleeping in
 *                              FUTEX_WAIT until woken (no spinning): round
 *                              trips per second */
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

static long futex(atomic_int* word, int op, int value) {
    return syscall(SYS_futex, word, op, value, NULL, NULL, 0);
}

static void* return_at_once(void* argument) {
    return argument;
}

static atomic_int ping, pong;
static long rounds;

/* Waits until *word holds want, sleeping in the kernel while it does not. */
static void wait_for(atomic_int* word, int want) {
    int seen;
    while ((seen = atomic_load(word)) != want)
        futex(word, FUTEX_WAIT_PRIVATE, seen);
}

static void* ponger(void* argument) {
    (void)argument;
    for (int i = 1; i <= rounds; ++i) {
        wait_for(&ping, i);
        atomic_store(&pong, i);
        futex(&pong, FUTEX_WAKE_PRIVATE, 1);
    }
    return NULL;
}

int main(int argc, char** argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: thread_cost create|wake|pingpong N\n");
        return 2;
    }
    long n = atol(argv[2]);
    if (strcmp(argv[1], "create") == 0) {
        double start = now_ns();
        for (long i = 0; i < n; ++i) {
            pthread_t thread;
            if (pthread_create(&thread, NULL, return_at_once, NULL) != 0 ||
                pthread_join(thread, NULL) != 0) {
                fprintf(stderr, "thread_cost: pthread_create/join failed\n");
                return 1;
            }
        }
        printf("%.1f\n", (now_ns() - start) / n / 1e3);
        return 0;
    }
    if (strcmp(argv[1], "wake") == 0) {
        atomic_int word = 0;
        double start = now_ns();
        for (long i = 0; i < n; ++i)
            if (futex(&word, FUTEX_WAKE_PRIVATE, 1) != 0) {
                fprintf(stderr, "thread_cost: FUTEX_WAKE woke someone or failed\n");
                return 1;
            }
        printf("%.1f\n", (now_ns() - start) / n);
        return 0;
    }
    if (strcmp(argv[1], "pingpong") == 0) {
        rounds = n;
        pthread_t thread;
        if (pthread_create(&thread, NULL, ponger, NULL) != 0) {
            fprintf(stderr, "thread_cost: pthread_create failed\n");
            return 1;
        }
        double start = now_ns();
        for (int i = 1; i <= n; ++i) {
            atomic_store(&ping, i);
            futex(&ping, FUTEX_WAKE_PRIVATE, 1);
            wait_for(&pong, i);
        }
        double elapsed = now_ns() - start;
        pthread_join(thread, NULL);
        printf("%.0f\n", n / (elapsed / 1e9));
        return 0;
    }
    fprintf(stderr, "usage: thread_cost create|wake|pingpong N\n");
    return 2;
}
