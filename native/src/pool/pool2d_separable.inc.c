/* Pooling as two passes per output row, vectorised along the width:
 *   1. rows: combine the window's input rows (clipped to the image) into one padded row;
 *   2. columns: combine kernel_width shifted copies of that row. With stride 2 the row is first
 *      split into even and odd columns so every shifted copy is a contiguous vector load.
 * Max uses -inf and averages use 0 for the padding; averages divide by the window size or by
 * the number of elements inside the image. Any other width stride combines columns one by one.
 * One task per (image, channel) plane, so results do not depend on the thread count.
 *
 * A template compiled once per instruction set (pool2d_separable_avx2.c, _avx512.c); the
 * including file defines VEC, VEC_WIDTH, vec_load, vec_store, vec_set1, vec_max, vec_add,
 * vec_mul, vec_div, vec_load_tail / vec_store_tail (fewer than VEC_WIDTH lanes),
 * split_even_odd(row, half, even, odd), SEPARABLE / SEPARABLE_NAME / SEPARABLE_ISA for the
 * algorithm it then defines, SEPARABLE_MASKED_TAILS (row tails as masked vectors, else one
 * element at a time) and SEPARABLE_UNIT_STRIDE_ONLY (accept only a width stride of 1). */
#include <math.h>

#include "pool2d_internal.h"

static bool accepts_separable(const hc_pool2d* plan) {
    const hc_pool2d_desc* d = &plan->desc;
    return d->in_width + (d->pad_left + d->pad_right) + d->kernel_width < (INT64_C(1) << 24) &&
           (!SEPARABLE_UNIT_STRIDE_ONLY || d->stride_width == 1);
}

static int64_t padded_row_length(const hc_pool2d* plan) {
    return (plan->out_width - 1) * plan->desc.stride_width + plan->desc.kernel_width + 2 * VEC_WIDTH;
}

static inline VEC combine(VEC a, VEC b, bool is_max) { return is_max ? vec_max(a, b) : vec_add(a, b); }
static inline float combine1(float a, float b, bool is_max) { return is_max ? hc_max_nan(a, b) : a + b; }

static inline __attribute__((always_inline)) void pool_plane_of(const hc_pool2d* plan, const float* x, float* y, float* scratch,
                                                                 const bool is_max) {
    const hc_pool2d_desc* d = &plan->desc;
    const float pad_value = is_max ? -INFINITY : 0.0f;
    const int64_t pitch = d->in_width, out_w = plan->out_width, kw = d->kernel_width, sw = d->stride_width;
    /* padded row: pad_left pad values, the columns the windows read, then enough pad values for
     * every window and vector. Sized by what is read, not by the stride: one output of a huge
     * stride needs one window. */
    const int64_t padded_length = padded_row_length(plan);
    const int64_t read_end = (out_w - 1) * sw + kw - d->pad_left;
    const int64_t width = read_end < pitch ? (read_end > 0 ? read_end : 0) : pitch;
    float* padded = scratch;
    float* even = padded + padded_length + VEC_WIDTH;
    float* odd = even + padded_length / 2 + VEC_WIDTH;
    float* column_count = odd + padded_length / 2 + VEC_WIDTH;

    for (int64_t i = 0; i < padded_length; i++) padded[i] = pad_value;
    for (int64_t ow = 0; ow < out_w; ow++) {
        const int64_t left = ow * sw - d->pad_left;
        const int64_t w0 = left < 0 ? 0 : left, w1 = left + kw < width ? left + kw : width;
        column_count[ow] = (float)(w1 - w0);
    }
    /* The last vector divides unused lanes too: give them 1, not leftover bits (a denormal
     * divisor costs a microcode assist per lane). */
    for (int64_t ow = out_w; ow < out_w + VEC_WIDTH; ow++) column_count[ow] = 1.0f;

    float* row = padded + d->pad_left;
    for (int64_t oh = 0; oh < plan->out_height; oh++) {
        const int64_t top = oh * d->stride_height - d->pad_top;
        const int64_t h0 = top < 0 ? 0 : top, h1 = top + d->kernel_height < d->in_height ? top + d->kernel_height : d->in_height;
        /* Pass 1: rows h0..h1 into row[0..width). */
        int64_t w = 0;
        for (; w + VEC_WIDTH <= width; w += VEC_WIDTH) {
            VEC v = vec_load(x + h0 * pitch + w);
            for (int64_t h = h0 + 1; h < h1; h++) v = combine(v, vec_load(x + h * pitch + w), is_max);
            vec_store(row + w, v);
        }
#if SEPARABLE_MASKED_TAILS
        if (w < width) {
            VEC v = vec_load_tail(x + h0 * pitch + w, width - w);
            for (int64_t h = h0 + 1; h < h1; h++) v = combine(v, vec_load_tail(x + h * pitch + w, width - w), is_max);
            vec_store_tail(row + w, v, width - w);
        }
#else
        for (; w < width; w++) {
            float v = x[h0 * pitch + w];
            for (int64_t h = h0 + 1; h < h1; h++) v = combine1(v, x[h * pitch + w], is_max);
            row[w] = v;
        }
#endif
        /* Pass 2: kernel_width shifted copies. */
        float* out = y + oh * out_w;
        const float* source = padded;
        int64_t source_stride = sw;
        if (sw == 2) {
            split_even_odd(padded, padded_length / 2, even, odd);
            source_stride = 1;
        }
        if (source_stride == 1) {
            int64_t ow = 0;
            for (; ow < out_w; ow += VEC_WIDTH) {
                VEC v = vec_set1(pad_value);
                for (int64_t s = 0; s < kw; s++) {
                    const float* shifted = sw == 2 ? (s % 2 == 0 ? even : odd) + s / 2 : source + s;
                    v = s == 0 ? vec_load(shifted + ow) : combine(v, vec_load(shifted + ow), is_max);
                }
                if (!is_max) {
                    const VEC count = d->algorithm == HC_POOL_AVERAGE_INCLUDE_PADDING
                                          ? vec_set1((float)(d->kernel_height * kw))
                                          : vec_mul(vec_set1((float)(h1 - h0)), vec_load(column_count + ow));
                    v = vec_div(v, count);
                }
                if (ow + VEC_WIDTH <= out_w) {
                    vec_store(out + ow, v);
                } else {
                    vec_store_tail(out + ow, v, out_w - ow);
                }
            }
        } else {
            for (int64_t ow = 0; ow < out_w; ow++) {
                float v = source[ow * sw];
                for (int64_t s = 1; s < kw; s++) v = combine1(v, source[ow * sw + s], is_max);
                if (!is_max)
                    v /= d->algorithm == HC_POOL_AVERAGE_INCLUDE_PADDING ? (float)(d->kernel_height * kw)
                                                                         : (float)(h1 - h0) * column_count[ow];
                out[ow] = v;
            }
        }
    }
}

/* One copy for max and one for the averages, so no inner loop tests which it is. */
static void pool_plane(const hc_pool2d* plan, const float* x, float* y, float* scratch) {
    if (plan->desc.algorithm == HC_POOL_MAX)
        pool_plane_of(plan, x, y, scratch, true);
    else
        pool_plane_of(plan, x, y, scratch, false);
}

static hc_status run_separable(const hc_pool2d* plan, const float* input, float* output) {
    const int64_t padded_length = padded_row_length(plan);
    /* padded row + even + odd halves + per-column counts (+ vector slack). */
    const size_t scratch_bytes = (size_t)(2 * padded_length + plan->out_width + 8 * VEC_WIDTH) * sizeof(float);
    return hc_pool2d_run_planes(plan, input, output, scratch_bytes, pool_plane);
}

HC_POOL2D_FORWARD_ALGORITHM(SEPARABLE, SEPARABLE_NAME, SEPARABLE_ISA, accepts_separable, run_separable);
