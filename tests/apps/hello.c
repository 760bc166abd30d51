/* The smallest program: the kernel must load it (and its loader and libc from
 * the image) and pass its one write through to the host's stdout. */
#include <stdio.h>

int main(void) {
    printf("Hello World!\n");
    return 0;
}
