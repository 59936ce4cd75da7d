/* The end of a kernel's parallel region: the team waits for its last thread awake (internal.h). */
#include <omp.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HC_CPU_RELAX() _mm_pause()
#else
#define HC_CPU_RELAX() ((void)0)
#endif

#include "internal.h"

/* Longest a thread spins for the others. A kernel's finishing skew is one work item, tens of
 * microseconds; far past that the others are not running (more threads than CPUs) and spinning
 * would only keep a CPU from them. */
#define JOIN_SPIN_MS 0.25

void hc_parallel_join(int* finished) {
#pragma omp atomic update
    (*finished)++;
    const int team = omp_get_num_threads();
    const double deadline = hc_now_ms() + JOIN_SPIN_MS;
    for (unsigned spins = 1;; spins++) {
        int count;
#pragma omp atomic read
        count = *finished;
        if (count >= team) return;
        HC_CPU_RELAX();
        if (spins % 64 == 0 && hc_now_ms() > deadline) return;
    }
}
