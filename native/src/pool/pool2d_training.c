/* Pooling for training, plain C: max pooling that saves its argmax, and the backward pass of
 * every algorithm. One (image, channel) plane per task; within a plane the outputs are visited
 * in order, so results do not depend on the thread count. */
#include <math.h>
#include <string.h>

#include "pool2d_internal.h"

static bool accepts_max(const hc_plan* plan) { return hc_pool(plan)->desc.algorithm == HC_POOL_MAX; }

static bool accepts_any(const hc_plan* plan) {
    (void)plan;
    return true;
}

static int threads_for(const hc_pool2d* pool) {
    const hc_pool2d_desc* d = &pool->desc;
    /* Below 32K input elements a parallel region costs more than it saves. */
    return (double)d->batch * (double)d->channels * (double)(d->in_height * d->in_width) < 32768.0 ? 1 : pool->base.num_threads;
}

/* The first maximum in row-major window order: ties keep the earlier element, so every backend
 * routes the gradient to the same input. */
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
            for (int64_t oh = 0; oh < pool->out_height; oh++)
                for (int64_t ow = 0; ow < pool->out_width; ow++) {
                    const hc_pool_window w = hc_pool_window_at(pool, oh, ow);
                    int64_t best_index = w.h0 * d->in_width + w.w0;
                    float best = x[best_index];
                    for (int64_t h = w.h0; h < w.h1; h++)
                        for (int64_t c = w.w0; c < w.w1; c++)
                            if (x[h * d->in_width + c] > best) {
                                best = x[h * d->in_width + c];
                                best_index = h * d->in_width + c;
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

/* dx of one plane for the averages: each input element gathers dy / window size from every
 * window holding it, windows in row-major order. */
static void average_backward_plane(const hc_pool2d* pool, const float* dy, float* dx) {
    const hc_pool2d_desc* d = &pool->desc;
    const bool include_padding = d->algorithm == HC_POOL_AVERAGE_INCLUDE_PADDING;
    const int64_t sh = d->stride_height, sw = d->stride_width;
    for (int64_t h = 0; h < d->in_height; h++) {
        /* Windows whose rows [oh*sh - pad_top, + kernel_height) hold row h. */
        const int64_t lowest = h + d->pad_top - d->kernel_height + 1;
        const int64_t oh0 = lowest <= 0 ? 0 : (lowest + sh - 1) / sh;
        const int64_t oh1 = (h + d->pad_top) / sh < pool->out_height - 1 ? (h + d->pad_top) / sh : pool->out_height - 1;
        for (int64_t c = 0; c < d->in_width; c++) {
            const int64_t leftmost = c + d->pad_left - d->kernel_width + 1;
            const int64_t ow0 = leftmost <= 0 ? 0 : (leftmost + sw - 1) / sw;
            const int64_t ow1 = (c + d->pad_left) / sw < pool->out_width - 1 ? (c + d->pad_left) / sw : pool->out_width - 1;
            float sum = 0.0f;
            for (int64_t oh = oh0; oh <= oh1; oh++)
                for (int64_t ow = ow0; ow <= ow1; ow++) {
                    const hc_pool_window w = hc_pool_window_at(pool, oh, ow);
                    const float count = include_padding ? (float)(d->kernel_height * d->kernel_width) : (float)((w.h1 - w.h0) * (w.w1 - w.w0));
                    sum += dy[oh * pool->out_width + ow] / count;
                }
            dx[h * d->in_width + c] = sum;
        }
    }
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
    int finished = 0;
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
#pragma omp for schedule(dynamic, hc_dynamic_chunk(planes, threads)) nowait
        for (int64_t p = 0; p < planes; p++) {
            const float* dy = diff_dst + p * out_plane;
            float* dx = diff_src + p * in_plane;
            if (d->algorithm != HC_POOL_MAX) {
                average_backward_plane(pool, dy, dx);
                continue;
            }
            memset(dx, 0, (size_t)in_plane * sizeof(float));
            const int32_t* index = argmax + p * out_plane;
            /* An index from elsewhere than a forward pass of this plan is ignored, never followed out of the plane. */
            for (int64_t o = 0; o < out_plane; o++)
                if (index[o] >= 0 && index[o] < in_plane) dx[index[o]] += dy[o];
        }
        hc_parallel_join(&finished);
    }
    return HC_STATUS_OK;
}

const hc_algorithm hc_pool2d_max_argmax_generic = {
    .name = "max_argmax_generic", .isa = HC_ISA_GENERIC, .accepts = accepts_max, .pack = NULL, .run = run_max_argmax};

const hc_algorithm hc_pool2d_backward_generic = {
    .name = "backward_generic", .isa = HC_ISA_GENERIC, .accepts = accepts_any, .pack = NULL, .run = run_backward};
