/* The input rows a convolution's next work item reads, as a prefetch cursor (core/prefetch.h): its
 * window copy then finds them in L2 (batch32_3x3 reads a 6.4 MB input once: its copies waited on
 * memory). */
#ifndef HPCCNN_CONV_CONV2D_PREFETCH_H
#define HPCCNN_CONV_CONV2D_PREFETCH_H

#include "../core/prefetch.h"
#include "conv2d_internal.h"

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

#endif
