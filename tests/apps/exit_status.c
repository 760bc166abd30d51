/* exit_status N: exits with status N (0..255), so the runner can check that
 * myst's own exit status is the program's.
 * exit_status signal: dies by SIGABRT through abort(); a shell sees 128+6 for
 * the native run, and myst must exit with the same 134. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char** argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: exit_status <0..255|signal>\n");
        return 2;
    }
    if (strcmp(argv[1], "signal") == 0) {
        printf("aborting\n");
        fflush(stdout);
        abort();
    }
    char* end = NULL;
    long status = strtol(argv[1], &end, 10);
    if (*argv[1] == '\0' || *end != '\0' || status < 0 || status > 255) {
        fprintf(stderr, "exit_status: bad status '%s'\n", argv[1]);
        return 2;
    }
    printf("exiting with %ld\n", status);
    fflush(stdout);
    exit((int)status);
}
