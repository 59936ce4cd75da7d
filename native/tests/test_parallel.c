/* When kernels go parallel (core/parallel.c): the cost of waking a team is measured once and is
 * plausible, and hc_threads_for keeps one thread below four times that cost and all of them
 * above it, with a floor of its own for FLOP counts. Links the library's objects, so it reaches
 * the internal functions. */
#include <omp.h>

#include "../src/core/internal.h"
#include "check.h"

int main(void) {
    /* Asked first from inside a region, it must neither measure (that would nest teams) nor hang. */
    double nested = 0.0;
#pragma omp parallel num_threads(2)
    {
#pragma omp single
        nested = hc_parallel_wake_ns();
    }
    CHECK(nested > 0.0, "the wake cost asked inside a region is %g ns", nested);

    const double wake = hc_parallel_wake_ns();
    CHECK(wake > 0.0 && wake < 1e9, "waking a team of two measured %g ns", wake);
    CHECK(hc_parallel_wake_ns() == wake, "the wake cost is measured once: %g then %g ns", wake, hc_parallel_wake_ns());

    CHECK(hc_threads_for(0.0, 4) == 1, "no work takes one thread");
    CHECK(hc_threads_for(1e12, 4) == 4, "a second of work takes every thread");
    CHECK(hc_threads_for(1e12, 1) == 1, "one thread allowed is one thread");
    CHECK(hc_threads_for(3.9 * wake, 2) == 1, "work under four wake-ups stays on one thread");
    CHECK(hc_threads_for(4.1 * wake, 2) == 2, "work over four wake-ups goes parallel");
    CHECK(hc_threads_for_flops(1.9e6, 4) == 1, "under 2 MFLOP stays on one thread");
    CHECK(hc_threads_for_flops(1e12, 4) == 4, "a TFLOP takes every thread");
    return check_summary();
}
