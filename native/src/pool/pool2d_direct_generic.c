/* Pooling windows in plain C. One (image, channel) plane per task. Windows always touch the
 * image because creation limits padding to half the kernel. */
#include <math.h>

#include "pool2d_internal.h"

static bool accepts_any(const hc_pool2d* plan) {
    (void)plan;
    return true;
}

static int64_t max_i64(int64_t a, int64_t b) { return a > b ? a : b; }
static int64_t min_i64(int64_t a, int64_t b) { return a < b ? a : b; }

static hc_status run_direct_generic(const hc_pool2d* plan, const float* input, float* output) {
    const hc_pool2d_desc* d = &plan->desc;
    const int64_t planes = d->batch * d->channels;
    const int64_t in_size = d->in_height * d->in_width;
    const int64_t out_size = plan->out_height * plan->out_width;
    const float window_size = (float)(d->kernel_height * d->kernel_width);

#pragma omp parallel for schedule(dynamic, hc_dynamic_chunk(planes, plan->base.num_threads)) num_threads(plan->base.num_threads)
    for (int64_t p = 0; p < planes; p++) {
        const float* in = input + p * in_size;
        float* out = output + p * out_size;
        for (int64_t oh = 0; oh < plan->out_height; oh++) {
            const int64_t top = oh * d->stride_height - d->pad_top;
            const int64_t h0 = max_i64(top, 0), h1 = min_i64(top + d->kernel_height, d->in_height);
            for (int64_t ow = 0; ow < plan->out_width; ow++) {
                const int64_t left = ow * d->stride_width - d->pad_left;
                const int64_t w0 = max_i64(left, 0), w1 = min_i64(left + d->kernel_width, d->in_width);
                float value;
                if (d->algorithm == HC_POOL_MAX) {
                    value = -INFINITY;
                    for (int64_t h = h0; h < h1; h++)
                        for (int64_t w = w0; w < w1; w++)
                            value = hc_max_nan(value, in[h * d->in_width + w]);
                } else {
                    float sum = 0.0f;
                    for (int64_t h = h0; h < h1; h++)
                        for (int64_t w = w0; w < w1; w++)
                            sum += in[h * d->in_width + w];
                    const float count = d->algorithm == HC_POOL_AVERAGE_INCLUDE_PADDING
                                            ? window_size
                                            : (float)((h1 - h0) * (w1 - w0));
                    value = sum / count;
                }
                out[oh * plan->out_width + ow] = value;
            }
        }
    }
    return HC_STATUS_OK;
}

HC_POOL2D_FORWARD_ALGORITHM(hc_pool2d_direct_generic, "direct_generic", HC_ISA_GENERIC, accepts_any, run_direct_generic);
