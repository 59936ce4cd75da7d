/* The phase-split window the GEMM weights gradients read their im2col rows from
 * (conv2d_internal.h: hc_conv2d_phase_window). */
#include "conv2d_internal.h"

static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

int64_t hc_conv2d_taps_per_group(const hc_conv2d_desc* d) { return d->in_channels / d->groups * d->kernel_height * d->kernel_width; }

hc_conv2d_phase_window hc_conv2d_window_of(const hc_conv2d* plan) {
    const hc_conv2d_desc* d = &plan->desc;
    const int64_t rows = plan->out_height + (d->kernel_height - 1) * d->dilation_height / d->stride_height;
    const int64_t pitch = plan->out_width + (d->kernel_width - 1) * d->dilation_width / d->stride_width;
    return (hc_conv2d_phase_window){.rows = rows, .pitch = pitch, .plane = hc_saturating_product(rows, pitch, 1, 1)};
}

int64_t hc_conv2d_window_floats(const hc_conv2d* plan) {
    const hc_conv2d_desc* d = &plan->desc;
    return hc_saturating_product(d->in_channels / d->groups, d->stride_height, d->stride_width, hc_conv2d_window_of(plan).plane);
}

void hc_conv2d_window_tap_offsets(const hc_conv2d* plan, int64_t* offsets) {
    const hc_conv2d_desc* d = &plan->desc;
    const hc_conv2d_phase_window w = hc_conv2d_window_of(plan);
    const int64_t sh = d->stride_height, sw = d->stride_width, taps = d->kernel_height * d->kernel_width;
    for (int64_t tap = 0; tap < hc_conv2d_taps_per_group(d); tap++) {
        const int64_t c = tap / taps, row = tap % taps / d->kernel_width * d->dilation_height;
        const int64_t column = tap % d->kernel_width * d->dilation_width;
        offsets[tap] = ((c * sh + row % sh) * sw + column % sw) * w.plane + row / sh * w.pitch + column / sw;
    }
}

void hc_conv2d_fill_window(const hc_conv2d* plan, const float* x, float* window, int64_t c_begin, int64_t c_end) {
    const hc_conv2d_desc* d = &plan->desc;
    const hc_conv2d_phase_window w = hc_conv2d_window_of(plan);
    const int64_t sh = d->stride_height, sw = d->stride_width;
    for (int64_t c = c_begin; c < c_end; c++)
        for (int64_t ph = 0; ph < sh; ph++)
            for (int64_t pc = 0; pc < sw; pc++) {
                /* Columns j with 0 <= j*sw + pc - pad_left < in_width: [first, last). */
                const int64_t lead = d->pad_left - pc, reach = d->in_width - 1 + d->pad_left - pc;
                const int64_t first = lead > 0 ? min64(w.pitch, ceil_div(lead, sw)) : 0;
                const int64_t last = reach < 0 ? 0 : min64(w.pitch, reach / sw + 1);
                float* plane = window + ((c * sh + ph) * sw + pc) * w.plane;
                for (int64_t i = 0; i < w.rows; i++) {
                    float* out = plane + i * w.pitch;
                    const int64_t ih = i * sh + ph - d->pad_top;
                    int64_t j = 0;
                    if (ih >= 0 && ih < d->in_height && first < last) {
                        const float* in = x + (c * d->in_height + ih) * d->in_width - d->pad_left + pc;
                        for (; j < first; j++) out[j] = 0.0f;
                        for (; j < last; j++) out[j] = in[j * sw];
                    }
                    for (; j < w.pitch; j++) out[j] = 0.0f;
                }
            }
}

void hc_conv2d_bias_gradient(const hc_conv2d* plan, const float* dz, float* db, int threads) {
    const hc_conv2d_desc* d = &plan->desc;
    const int64_t pixels = plan->out_height * plan->out_width;
    int finished = 0;
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
#pragma omp for schedule(static) nowait
        for (int64_t k = 0; k < d->out_channels; k++) {
            float lanes[16] = {0};
            for (int64_t n = 0; n < d->batch; n++) {
                const float* plane = dz + (n * d->out_channels + k) * pixels;
                int64_t p = 0;
                for (; p + 16 <= pixels; p += 16)
                    for (int l = 0; l < 16; l++) lanes[l] += plane[p + l];
                for (int l = 0; p < pixels; p++, l++) lanes[l] += plane[p];
            }
            float sum = 0.0f;
            for (int l = 0; l < 16; l++) sum += lanes[l];
            db[k] = sum;
        }
        hc_parallel_join(&finished);
    }
}
