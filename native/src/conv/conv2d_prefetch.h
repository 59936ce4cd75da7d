/* Prefetching the input rows of a convolution's next work item into L2, a slice at a time while
 * the current item computes, so the next item's window copy finds them there (batch32_3x3 reads
 * a 6.4 MB input once: its copies waited on memory). */
#ifndef HPCCNN_CONV_CONV2D_PREFETCH_H
#define HPCCNN_CONV_CONV2D_PREFETCH_H

#include <immintrin.h>

#include "conv2d_internal.h"

/* The lines as a sequence: each of `channels` planes contributes one contiguous run of rows. */
typedef struct hc_prefetch_cursor {
    const char* first;   /* the first channel's run */
    int64_t plane_bytes; /* from one channel's run to the next */
    int64_t run_lines;   /* cache lines per run */
    int64_t lines, next; /* total, and the next one to prefetch */
} hc_prefetch_cursor;

/* The input rows that output rows [first_row, first_row + rows) of `image` read, in `channels` planes. */
static inline hc_prefetch_cursor hc_prefetch_input_rows(const hc_conv2d* plan, const float* image, int64_t channels,
                                                        int64_t first_row, int64_t rows) {
    const hc_conv2d_desc* d = &plan->desc;
    int64_t top = first_row * d->stride_height - d->pad_top;
    int64_t bottom = top + (rows - 1) * d->stride_height + (d->kernel_height - 1) * d->dilation_height + 1;
    if (top < 0) top = 0;
    if (bottom > d->in_height) bottom = d->in_height;
    const int64_t run_lines = bottom > top ? ((bottom - top) * d->in_width * (int64_t)sizeof(float) + 63) / 64 : 0;
    return (hc_prefetch_cursor){
        .first = (const char*)(image + top * d->in_width),
        .plane_bytes = d->in_height * d->in_width * (int64_t)sizeof(float),
        .run_lines = run_lines,
        .lines = run_lines * channels,
        .next = 0,
    };
}

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
