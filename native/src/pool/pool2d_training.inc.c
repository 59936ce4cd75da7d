/* Pooling for training: max pooling that saves its argmax, and the backward pass of every
 * algorithm. One (image, channel) plane per task; within a plane the outputs are visited in
 * order, so results do not depend on the thread count.
 *
 * Plain C written for the compiler to vectorise (contiguous row loops without stores feeding
 * later loads), compiled once per instruction set: the including file defines POOL_ISA (an
 * hc_isa), and POOL_MAX_ARGMAX / POOL_BACKWARD with their names, the algorithms it defines. */
#include <math.h>

#include "pool2d_internal.h"

static bool accepts_max(const hc_plan* plan) { return hc_pool(plan)->desc.algorithm == HC_POOL_MAX; }

/* A plane's input, and its output and argmax (or dL/dy and argmax). */
static int threads_for(const hc_pool2d* pool) {
    return hc_pool2d_threads(pool, sizeof(float) * (double)(pool->desc.in_height * pool->desc.in_width) +
                                       (sizeof(float) + sizeof(int32_t)) * (double)(pool->out_height * pool->out_width));
}

#if defined(__AVX512F__)
#include "pool2d_backward_rows_avx512.h"
#include "pool2d_max_backward_2x2_avx512.h"
#include "pool2d_training_planes_avx512.h"
#endif

/* The first maximum in row-major window order: ties keep the earlier element, so every backend
 * routes the gradient to the same input. NaN counts as larger than any number (hpccnn.h): a window
 * holding NaN yields its first NaN. */
static hc_status run_max_argmax(const hc_plan* plan, const hc_args* args) {
    const hc_pool2d* pool = hc_pool(plan);
    const hc_pool2d_desc* d = &pool->desc;
    const float* input = hc_arg_in(args, HC_ARG_SRC);
    float* output = hc_arg_out(args, HC_ARG_DST);
    int32_t* argmax = (int32_t*)args->at[HC_ARG_WORKSPACE];
    const int64_t planes = d->batch * d->channels, in_plane = d->in_height * d->in_width;
    const int64_t out_plane = pool->out_height * pool->out_width;
    const int threads = threads_for(pool);
    int finished = 0;
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
#pragma omp for schedule(dynamic, hc_dynamic_chunk(planes, threads)) nowait
        for (int64_t p = 0; p < planes; p++) {
            const float* x = input + p * in_plane;
#if defined(__AVX512F__)
            if (is_2x2_stride2(pool)) {
                max_argmax_2x2s2_plane(pool, x, output + p * out_plane, argmax + p * out_plane);
                continue;
            }
            if (max_argmax_vector_fits(pool)) {
                max_argmax_plane_avx512(pool, x, output + p * out_plane, argmax + p * out_plane);
                continue;
            }
#endif
            for (int64_t oh = 0; oh < pool->out_height; oh++)
                for (int64_t ow = 0; ow < pool->out_width; ow++) {
                    const hc_pool_window w = hc_pool_window_at(pool, oh, ow);
                    int64_t best_index = w.h0 * d->in_width + w.w0;
                    float best = x[best_index];
                    /* Selects, not branches: which element wins is data. */
                    for (int64_t h = w.h0; h < w.h1; h++)
                        for (int64_t c = w.w0; c < w.w1; c++) {
                            const float v = x[h * d->in_width + c];
                            const bool greater = v > best || (isnan(v) && !isnan(best));
                            best = greater ? v : best;
                            best_index = greater ? h * d->in_width + c : best_index;
                        }
                    const int64_t o = p * out_plane + oh * pool->out_width + ow;
                    output[o] = best;
                    argmax[o] = (int32_t)best_index;
                }
        }
        hc_parallel_join(&finished);
    }
    return HC_STATUS_OK;
}

#if defined(__AVX512F__)
/* out[c] = rows[first][c] + ... + rows[last][c] (rows `width` floats apart), in that order, 16
 * columns at a time in registers. */
static void sum_rows(float* restrict out, const float* restrict rows, int64_t first, int64_t last, int64_t width) {
    for (int64_t c = 0; c < width; c += 16) {
        const __mmask16 m = hc_first_lanes16(width - c);
        __m512 v = _mm512_maskz_loadu_ps(m, rows + first * width + c);
        for (int64_t oh = first + 1; oh <= last; oh++) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, rows + oh * width + c));
        _mm512_mask_storeu_ps(out + c, m, v);
    }
}

/* share[i] = g[i] / (height * width[i]), or g[i] / count where width is NULL. */
static inline void shares(float* restrict share, const float* restrict g, const float* restrict width, float height, float count, int64_t n) {
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 m = hc_first_lanes16(n - i);
        const __m512 divisor = width == NULL ? _mm512_set1_ps(count) : _mm512_mul_ps(_mm512_set1_ps(height), _mm512_mask_loadu_ps(_mm512_set1_ps(1.0f), m, width + i));
        _mm512_mask_storeu_ps(share + i, m, _mm512_div_ps(_mm512_maskz_loadu_ps(m, g + i), divisor));
    }
}
#else
static void sum_rows(float* restrict out, const float* restrict rows, int64_t first, int64_t last, int64_t width) {
    for (int64_t c = 0; c < width; c++) out[c] = rows[first * width + c];
    for (int64_t oh = first + 1; oh <= last; oh++)
        for (int64_t c = 0; c < width; c++) out[c] += rows[oh * width + c];
}

static inline void shares(float* restrict share, const float* restrict g, const float* restrict width, float height, float count, int64_t n) {
    if (width == NULL) {
        for (int64_t i = 0; i < n; i++) share[i] = g[i] / count;
    } else {
        for (int64_t i = 0; i < n; i++) share[i] = g[i] / (height * width[i]);
    }
}
#endif

/* Each input row h of dx: the sum of the output rows first_row[h] .. last_row[h] whose windows
 * cover it (rows in_width floats apart), or 0 where none does. */
static void rows_into_dx(const hc_pool2d* pool, const float* rows, const int32_t* first_row, const int32_t* last_row, float* dx) {
    const int64_t width = pool->desc.in_width;
    for (int64_t h = 0; h < pool->desc.in_height; h++) {
        float* out = dx + h * width;
        if (first_row[h] > last_row[h]) {
            for (int64_t c = 0; c < width; c++) out[c] = 0.0f;
        } else {
            sum_rows(out, rows, first_row[h], last_row[h], width);
        }
    }
}

/* dx of one plane for the averages, separably. Each window's share dy / window size; per output
 * row, the shares added onto the input columns each window covers, one kernel column offset t at
 * a time from the last to the first, so every element gathers its windows in row-major order
 * (each t loads what the previous t stored one float over, which the AVX-512 strips avoid);
 * then each input row h the sum of output rows first_row[h] .. last_row[h], whose windows cover
 * it, written once. `scratch` holds out_height x
 * in_width row sums and out_width shares; `column_width` each output column's window width inside
 * the image (for the average that excludes padding). The order is fixed: the result does not
 * depend on the thread count. */
static void average_backward_plane(const hc_pool2d* pool, const float* dy, float* dx, float* scratch, const float* column_width,
                                   const int32_t* first_row, const int32_t* last_row) {
    const hc_pool2d_desc* d = &pool->desc;
    const bool include_padding = d->algorithm == HC_POOL_AVERAGE_INCLUDE_PADDING;
    const int64_t width = d->in_width, out_w = pool->out_width, sw = d->stride_width;
    float* rows = scratch;
    float* share = scratch + pool->out_height * width;
    for (int64_t oh = 0; oh < pool->out_height; oh++) {
        const hc_pool_window w = hc_pool_window_at(pool, oh, 0);
        const float* gradient = dy + oh * out_w;
        shares(share, gradient, include_padding ? NULL : column_width, (float)(w.h1 - w.h0), (float)(d->kernel_height * d->kernel_width), out_w);
        float* row = rows + oh * width;
        for (int64_t c = 0; c < width; c++) row[c] = 0.0f;
        for (int64_t t = d->kernel_width - 1; t >= 0; t--) {
            /* Output columns whose offset-t tap lies in the image: 0 <= ow*sw - pad_left + t < width. */
            const int64_t lead = d->pad_left - t;
            const int64_t ow0 = lead > 0 ? (lead + sw - 1) / sw : 0;
            const int64_t reach = width - 1 + d->pad_left - t;
            const int64_t ow1 = reach < 0 ? -1 : (reach / sw < out_w - 1 ? reach / sw : out_w - 1);
            float* target = row - d->pad_left + t;
            if (sw == 1) {
                for (int64_t ow = ow0; ow <= ow1; ow++) target[ow] += share[ow];
            } else {
                for (int64_t ow = ow0; ow <= ow1; ow++) target[ow * sw] += share[ow];
            }
        }
    }
    rows_into_dx(pool, rows, first_row, last_row, dx);
}

/* dx of one plane for max pooling: dy routed to each window's argmax in row-major window order,
 * input rows zeroed just before the first window that reaches them (while they are in cache). A
 * scatter with a store per output beats a gather with a test per input: argmax positions are
 * data, and a test per input mispredicts or gathers. */
static void max_backward_plane(const hc_pool2d* pool, const float* dy, const int32_t* argmax, float* dx) {
    const hc_pool2d_desc* d = &pool->desc;
    const int64_t in_plane = d->in_height * d->in_width, width = d->in_width;
    int64_t zeroed = 0; /* rows [0, zeroed) are zero or hold gradients */
    for (int64_t oh = 0; oh < pool->out_height; oh++) {
        const int64_t end = hc_pool_window_at(pool, oh, 0).h1;
        for (; zeroed < end; zeroed++)
            for (int64_t c = 0; c < width; c++) dx[zeroed * width + c] = 0.0f;
        /* An index from elsewhere than a forward pass of this plan is ignored, never followed out of the rows zeroed. */
        for (int64_t ow = 0; ow < pool->out_width; ow++) {
            const int64_t o = oh * pool->out_width + ow, i = argmax[o];
            if (i >= 0 && i < zeroed * width) dx[i] += dy[o];
        }
    }
    for (int64_t i = zeroed * width; i < in_plane; i++) dx[i] = 0.0f;
}

static hc_status run_backward(const hc_plan* plan, const hc_args* args) {
    const hc_pool2d* pool = hc_pool(plan);
    const hc_pool2d_desc* d = &pool->desc;
    const float* diff_dst = hc_arg_in(args, HC_ARG_DIFF_DST);
    float* diff_src = hc_arg_out(args, HC_ARG_DIFF_SRC);
    const int32_t* argmax = (const int32_t*)args->at[HC_ARG_WORKSPACE];
    const int64_t planes = d->batch * d->channels, in_plane = d->in_height * d->in_width;
    const int64_t out_plane = pool->out_height * pool->out_width;
    const int threads = threads_for(pool);
    /* For the averages, the same for every plane: each output column's window width inside the
     * image, the output rows whose windows cover each input row, and (AVX-512 strips) one over each
     * window's width and height. */
    float* column_width = NULL;
    int32_t *first_row = NULL, *last_row = NULL;
    const bool include_padding = d->algorithm == HC_POOL_AVERAGE_INCLUDE_PADDING;
#if defined(__AVX512F__)
    /* 3x3 windows on narrow planes: whole rows in registers (pool2d_backward_rows_avx512.h). */
    const bool rows_stride1 = d->algorithm != HC_POOL_MAX && rows_kernel_fits(pool, 1), rows_stride2 = rows_kernel_fits(pool, 2);
    const bool lanes_fit = d->algorithm != HC_POOL_MAX && !rows_stride1 && !rows_stride2 && average_lanes_fit(pool);
    const average_lanes lanes = lanes_fit ? average_lanes_of(pool) : (average_lanes){.low = 0};
    const float* rows_weight = pool->base.packed; /* prepare_backward's, for the averages */
#else
    const bool lanes_fit = false;
#endif
    /* Row sums, then one row of shares (average_backward_plane). */
    const size_t scratch_bytes = (size_t)(pool->out_height * d->in_width + pool->out_width) * sizeof(float);
    float *column_weight = NULL, *row_weight = NULL;
    if (d->algorithm != HC_POOL_MAX) {
        const int64_t weight_floats = lanes_fit ? pool->out_width + pool->out_height : 0;
        column_width = hc_thread_scratch((size_t)(pool->out_width + 2 * d->in_height + weight_floats) * sizeof(float));
        if (column_width == NULL) return hc_fail(HC_STATUS_OUT_OF_MEMORY, "out of memory for the pooling gradient's window sizes");
        first_row = (int32_t*)(column_width + pool->out_width);
        last_row = first_row + d->in_height;
        for (int64_t ow = 0; ow < pool->out_width; ow++) {
            const hc_pool_window w = hc_pool_window_at(pool, 0, ow);
            column_width[ow] = (float)(w.w1 - w.w0);
        }
        for (int64_t h = 0; h < d->in_height; h++) {
            const int64_t lowest = h + d->pad_top - d->kernel_height + 1;
            const int64_t first = lowest <= 0 ? 0 : (lowest + d->stride_height - 1) / d->stride_height;
            const int64_t last = (h + d->pad_top) / d->stride_height;
            first_row[h] = (int32_t)first;
            last_row[h] = (int32_t)(last < pool->out_height - 1 ? last : pool->out_height - 1);
        }
        if (lanes_fit) {
            /* One over each window's width and height inside the image, or over the kernel's. */
            column_weight = (float*)(last_row + d->in_height);
            row_weight = column_weight + pool->out_width;
            for (int64_t ow = 0; ow < pool->out_width; ow++)
                column_weight[ow] = 1.0f / (include_padding ? (float)d->kernel_width : column_width[ow]);
            for (int64_t oh = 0; oh < pool->out_height; oh++) {
                const hc_pool_window w = hc_pool_window_at(pool, oh, 0);
                row_weight[oh] = 1.0f / (float)(include_padding ? d->kernel_height : w.h1 - w.h0);
            }
        }
    }
    int finished = 0, failed = 0;
#if defined(__AVX512F__)
    if (d->algorithm == HC_POOL_MAX && is_2x2_stride2(pool)) {
        /* Blocks of planes; the blocks depend on the thread count, each plane's results do not. */
        const int64_t block = hc_dynamic_chunk(planes, threads), blocks = (planes + block - 1) / block;
#pragma omp parallel num_threads(threads) if (threads > 1)
        {
#pragma omp for schedule(dynamic, 1) nowait
            for (int64_t b = 0; b < blocks; b++) {
                const int64_t p0 = b * block, count = planes - p0 < block ? planes - p0 : block;
                if (max_backward_2x2s2_narrow_fits(pool)) {
                    max_backward_2x2s2_narrow(pool, diff_dst + p0 * out_plane, argmax + p0 * out_plane, diff_src + p0 * in_plane, count);
                } else {
                    max_backward_2x2s2_planes(pool, diff_dst + p0 * out_plane, argmax + p0 * out_plane, diff_src + p0 * in_plane, count);
                }
            }
            hc_parallel_join(&finished);
        }
        return HC_STATUS_OK;
    }
#endif
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
#pragma omp for schedule(dynamic, hc_dynamic_chunk(planes, threads)) nowait
        for (int64_t p = 0; p < planes; p++) {
            const float* dy = diff_dst + p * out_plane;
            float* dx = diff_src + p * in_plane;
            if (d->algorithm != HC_POOL_MAX) {
#if defined(__AVX512F__)
                if (rows_stride1) {
                    average_3x3s1_plane(pool, dy, rows_weight, dx);
                    continue;
                }
                if (rows_stride2) {
                    average_3x3s2_plane(pool, dy, rows_weight, dx);
                    continue;
                }
                if (lanes_fit) {
                    average_backward_plane_avx512(pool, &lanes, dy, column_weight, row_weight, first_row, last_row, dx);
                    continue;
                }
#endif
                float* scratch = hc_item_workspace(scratch_bytes, &failed);
                if (scratch == NULL) continue;
                average_backward_plane(pool, dy, dx, scratch, column_width, first_row, last_row);
            } else {
#if defined(__AVX512F__)
                if (rows_stride2) {
                    max_3x3s2_plane(pool, dy, argmax + p * out_plane, dx);
                    continue;
                }
#endif
                max_backward_plane(pool, dy, argmax + p * out_plane, dx);
            }
        }
        hc_parallel_join(&finished);
    }
    return failed ? hc_fail(HC_STATUS_OUT_OF_MEMORY, "out of memory for the pooling gradient's rows") : HC_STATUS_OK;
}

const hc_algorithm POOL_MAX_ARGMAX = {
    .name = POOL_MAX_ARGMAX_NAME, .isa = POOL_ISA, .accepts = accepts_max, .pack = NULL, .run = run_max_argmax};

#if defined(__AVX512F__)
/* The whole-row average kernels' window weights depend on the shape alone: built once, with the
 * plan (per call they were most of a small problem's time). */
static hc_status prepare_backward(hc_plan* plan) {
    const hc_pool2d* pool = hc_pool(plan);
    if (pool->desc.algorithm == HC_POOL_MAX || !(rows_kernel_fits(pool, 1) || rows_kernel_fits(pool, 2))) return HC_STATUS_OK;
    float* weight = hc_plan_packed(plan, (size_t)(ROWS_WEIGHT_ROWS * ROWS_WEIGHT_PITCH) * sizeof(float));
    if (weight == NULL) return hc_fail(HC_STATUS_OUT_OF_MEMORY, "out of memory for the pooling gradient's window weights");
    average_weights(pool, weight);
    return HC_STATUS_OK;
}
#define PREPARE_BACKWARD prepare_backward
#else
#define PREPARE_BACKWARD NULL
#endif

const hc_algorithm POOL_BACKWARD = {
    .name = POOL_BACKWARD_NAME, .isa = POOL_ISA, .accepts = hc_plan_accepts_any, .prepare = PREPARE_BACKWARD, .pack = NULL, .run = run_backward};
