/* memory_budget [MIB]: allocates 1 MiB chunks (touching each) until malloc
 * returns NULL or 8 GiB are reached, frees them all and prints
 * "allocation stopped cleanly". With MIB (the runner passes 64 together with
 * `myst exec-linux --memory-size 64m`) it also checks that allocation stopped
 * below that budget, which only holds under myst; without it the output is the
 * same natively and under myst. */
#include <stdint.h>

#include "verdict.h"

#define CHUNK (1u << 20)
#define MAX_CHUNKS 8192 /* 8 GiB */

static void* chunks[MAX_CHUNKS];

int main(int argc, char** argv) {
    long budget_mib = argc > 1 ? strtol(argv[1], NULL, 10) : 0;
    size_t count = 0;
    while (count < MAX_CHUNKS) {
        unsigned char* p = malloc(CHUNK);
        if (!p)
            break;
        /* One byte per chunk: the memory is really handed out, but a native
         * run does not commit 8 GiB of host memory. */
        p[0] = (unsigned char)count;
        p[CHUNK - 1] = (unsigned char)count;
        chunks[count++] = p;
    }
    int intact = 1;
    for (size_t i = 0; i < count; i++) {
        unsigned char* p = chunks[i];
        if (p[0] != (unsigned char)i || p[CHUNK - 1] != (unsigned char)i)
            intact = 0;
        free(p);
    }
    CHECK(count >= 1, "at least one chunk was allocated");
    CHECK(intact, "every chunk kept its bytes");
    printf("allocation stopped cleanly\n");
    if (budget_mib > 0) {
        int below = (uint64_t)count * CHUNK < (uint64_t)budget_mib * CHUNK;
        printf("stopped_below_budget: %s\n", below ? "yes" : "no");
        if (!below)
            verdict_failures++;
    }
    /* After freeing everything, memory can be had again. */
    void* again = malloc(CHUNK);
    CHECK(again != NULL, "malloc works again after freeing");
    free(again);
    return verdict_finish();
}
