/* AVX-512 pooling backward with whole rows in registers, for the 3x3 windows CNNs use (stride 1
 * and stride 2, top and left padding 1) on planes up to 64 columns wide: each dL/dy row is loaded
 * once, spread over the input columns its windows cover by lane shifts and interleaves, and the
 * input rows are sums of the last two or three of those row contributions, all in registers;
 * every dL/dx row is written once, in order, whole. Nothing goes back through memory: a
 * contribution row stored and reloaded one float over waits on the store, and even one stored
 * and reloaded in place for the row sums cost more than the arithmetic (both measured in a
 * standalone test, as were runtime lane permutations instead of immediate shifts: slower too).
 *
 * Included by pool2d_training.inc.c when compiled with -mavx512f. */
#ifndef HPCCNN_POOL_POOL2D_BACKWARD_ROWS_AVX512_H
#define HPCCNN_POOL_POOL2D_BACKWARD_ROWS_AVX512_H

#include "../core/avx512.h"

/* Most 16-float vectors in a row held in registers; the window weights table's row length. */
#define ROWS_VECTORS_MAX 4
#define ROWS_WEIGHT_PITCH (16 * ROWS_VECTORS_MAX)
/* Rows of that table: with 3-tall windows and padding of at most 1, only the first output row's
 * windows are cut by the top edge and only the last one's by the bottom edge, so every other
 * row weighs its windows as the second does. */
#define ROWS_WEIGHT_ROWS 3

/* Lanes i + 1 and i - 1 of the row whose vector `v` is between `previous` and `next`. */
static inline __m512 right_neighbours(__m512 v, __m512 next) {
    return _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(next), _mm512_castps_si512(v), 1));
}
static inline __m512 left_neighbours(__m512 previous, __m512 v) {
    return _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(v), _mm512_castps_si512(previous), 15));
}

/* 3x3 windows, stride 1 or 2, top and left padding 1, bottom and right padding at most 1, and
 * rows of at most 64 floats on both sides. */
static bool rows_kernel_fits(const hc_pool2d* pool, int64_t stride) {
    const hc_pool2d_desc* d = &pool->desc;
    return d->kernel_height == 3 && d->kernel_width == 3 && d->stride_height == stride && d->stride_width == stride && d->pad_top == 1 &&
           d->pad_left == 1 && d->pad_bottom <= 1 && d->pad_right <= 1 && d->in_width <= 16 * ROWS_VECTORS_MAX &&
           pool->out_width <= 16 * ROWS_VECTORS_MAX;
}

/* Vectors of the longer of the input and output rows. */
static int rows_vectors(const hc_pool2d* pool) {
    const int64_t widest = pool->desc.in_width > pool->out_width ? pool->desc.in_width : pool->out_width;
    return (int)((widest + 15) / 16);
}

/* One over each window's element count, for the first, the second and the last output row
 * (ROWS_WEIGHT_ROWS rows of ROWS_WEIGHT_PITCH floats, zero past the row): over the elements inside
 * the image (average excluding padding) or over the window within the padded image (including). */
static void average_weights(const hc_pool2d* pool, float* weight) {
    const hc_pool2d_desc* d = &pool->desc;
    const int64_t pitch = ROWS_WEIGHT_PITCH, last = pool->out_height - 1;
    const int64_t rows[ROWS_WEIGHT_ROWS] = {0, last < 1 ? last : 1, last};
    for (int r = 0; r < ROWS_WEIGHT_ROWS; r++)
        for (int64_t ow = 0; ow < pitch; ow++) {
            const int64_t oh = rows[r];
            float w = 0.0f;
            if (ow < pool->out_width) {
                const hc_pool_window in = hc_pool_window_at(pool, oh, ow);
                const int64_t top = oh * d->stride_height - d->pad_top, left = ow * d->stride_width - d->pad_left;
                const int64_t bottom = top + d->kernel_height < d->in_height + d->pad_bottom ? top + d->kernel_height : d->in_height + d->pad_bottom;
                const int64_t right = left + d->kernel_width < d->in_width + d->pad_right ? left + d->kernel_width : d->in_width + d->pad_right;
                const int64_t count = d->algorithm == HC_POOL_AVERAGE_INCLUDE_PADDING ? (bottom - top) * (right - left)
                                                                                      : (in.h1 - in.h0) * (in.w1 - in.w0);
                w = 1.0f / (float)count;
            }
            weight[r * pitch + ow] = w;
        }
}

static inline __attribute__((always_inline)) void zero_row(__m512* row, const int V) {
#pragma GCC unroll 4
    for (int v = 0; v < V; v++) row[v] = _mm512_setzero_ps();
}

/* Writes one input row from V vectors, the last masked to the row's end. */
static inline __attribute__((always_inline)) void store_row(float* out, const __m512* row, __mmask16 last, const int V) {
#pragma GCC unroll 4
    for (int v = 0; v < V - 1; v++) _mm512_storeu_ps(out + 16 * v, row[v]);
    _mm512_mask_storeu_ps(out + 16 * (V - 1), last, row[V - 1]);
}

/* Output row oh's weights in that table. */
static inline const float* weight_row(const float* weight, int64_t oh, int64_t out_h) {
    return weight + (oh == 0 ? 0 : oh == out_h - 1 ? 2 : 1) * ROWS_WEIGHT_PITCH;
}

/* ---- stride 1 ----
 * Input column c is covered by the windows of output columns c - 1, c and c + 1 (the same index
 * on both sides, with padding 1), input row h by output rows h - 1, h and h + 1. */

/* Output row oh's contribution to the input columns: share[c - 1] + share[c] + share[c + 1], with
 * share = dy · weight (zero past the row). */
static inline __attribute__((always_inline)) void stride1_row(const float* dy, const float* weight, int64_t out_w, __m512* row,
                                                              const int V) {
    __m512 share[ROWS_VECTORS_MAX + 1];
#pragma GCC unroll 4
    for (int v = 0; v < V; v++)
        share[v] = _mm512_mul_ps(_mm512_maskz_loadu_ps(hc_first_lanes16(out_w - 16 * v), dy + 16 * v), _mm512_load_ps(weight + 16 * v));
    share[V] = _mm512_setzero_ps();
    __m512 previous = _mm512_setzero_ps();
#pragma GCC unroll 4
    for (int v = 0; v < V; v++) {
        row[v] = _mm512_add_ps(_mm512_add_ps(left_neighbours(previous, share[v]), share[v]), right_neighbours(share[v], share[v + 1]));
        previous = share[v];
    }
}

static inline __attribute__((always_inline)) void average_3x3s1_plane_v(const hc_pool2d* pool, const float* dy, const float* weight, float* dx,
                                                                        const int V) {
    const int64_t in_w = pool->desc.in_width, in_h = pool->desc.in_height, out_w = pool->out_width, out_h = pool->out_height;
    const __mmask16 last = hc_first_lanes16(in_w - 16 * (V - 1));
    __m512 older[ROWS_VECTORS_MAX], old[ROWS_VECTORS_MAX], newest[ROWS_VECTORS_MAX];
    zero_row(older, V);
    zero_row(old, V);
    /* Output row oh completes input row oh - 1 (rows past the last output row add nothing). */
    for (int64_t oh = 0; oh <= in_h; oh++) {
        if (oh < out_h) {
            stride1_row(dy + oh * out_w, weight_row(weight, oh, out_h), out_w, newest, V);
        } else {
            zero_row(newest, V);
        }
        if (oh >= 1) {
            __m512 sum[ROWS_VECTORS_MAX];
#pragma GCC unroll 4
            for (int v = 0; v < V; v++) sum[v] = _mm512_add_ps(_mm512_add_ps(older[v], old[v]), newest[v]);
            store_row(dx + (oh - 1) * in_w, sum, last, V);
        }
#pragma GCC unroll 4
        for (int v = 0; v < V; v++) older[v] = old[v], old[v] = newest[v];
    }
}

/* ---- stride 2 ----
 * Input column 2a is covered by output column a only, column 2a + 1 by columns a and a + 1; rows
 * likewise. An output row's 16-column vector becomes two input vectors by interleaving value[a]
 * (even lanes) with the odd lanes' own values. */
static inline __m512 interleave_low(__m512 even, __m512 odd) {
    return _mm512_permutex2var_ps(even, _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23), odd);
}
static inline __m512 interleave_high(__m512 even, __m512 odd) {
    return _mm512_permutex2var_ps(even, _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31), odd);
}

/* Output row a's contribution to the input columns (2V vectors from V output vectors, W of them
 * holding output columns): share[a] at 2a, share[a] + share[a + 1] at 2a + 1. */
static inline __attribute__((always_inline)) void stride2_row(const float* dy, const float* weight, int64_t out_w, __m512* row, const int W) {
    __m512 share[ROWS_VECTORS_MAX / 2 + 1];
#pragma GCC unroll 2
    for (int v = 0; v < W; v++)
        share[v] = _mm512_mul_ps(_mm512_maskz_loadu_ps(hc_first_lanes16(out_w - 16 * v), dy + 16 * v), _mm512_load_ps(weight + 16 * v));
    share[W] = _mm512_setzero_ps();
#pragma GCC unroll 2
    for (int v = 0; v < W; v++) {
        const __m512 pair = _mm512_add_ps(share[v], right_neighbours(share[v], share[v + 1]));
        row[2 * v] = interleave_low(share[v], pair);
        row[2 * v + 1] = interleave_high(share[v], pair);
    }
}

/* V input vectors per row; W = (V + 1) / 2 output vectors. */
static inline __attribute__((always_inline)) void average_3x3s2_plane_v(const hc_pool2d* pool, const float* dy, const float* weight, float* dx,
                                                                        const int V) {
    const int W = (V + 1) / 2;
    const int64_t in_w = pool->desc.in_width, in_h = pool->desc.in_height, out_w = pool->out_width, out_h = pool->out_height;
    const __mmask16 last = hc_first_lanes16(in_w - 16 * (V - 1));
    __m512 old[ROWS_VECTORS_MAX + 1], newest[ROWS_VECTORS_MAX + 1];
    zero_row(old, V);
    /* Output row a completes input rows 2a - 1 (with row a - 1) and 2a. */
    for (int64_t a = 0; 2 * a - 1 < in_h; a++) {
        if (a < out_h) {
            stride2_row(dy + a * out_w, weight_row(weight, a, out_h), out_w, newest, W);
        } else {
            zero_row(newest, V);
        }
        if (a >= 1) {
            __m512 sum[ROWS_VECTORS_MAX];
#pragma GCC unroll 4
            for (int v = 0; v < V; v++) sum[v] = _mm512_add_ps(old[v], newest[v]);
            store_row(dx + (2 * a - 1) * in_w, sum, last, V);
        }
        if (2 * a < in_h) store_row(dx + 2 * a * in_w, newest, last, V);
#pragma GCC unroll 4
        for (int v = 0; v < V; v++) old[v] = newest[v];
    }
}

/* Max pooling, 3x3 stride 2: dy routed to each window's argmax, gathered. For an input row h
 * and 16 output columns a', the even input columns 2a' take dy[a'] where the argmax of window a'
 * names them, the odd columns 2a' + 1 dy[a'] and then dy[a' + 1] likewise; even and odd are then
 * interleaved into two input vectors. Rows 2a - 1 (which output row a - 1 began), 2a and 2a + 1
 * (finished by row a + 1) take output row a's candidates. The candidates are visited in the
 * windows' row-major order, so every element sums its dy in the order the scatter does, from
 * +0. An argmax outside its window names nothing and is ignored. */
typedef struct max_row {
    __m512 value, next_value;            /* dy[a'], dy[a' + 1] */
    __m512i at, at_left, next_at_left;   /* argmax[a'], and argmax[a'] - 1 and argmax[a' + 1] - 1 (compared with column 2a') */
} max_row;

/* Output row a's dy and argmax, W vectors. */
static inline __attribute__((always_inline)) void max_row_of(const float* dy, const int32_t* argmax, int64_t out_w, max_row* row, const int W) {
    __m512 g[ROWS_VECTORS_MAX / 2 + 1];
    __m512i at[ROWS_VECTORS_MAX / 2 + 1];
#pragma GCC unroll 2
    for (int v = 0; v < W; v++) {
        const __mmask16 inside = hc_first_lanes16(out_w - 16 * v);
        g[v] = _mm512_maskz_loadu_ps(inside, dy + 16 * v);
        at[v] = _mm512_mask_loadu_epi32(_mm512_set1_epi32(-2), inside, argmax + 16 * v); /* -2 names no element, nor does -2 - 1 */
    }
    g[W] = _mm512_setzero_ps();
    at[W] = _mm512_set1_epi32(-2);
#pragma GCC unroll 2
    for (int v = 0; v < W; v++) {
        row[v].value = g[v];
        row[v].at = at[v];
        row[v].at_left = _mm512_sub_epi32(at[v], _mm512_set1_epi32(1));
        row[v].next_value = right_neighbours(g[v], g[v + 1]);
        row[v].next_at_left = _mm512_sub_epi32(_mm512_alignr_epi32(at[v + 1], at[v], 1), _mm512_set1_epi32(1));
    }
}

/* Even and odd input columns of row h: `even`/`odd` from `start` (or from +0 when FRESH) plus the
 * candidates of `row`; `column` holds each output vector's even input columns 2a'. */
static inline __attribute__((always_inline)) void max_take(__m512* even, __m512* odd, const __m512* start_even, const __m512* start_odd,
                                                           const max_row* row, int64_t h, int64_t in_w, const __m512i* column, const int W,
                                                           const bool FRESH) {
    const __m512i row_start = _mm512_set1_epi32((int32_t)(h * in_w));
    const __m512 zero = _mm512_setzero_ps();
#pragma GCC unroll 2
    for (int v = 0; v < W; v++) {
        const __m512i position = _mm512_add_epi32(row_start, column[v]); /* of the even column; the odd one is one more */
        const __mmask16 take_even = _mm512_cmpeq_epi32_mask(row[v].at, position), take_odd = _mm512_cmpeq_epi32_mask(row[v].at_left, position);
        const __mmask16 take_next = _mm512_cmpeq_epi32_mask(row[v].next_at_left, position);
        __m512 o;
        if (FRESH) {
            even[v] = _mm512_maskz_add_ps(take_even, zero, row[v].value);
            o = _mm512_maskz_add_ps(take_odd, zero, row[v].value);
        } else {
            even[v] = _mm512_mask_add_ps(start_even[v], take_even, start_even[v], row[v].value);
            o = _mm512_mask_add_ps(start_odd[v], take_odd, start_odd[v], row[v].value);
        }
        odd[v] = _mm512_mask_add_ps(o, take_next, o, row[v].next_value);
    }
}

static inline __attribute__((always_inline)) void max_store(float* out, const __m512* even, const __m512* odd, __mmask16 last, const int V) {
    __m512 sum[ROWS_VECTORS_MAX + 1];
#pragma GCC unroll 2
    for (int v = 0; v < (V + 1) / 2; v++) {
        sum[2 * v] = interleave_low(even[v], odd[v]);
        sum[2 * v + 1] = interleave_high(even[v], odd[v]);
    }
    store_row(out, sum, last, V);
}

static inline __attribute__((always_inline)) void max_3x3s2_plane_v(const hc_pool2d* pool, const float* dy, const int32_t* argmax, float* dx,
                                                                    const int V) {
    const int W = (V + 1) / 2;
    const int64_t in_w = pool->desc.in_width, in_h = pool->desc.in_height, out_w = pool->out_width, out_h = pool->out_height;
    const __mmask16 last = hc_first_lanes16(in_w - 16 * (V - 1));
    const __m512i twice_lane = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    __m512i column[ROWS_VECTORS_MAX / 2];
    __m512 zero[ROWS_VECTORS_MAX / 2], carry_even[ROWS_VECTORS_MAX / 2], carry_odd[ROWS_VECTORS_MAX / 2];
    __m512 even[ROWS_VECTORS_MAX / 2], odd[ROWS_VECTORS_MAX / 2];
#pragma GCC unroll 2
    for (int v = 0; v < W; v++) {
        column[v] = _mm512_add_epi32(twice_lane, _mm512_set1_epi32(32 * v));
        zero[v] = _mm512_setzero_ps();
    }
    max_row row[ROWS_VECTORS_MAX / 2];
    /* Output row 0 gives input rows 0 and (begun) 1; each next row a finishes 2a - 1 and gives 2a
     * and 2a + 1; a last output row past the image's rows only finishes what the last began. */
    max_row_of(dy, argmax, out_w, row, W);
    max_take(even, odd, zero, zero, row, 0, in_w, column, W, true);
    max_store(dx, even, odd, last, V);
    if (in_h > 1) max_take(carry_even, carry_odd, zero, zero, row, 1, in_w, column, W, true);
    int64_t a = 1;
    for (; a < out_h && 2 * a + 1 < in_h; a++) {
        max_row_of(dy + a * out_w, argmax + a * out_w, out_w, row, W);
        max_take(even, odd, carry_even, carry_odd, row, 2 * a - 1, in_w, column, W, false);
        max_store(dx + (2 * a - 1) * in_w, even, odd, last, V);
        max_take(even, odd, zero, zero, row, 2 * a, in_w, column, W, true);
        max_store(dx + 2 * a * in_w, even, odd, last, V);
        max_take(carry_even, carry_odd, zero, zero, row, 2 * a + 1, in_w, column, W, true);
    }
    /* The last rows: an output row whose window ends at the image's last row or below it, or none. */
    for (; 2 * a - 1 < in_h; a++) {
        if (a < out_h) {
            max_row_of(dy + a * out_w, argmax + a * out_w, out_w, row, W);
            max_take(even, odd, carry_even, carry_odd, row, 2 * a - 1, in_w, column, W, false);
            max_store(dx + (2 * a - 1) * in_w, even, odd, last, V);
            if (2 * a < in_h) {
                max_take(even, odd, zero, zero, row, 2 * a, in_w, column, W, true);
                max_store(dx + 2 * a * in_w, even, odd, last, V);
            }
            if (2 * a + 1 < in_h) max_take(carry_even, carry_odd, zero, zero, row, 2 * a + 1, in_w, column, W, true);
        } else {
            max_store(dx + (2 * a - 1) * in_w, carry_even, carry_odd, last, V);
            if (2 * a < in_h) max_store(dx + 2 * a * in_w, zero, zero, last, V);
        }
    }
}

/* The plane functions for each register count. */
#define ROWS_DISPATCH(call)                  \
    switch (rows_vectors(pool)) {            \
        case 1: call(1); break;              \
        case 2: call(2); break;              \
        case 3: call(3); break;              \
        default: call(4); break;             \
    }

static void average_3x3s1_plane(const hc_pool2d* pool, const float* dy, const float* weight, float* dx) {
#define CALL(V) average_3x3s1_plane_v(pool, dy, weight, dx, V)
    ROWS_DISPATCH(CALL)
#undef CALL
}

static void average_3x3s2_plane(const hc_pool2d* pool, const float* dy, const float* weight, float* dx) {
#define CALL(V) average_3x3s2_plane_v(pool, dy, weight, dx, V)
    ROWS_DISPATCH(CALL)
#undef CALL
}

static void max_3x3s2_plane(const hc_pool2d* pool, const float* dy, const int32_t* argmax, float* dx) {
#define CALL(V) max_3x3s2_plane_v(pool, dy, argmax, dx, V)
    ROWS_DISPATCH(CALL)
#undef CALL
}
#undef ROWS_DISPATCH

#endif
