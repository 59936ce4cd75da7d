/* Prefetching a work item's input into L2 a slice at a time while the current item computes, so
 * that the next item's copies find it there: the lines as a sequence of equal runs (one per
 * channel plane), stepped through by whoever computes. */
#ifndef HPCCNN_CORE_PREFETCH_H
#define HPCCNN_CORE_PREFETCH_H

#include <immintrin.h>
#include <stdint.h>

typedef struct hc_prefetch_cursor {
    const char* first;   /* the first run */
    int64_t plane_bytes; /* from one run to the next */
    int64_t run_lines;   /* cache lines per run */
    int64_t lines, next; /* total, and the next one to prefetch */
} hc_prefetch_cursor;

/* Lines per step that spread the cursor's lines over `steps` steps. */
static inline int64_t hc_prefetch_per_step(const hc_prefetch_cursor* cursor, int64_t steps) {
    return steps > 0 ? (cursor->lines + steps - 1) / steps : cursor->lines;
}

/* Prefetches the next `count` lines into L2. */
static inline void hc_prefetch_lines(hc_prefetch_cursor* cursor, int64_t count) {
    const int64_t end = cursor->next + count < cursor->lines ? cursor->next + count : cursor->lines;
    for (; cursor->next < end; cursor->next++) {
        const int64_t channel = cursor->next / cursor->run_lines, line = cursor->next % cursor->run_lines;
        _mm_prefetch(cursor->first + channel * cursor->plane_bytes + line * 64, _MM_HINT_T1);
    }
}

#endif
