/* Prints its arguments and the MYST_TEST_* environment variables, sorted, so
 * the runner can check what reaches the program: every argument unchanged
 * (spaces, empty strings, leading dashes), and exactly the variables that the
 * configuration lets through. argv[0] differs between a native run and a run
 * under myst (host build path vs. /bin/...), so only its last component is
 * printed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char** environ;

static int compare_strings(const void* a, const void* b) {
    return strcmp(*(const char* const*)a, *(const char* const*)b);
}

int main(int argc, char** argv) {
    printf("argc: %d\n", argc);
    const char* slash = strrchr(argv[0], '/');
    printf("argv[0] basename: %s\n", slash ? slash + 1 : argv[0]);
    for (int i = 1; i < argc; i++)
        printf("argv[%d]: [%s]\n", i, argv[i]);
    if (argv[argc] != NULL) {
        printf("FAIL: argv[argc] is not NULL\n");
        return 1;
    }

    size_t count = 0;
    for (char** e = environ; *e; e++)
        count++;
    const char** selected = calloc(count + 1, sizeof(*selected));
    if (!selected)
        return 1;
    size_t n = 0;
    for (char** e = environ; *e; e++)
        if (strncmp(*e, "MYST_TEST_", 10) == 0)
            selected[n++] = *e;
    qsort(selected, n, sizeof(*selected), compare_strings);
    printf("MYST_TEST_ variables: %zu\n", n);
    for (size_t i = 0; i < n; i++)
        printf("env: %s\n", selected[i]);
    free(selected);
    return 0;
}
