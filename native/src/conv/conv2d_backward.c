/* Convolution backward passes: the activation's derivative, backward data as a forward
 * convolution (stride 1), and the plain C backward data and weights gradient that accept
 * everything.
 *
 * Determinism: every element of dL/dx and dL/dw is reduced by one thread in a fixed order; the
 * partition only decides which thread, so any thread count gives the same bits. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../eltwise/eltwise_internal.h"
#include "conv2d_internal.h"

const float* hc_conv2d_diff_pre_activation(const hc_conv2d* plan, const hc_args* args) {
    const hc_conv2d_desc* d = &plan->desc;
    return hc_eltwise_pre_activation(d->activation, d->activation_alpha, hc_arg_in(args, HC_ARG_DST), hc_arg_in(args, HC_ARG_DIFF_DST),
                                     plan->output_length, plan->base.isa, plan->base.num_threads);
}

int hc_conv2d_backward_threads(const hc_conv2d* plan) {
    const double flops = 2.0 * (double)plan->output_length * (double)hc_conv2d_taps_per_group(&plan->desc);
    return hc_threads_for_flops(flops, plan->base.num_threads);
}

hc_status hc_conv2d_weights_gradient_of(const hc_conv2d* plan, const hc_args* args, hc_conv2d_weights_gradient* gradient) {
    gradient->dz = hc_conv2d_diff_pre_activation(plan, args);
    if (gradient->dz == NULL) return HC_STATUS_OUT_OF_MEMORY;
    gradient->x = hc_arg_in(args, HC_ARG_SRC);
    gradient->dw = hc_arg_out(args, HC_ARG_DIFF_WEIGHTS);
    gradient->db = hc_arg_out(args, HC_ARG_DIFF_BIAS);
    gradient->threads = hc_conv2d_backward_threads(plan);
    return HC_STATUS_OK;
}

#define LANES 8

static inline float sum_lanes(const float lanes[LANES]) {
    float sum = 0.0f;
    for (int l = 0; l < LANES; l++) sum += lanes[l];
    return sum;
}

bool hc_any_non_finite(const float* v, int64_t count) {
    float lanes[LANES] = {0}; /* x * 0 is NaN exactly for infinite or NaN x; in lanes, so it vectorises */
    int64_t i = 0;
    for (; i + LANES <= count; i += LANES)
        for (int l = 0; l < LANES; l++) lanes[l] += v[i + l] * 0.0f;
    for (; i < count; i++) lanes[0] += v[i] * 0.0f;
    return isnan(sum_lanes(lanes));
}

/* dL/dx[n][c][i][j] = sum over the group's k, and taps (r, s) with i + pad_top - r*dh = oh*sh and
 * j + pad_left - s*dw = ow*sw inside the output, of dL/dz[n][k][oh][ow] * w[k][c][r][s]; summed
 * in (k, r, s) order. */
static float backward_data_element(const hc_conv2d* plan, const float* dz, int64_t n, int64_t c, int64_t i, int64_t j) {
    const hc_conv2d_desc* d = &plan->desc;
    const int64_t c_per_group = d->in_channels / d->groups, k_per_group = d->out_channels / d->groups;
    const int64_t g = c / c_per_group, cg = c % c_per_group, taps = d->kernel_height * d->kernel_width;
    const int64_t out_plane = plan->out_height * plan->out_width;
    float sum = 0.0f;
    for (int64_t k = g * k_per_group; k < (g + 1) * k_per_group; k++) {
        const float* grad = dz + (n * d->out_channels + k) * out_plane;
        const float* w = plan->base.weights + (k * c_per_group + cg) * taps;
        for (int64_t r = 0; r < d->kernel_height; r++) {
            const int64_t row = i + d->pad_top - r * d->dilation_height;
            if (row < 0 || row % d->stride_height != 0 || row / d->stride_height >= plan->out_height) continue;
            for (int64_t s = 0; s < d->kernel_width; s++) {
                const int64_t column = j + d->pad_left - s * d->dilation_width;
                if (column < 0 || column % d->stride_width != 0 || column / d->stride_width >= plan->out_width) continue;
                sum += grad[row / d->stride_height * plan->out_width + column / d->stride_width] * w[r * d->kernel_width + s];
            }
        }
    }
    return sum;
}

/* ---- backward data as a forward convolution ----
 * With stride 1, dL/dx[c][i][j] = sum over k, r, s of dL/dz[k][i + pad_top - r*dh][j + pad_left - s*dw]
 * * w[k][c][r][s], a forward convolution of dL/dz (in_channels <- out_channels) with the kernel
 * flipped (r -> kh-1-r, s -> kw-1-s) and padding dh*(kh-1) - pad_top above, likewise on every
 * side; its output is exactly the input's size. Within a group the weights are transposed. */

static hc_conv2d_desc forward_of_backward_desc(const hc_conv2d_desc* d) {
    const int64_t reach_h = d->dilation_height * (d->kernel_height - 1), reach_w = d->dilation_width * (d->kernel_width - 1);
    return (hc_conv2d_desc){
        .batch = d->batch,
        .in_channels = d->out_channels,
        .in_height = hc_output_size(d->in_height, d->kernel_height, 1, d->pad_top, d->pad_bottom, d->dilation_height),
        .in_width = hc_output_size(d->in_width, d->kernel_width, 1, d->pad_left, d->pad_right, d->dilation_width),
        .out_channels = d->in_channels,
        .kernel_height = d->kernel_height,
        .kernel_width = d->kernel_width,
        .stride_height = 1,
        .stride_width = 1,
        .pad_top = reach_h - d->pad_top,
        .pad_bottom = reach_h - d->pad_bottom,
        .pad_left = reach_w - d->pad_left,
        .pad_right = reach_w - d->pad_right,
        .dilation_height = d->dilation_height,
        .dilation_width = d->dilation_width,
        .groups = d->groups,
        .activation = HC_ACTIVATION_NONE,
        .activation_alpha = 0.0f,
    };
}

static bool accepts_as_forward(const hc_plan* base) {
    const hc_conv2d_desc* d = &hc_conv(base)->desc;
    return d->stride_height == 1 && d->stride_width == 1 &&
           d->pad_top <= d->dilation_height * (d->kernel_height - 1) && d->pad_bottom <= d->dilation_height * (d->kernel_height - 1) &&
           d->pad_left <= d->dilation_width * (d->kernel_width - 1) && d->pad_right <= d->dilation_width * (d->kernel_width - 1);
}

/* Creates the forward plan the backward pass runs through. */
static hc_status prepare_as_forward(hc_plan* base) {
    hc_conv2d* plan = hc_conv_mutable(base);
    const hc_conv2d_desc forward = forward_of_backward_desc(&plan->desc);
    const hc_plan_options options = {.num_threads = base->num_threads, .max_isa = base->isa};
    hc_status status = hc_conv2d_create(&forward, HC_DIRECTION_FORWARD_INFERENCE, NULL, 0, NULL, 0, &options, &plan->forward_of_backward);
    base->delegate = plan->forward_of_backward;
    return status;
}

/* Gives the forward plan the flipped, transposed weights. */
static hc_status pack_as_forward(hc_plan* base) {
    hc_conv2d* plan = hc_conv_mutable(base);
    const hc_conv2d_desc* d = &plan->desc;
    const int64_t groups = d->groups, k_per_group = d->out_channels / groups, c_per_group = d->in_channels / groups;
    const int64_t kh = d->kernel_height, kw = d->kernel_width, taps = kh * kw;
    float* flipped = malloc((size_t)plan->weights_length * sizeof(float));
    if (flipped == NULL) return hc_fail(HC_STATUS_OUT_OF_MEMORY, "out of memory transposing the weights");
    /* flipped[g*Cg + c][k][r][s] = w[g*Kg + k][c][kh-1-r][kw-1-s] */
    for (int64_t g = 0; g < groups; g++)
        for (int64_t c = 0; c < c_per_group; c++)
            for (int64_t k = 0; k < k_per_group; k++)
                for (int64_t t = 0; t < taps; t++)
                    flipped[((g * c_per_group + c) * k_per_group + k) * taps + t] =
                        base->weights[((g * k_per_group + k) * c_per_group + c) * taps + (taps - 1 - t)];
    hc_status status = hc_plan_set_weights(plan->forward_of_backward, flipped, plan->weights_length, NULL, 0);
    free(flipped);
    return status;
}

/* The forward convolution also multiplies its zero padding, which is no part of dL/dx: beside a
 * NaN or infinite weight that makes a NaN that the definition does not have (hpccnn.h). Such
 * elements, and only NaN ones, are computed again from the definition; a NaN that belongs there
 * comes out NaN again. */
static void recompute_nan_elements(const hc_conv2d* plan, const float* dz, float* dx) {
    const hc_conv2d_desc* d = &plan->desc;
    const int64_t in_plane = d->in_height * d->in_width;
    if (!hc_any_non_finite(dx, d->batch * d->in_channels * in_plane)) return;
    for (int64_t p = 0; p < d->batch * d->in_channels; p++)
        for (int64_t e = 0; e < in_plane; e++)
            if (isnan(dx[p * in_plane + e]))
                dx[p * in_plane + e] = backward_data_element(plan, dz, p / d->in_channels, p % d->in_channels, e / d->in_width, e % d->in_width);
}

static hc_status run_as_forward(const hc_plan* base, const hc_args* args) {
    const hc_conv2d* plan = hc_conv(base);
    const float* dz = hc_conv2d_diff_pre_activation(plan, args);
    if (dz == NULL) return HC_STATUS_OUT_OF_MEMORY;
    hc_args forward = {{0}};
    forward.at[HC_ARG_SRC] = (void*)dz;
    forward.at[HC_ARG_DST] = args->at[HC_ARG_DIFF_SRC];
    const hc_status status = hc_plan_run_unchecked(plan->forward_of_backward, &forward);
    if (status == HC_STATUS_OK) recompute_nan_elements(plan, dz, hc_arg_out(args, HC_ARG_DIFF_SRC));
    return status;
}

const hc_algorithm hc_conv2d_backward_data_as_forward = {
    .name = "as_forward", .isa = HC_ISA_GENERIC, .accepts = accepts_as_forward, .pack = pack_as_forward, .run = run_as_forward,
    .prepare = prepare_as_forward};

/* ---- backward data, plain C ----
 * backward_data_element for every element; one (image, input channel) plane per task. */
static hc_status run_backward_data_generic(const hc_plan* base, const hc_args* args) {
    const hc_conv2d* plan = hc_conv(base);
    const hc_conv2d_desc* d = &plan->desc;
    const float* dz = hc_conv2d_diff_pre_activation(plan, args);
    if (dz == NULL) return HC_STATUS_OUT_OF_MEMORY;
    float* dx = hc_arg_out(args, HC_ARG_DIFF_SRC);
    const int64_t in_plane = d->in_height * d->in_width, planes = d->batch * d->in_channels;
    const int threads = hc_conv2d_backward_threads(plan);
    int finished = 0;
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
#pragma omp for schedule(dynamic, hc_dynamic_chunk(planes, threads)) nowait
        for (int64_t p = 0; p < planes; p++) {
            float* out = dx + p * in_plane;
            for (int64_t i = 0; i < d->in_height; i++)
                for (int64_t j = 0; j < d->in_width; j++) out[i * d->in_width + j] = backward_data_element(plan, dz, p / d->in_channels, p % d->in_channels, i, j);
        }
        hc_parallel_join(&finished);
    }
    return HC_STATUS_OK;
}

const hc_algorithm hc_conv2d_backward_data_generic = {
    .name = "backward_data_generic", .isa = HC_ISA_GENERIC, .accepts = hc_plan_accepts_any, .pack = NULL, .run = run_backward_data_generic};

/* ---- weights gradient, plain C ----
 * dL/dw[k][c][r][s] = sum over n, oh, ow of dL/dz[n][k][oh][ow] * x[n][g*Cg + c][oh*sh - pad_top + r*dh][ow*sw - pad_left + s*dw]
 * and dL/db[k] = sum over n, oh, ow of dL/dz[n][k][oh][ow]. Each sum runs in 8 fixed lanes (ow mod 8
 * within the row's valid columns, which the compiler vectorises) added in order at the end. One
 * output channel per task. */
/* lanes[i mod 8] += a[i] * b[i * stride] for i < count. */
static inline void dot_into_lanes(const float* a, const float* b, int64_t stride, int64_t count, float lanes[LANES]) {
    int64_t i = 0;
    if (stride == 1) {
        for (; i + LANES <= count; i += LANES)
            for (int l = 0; l < LANES; l++) lanes[l] += a[i + l] * b[i + l];
    }
    for (int l = 0; i < count; i++, l = (l + 1) % LANES) lanes[l] += a[i] * b[i * stride];
}

void hc_conv2d_weights_gradient_nan_over_padding(const hc_conv2d* plan, const float* dz, float* dw) {
    const hc_conv2d_desc* d = &plan->desc;
    if (!hc_any_non_finite(dz, plan->output_length)) return;
    const int64_t c_per_group = d->in_channels / d->groups, out_plane = plan->out_height * plan->out_width;
    for (int64_t k = 0; k < d->out_channels; k++)
        for (int64_t r = 0; r < d->kernel_height; r++)
            for (int64_t s = 0; s < d->kernel_width; s++) {
                bool nan_over_padding = false;
                for (int64_t n = 0; n < d->batch && !nan_over_padding; n++)
                    for (int64_t oh = 0; oh < plan->out_height && !nan_over_padding; oh++) {
                        const int64_t ih = oh * d->stride_height - d->pad_top + r * d->dilation_height;
                        const bool row_in_padding = ih < 0 || ih >= d->in_height;
                        for (int64_t ow = 0; ow < plan->out_width && !nan_over_padding; ow++) {
                            const int64_t iw = ow * d->stride_width - d->pad_left + s * d->dilation_width;
                            nan_over_padding = (row_in_padding || iw < 0 || iw >= d->in_width) &&
                                               !isfinite(dz[(n * d->out_channels + k) * out_plane + oh * plan->out_width + ow]);
                        }
                    }
                if (nan_over_padding)
                    for (int64_t c = 0; c < c_per_group; c++) dw[((k * c_per_group + c) * d->kernel_height + r) * d->kernel_width + s] = NAN;
            }
}

static hc_status run_backward_weights_generic(const hc_plan* base, const hc_args* args) {
    const hc_conv2d* plan = hc_conv(base);
    const hc_conv2d_desc* d = &plan->desc;
    hc_conv2d_weights_gradient gradient;
    if (hc_conv2d_weights_gradient_of(plan, args, &gradient) != HC_STATUS_OK) return HC_STATUS_OUT_OF_MEMORY;
    const float* dz = gradient.dz;
    const float* x = gradient.x;
    float* dw = gradient.dw;
    float* db = gradient.db;
    const int threads = gradient.threads;
    const int64_t c_per_group = d->in_channels / d->groups, k_per_group = d->out_channels / d->groups;
    const int64_t in_plane = d->in_height * d->in_width, out_w = plan->out_width, out_plane = plan->out_height * out_w;
    const int64_t sw = d->stride_width;
    int finished = 0;
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
#pragma omp for schedule(dynamic, 1) nowait
        for (int64_t k = 0; k < d->out_channels; k++) {
            const int64_t g = k / k_per_group;
            if (db != NULL) {
                float lanes[LANES] = {0};
                for (int64_t n = 0; n < d->batch; n++) {
                    const float* grad = dz + (n * d->out_channels + k) * out_plane;
                    for (int64_t o = 0; o < out_plane; o++) lanes[o % LANES] += grad[o];
                }
                db[k] = sum_lanes(lanes);
            }
            for (int64_t c = 0; c < c_per_group; c++)
                for (int64_t r = 0; r < d->kernel_height; r++)
                    for (int64_t s = 0; s < d->kernel_width; s++) {
                        /* Output columns whose tap reads inside the image: [first, last). */
                        const int64_t shift = d->pad_left - s * d->dilation_width, reach = d->in_width - 1 + shift;
                        const int64_t first = shift > 0 ? (shift + sw - 1) / sw : 0;
                        const int64_t last = reach < 0 ? 0 : (reach / sw + 1 < out_w ? reach / sw + 1 : out_w);
                        float lanes[LANES] = {0};
                        for (int64_t n = 0; n < d->batch && first < last; n++) {
                            const float* grad = dz + (n * d->out_channels + k) * out_plane;
                            const float* image = x + (n * d->in_channels + g * c_per_group + c) * in_plane;
                            for (int64_t oh = 0; oh < plan->out_height; oh++) {
                                const int64_t ih = oh * d->stride_height - d->pad_top + r * d->dilation_height;
                                if (ih < 0 || ih >= d->in_height) continue;
                                dot_into_lanes(grad + oh * out_w + first, image + ih * d->in_width + first * sw - shift, sw, last - first, lanes);
                            }
                        }
                        dw[((k * c_per_group + c) * d->kernel_height + r) * d->kernel_width + s] = sum_lanes(lanes);
                    }
        }
        hc_parallel_join(&finished);
    }
    hc_conv2d_weights_gradient_nan_over_padding(plan, dz, dw);
    return HC_STATUS_OK;
}

const hc_algorithm hc_conv2d_backward_weights_generic = {
    .name = "backward_weights_generic", .isa = HC_ISA_GENERIC, .accepts = hc_plan_accepts_any, .pack = NULL, .run = run_backward_weights_generic};
