/* Direct convolution, plain C: the always-correct fallback at the end of the algorithm list.
 * Each (image, output channel) pair is one task; tasks never share outputs, so the result
 * does not depend on the thread count. */
#include "conv2d_internal.h"

static bool accepts_any(const hc_conv2d* plan) {
    (void)plan;
    return true;
}

static hc_status run_direct_generic(const hc_conv2d* plan, const float* input, float* output) {
    const hc_conv2d_desc* d = &plan->desc;
    const int64_t in_per_group = d->in_channels / d->groups;
    const int64_t out_per_group = d->out_channels / d->groups;
    const int64_t image_size = d->in_height * d->in_width;
    const int64_t out_size = plan->out_height * plan->out_width;
    const int64_t filter_size = in_per_group * d->kernel_height * d->kernel_width;

#pragma omp parallel for collapse(2) schedule(dynamic, hc_dynamic_chunk(d->batch * d->out_channels, plan->base.num_threads)) num_threads(plan->base.num_threads)
    for (int64_t n = 0; n < d->batch; n++) {
        for (int64_t k = 0; k < d->out_channels; k++) {
            const int64_t group = k / out_per_group;
            const float* image = input + (n * d->in_channels + group * in_per_group) * image_size;
            const float* filter = plan->base.weights + k * filter_size;
            float* out = output + (n * d->out_channels + k) * out_size;
            const float bias = plan->base.bias != NULL ? plan->base.bias[k] : 0.0f;
            for (int64_t oh = 0; oh < plan->out_height; oh++) {
                for (int64_t ow = 0; ow < plan->out_width; ow++) {
                    float sum = bias;
                    for (int64_t c = 0; c < in_per_group; c++) {
                        for (int64_t r = 0; r < d->kernel_height; r++) {
                            const int64_t ih = oh * d->stride_height - d->pad_top + r * d->dilation_height;
                            const bool row_inside = ih >= 0 && ih < d->in_height;
                            const float* row = image + c * image_size + (row_inside ? ih : 0) * d->in_width;
                            const float* taps = filter + (c * d->kernel_height + r) * d->kernel_width;
                            for (int64_t s = 0; s < d->kernel_width; s++) {
                                const int64_t iw = ow * d->stride_width - d->pad_left + s * d->dilation_width;
                                /* Padding is multiplied, not skipped: 0 * a NaN or infinite weight is NaN (hpccnn.h). */
                                sum += (row_inside && iw >= 0 && iw < d->in_width ? row[iw] : 0.0f) * taps[s];
                            }
                        }
                    }
                    out[oh * plan->out_width + ow] = hc_activation_forward(d->activation, d->activation_alpha, sum);
                }
            }
        }
    }
    return HC_STATUS_OK;
}

HC_CONV2D_FORWARD_ALGORITHM(hc_conv2d_direct_generic, "direct_generic", HC_ISA_GENERIC, accepts_any, hc_conv2d_no_pack, run_direct_generic);
