/* The check macro of the C tests that explain their failures: CHECK(condition, printf-style
 * message) counts the check and, when it fails, prints the place and the message. */
#ifndef HPCCNN_TESTS_CHECK_H
#define HPCCNN_TESTS_CHECK_H

#include <stdio.h>

static int checks_run, checks_failed;

#define CHECK(condition, ...)                                               \
    do {                                                                    \
        checks_run++;                                                       \
        if (!(condition)) {                                                 \
            checks_failed++;                                                \
            fprintf(stderr, "%s:%d: check failed: ", __FILE__, __LINE__);   \
            fprintf(stderr, __VA_ARGS__);                                   \
            fprintf(stderr, "\n");                                          \
        }                                                                   \
    } while (0)

/* The tally every test program ends with; its exit status. */
static inline int check_summary(void) {
    printf("%d checks, %d failed\n", checks_run, checks_failed);
    return checks_failed == 0 ? 0 : 1;
}

#endif
