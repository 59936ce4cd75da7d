/* Convolution plans: validation, the ordered algorithm list, run and destroy. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "conv2d_internal.h"

/* Per direction, fastest first; a plain C algorithm that accepts everything comes last. */
static const hc_algorithm* const forward_algorithms[] = {
    &hc_conv2d_depthwise_avx512,
    &hc_conv2d_depthwise_avx2,
    &hc_conv2d_gemm_1x1_8x32_avx512,
    &hc_conv2d_lanes_6x4_avx512,
    &hc_conv2d_direct_flat_avx512,
    &hc_conv2d_direct_blocked_6x64_avx512,
    &hc_conv2d_direct_plain_6x64_avx512,
    &hc_conv2d_gemm_rows_window_8x32_avx512,
    &hc_conv2d_gemm_implicit_8x32_avx512,
    &hc_conv2d_gemm_1x1_6x16_avx2,
    &hc_conv2d_gemm_implicit_6x16_avx2,
    &hc_conv2d_direct_generic,
    NULL,
};

static const hc_algorithm* const backward_data_algorithms[] = {
    &hc_conv2d_backward_data_as_forward,
    &hc_conv2d_backward_data_gemm_col2im_8x32_avx512,
    &hc_conv2d_backward_data_gemm_col2im_6x16_avx2,
    &hc_conv2d_backward_data_gemm_col2im_4x16_generic,
    &hc_conv2d_backward_data_generic,
    NULL,
};

static const hc_algorithm* const backward_weights_algorithms[] = {
    &hc_conv2d_backward_weights_depthwise_avx512,
    &hc_conv2d_backward_weights_lanes_avx512,
    &hc_conv2d_backward_weights_direct_avx512,
    &hc_conv2d_backward_weights_taps_8x32_avx512,
    &hc_conv2d_backward_weights_im2col_gemm_8x32_avx512,
    &hc_conv2d_backward_weights_im2col_gemm_6x16_avx2,
    &hc_conv2d_backward_weights_im2col_gemm_4x16_generic,
    &hc_conv2d_backward_weights_generic,
    NULL,
};

static void describe(const hc_plan* plan, char* text, size_t size) { hc_describe_conv2d(&hc_conv(plan)->desc, text, size); }

static void release(hc_plan* plan) { hc_plan_destroy(hc_conv_mutable(plan)->forward_of_backward); }

static const hc_operation conv2d_operation = {
    .name = "conv2d",
    .algorithms = {forward_algorithms, forward_algorithms, backward_data_algorithms, backward_weights_algorithms},
    .describe = describe,
    .release = release,
};

static bool check_desc_sizes(const hc_conv2d_desc* d) {
    return hc_check_dimension(d->batch, 1, "desc->batch") &&
           hc_check_dimension(d->in_channels, 1, "desc->in_channels") &&
           hc_check_dimension(d->in_height, 1, "desc->in_height") &&
           hc_check_dimension(d->in_width, 1, "desc->in_width") &&
           hc_check_dimension(d->out_channels, 1, "desc->out_channels") &&
           hc_check_dimension(d->kernel_height, 1, "desc->kernel_height") &&
           hc_check_dimension(d->kernel_width, 1, "desc->kernel_width") &&
           hc_check_dimension(d->stride_height, 1, "desc->stride_height") &&
           hc_check_dimension(d->stride_width, 1, "desc->stride_width") &&
           hc_check_dimension(d->pad_top, 0, "desc->pad_top") &&
           hc_check_dimension(d->pad_bottom, 0, "desc->pad_bottom") &&
           hc_check_dimension(d->pad_left, 0, "desc->pad_left") &&
           hc_check_dimension(d->pad_right, 0, "desc->pad_right") &&
           hc_check_dimension(d->dilation_height, 1, "desc->dilation_height") &&
           hc_check_dimension(d->dilation_width, 1, "desc->dilation_width") &&
           hc_check_dimension(d->groups, 1, "desc->groups");
}

static hc_status check_desc(const hc_conv2d_desc* d, hc_direction direction, hc_conv2d* shape) {
    if (!check_desc_sizes(d)) return HC_STATUS_INVALID_ARGUMENT;
    if (d->in_channels % d->groups != 0)
        return hc_fail(HC_STATUS_INVALID_ARGUMENT,
                       "desc->groups (%" PRId64 ") must divide desc->in_channels (%" PRId64 ")",
                       d->groups, d->in_channels);
    if (d->out_channels % d->groups != 0)
        return hc_fail(HC_STATUS_INVALID_ARGUMENT,
                       "desc->groups (%" PRId64 ") must divide desc->out_channels (%" PRId64 ")",
                       d->groups, d->out_channels);
    if (!hc_check_activation(d->activation, d->activation_alpha, direction, "desc->activation_alpha")) return HC_STATUS_INVALID_ARGUMENT;

    shape->out_height = hc_output_size(d->in_height, d->kernel_height, d->stride_height,
                                       d->pad_top, d->pad_bottom, d->dilation_height);
    if (shape->out_height <= 0)
        return hc_fail(HC_STATUS_INVALID_ARGUMENT,
                       "desc->kernel_height %" PRId64 " with dilation %" PRId64
                       " spans more than the padded input height %" PRId64 " + %" PRId64 " + %" PRId64,
                       d->kernel_height, d->dilation_height, d->pad_top, d->in_height, d->pad_bottom);
    shape->out_width = hc_output_size(d->in_width, d->kernel_width, d->stride_width,
                                      d->pad_left, d->pad_right, d->dilation_width);
    if (shape->out_width <= 0)
        return hc_fail(HC_STATUS_INVALID_ARGUMENT,
                       "desc->kernel_width %" PRId64 " with dilation %" PRId64
                       " spans more than the padded input width %" PRId64 " + %" PRId64 " + %" PRId64,
                       d->kernel_width, d->dilation_width, d->pad_left, d->in_width, d->pad_right);

    int64_t t;
    if (!hc_checked_mul(d->batch, d->in_channels, &t, "batch * in_channels * in_height * in_width") ||
        !hc_checked_mul(t, d->in_height, &t, "batch * in_channels * in_height * in_width") ||
        !hc_checked_mul(t, d->in_width, &shape->input_length, "batch * in_channels * in_height * in_width"))
        return HC_STATUS_INVALID_ARGUMENT;
    if (!hc_checked_mul(d->batch, d->out_channels, &t, "batch * out_channels * out_height * out_width") ||
        !hc_checked_mul(t, shape->out_height, &t, "batch * out_channels * out_height * out_width") ||
        !hc_checked_mul(t, shape->out_width, &shape->output_length, "batch * out_channels * out_height * out_width"))
        return HC_STATUS_INVALID_ARGUMENT;
    if (!hc_checked_mul(d->out_channels, d->in_channels / d->groups, &t, "weights size") ||
        !hc_checked_mul(t, d->kernel_height, &t, "weights size") ||
        !hc_checked_mul(t, d->kernel_width, &shape->weights_length, "weights size"))
        return HC_STATUS_INVALID_ARGUMENT;
    /* Byte counts must fit too: the kernels index with int64 and allocate with size_t. */
    if (!hc_checked_mul(shape->input_length, (int64_t)sizeof(float), &t, "input size in bytes") ||
        !hc_checked_mul(shape->output_length, (int64_t)sizeof(float), &t, "output size in bytes") ||
        !hc_checked_mul(shape->weights_length, (int64_t)sizeof(float), &t, "weights size in bytes"))
        return HC_STATUS_INVALID_ARGUMENT;
    return HC_STATUS_OK;
}

/* The buffers each direction reads and writes. The backward passes read the forward output DST
 * to differentiate the activation (optional without one). */
static void add_args(hc_conv2d* conv, hc_direction direction) {
    hc_plan* plan = &conv->base;
    const bool activated = conv->desc.activation != HC_ACTIVATION_NONE;
    switch (direction) {
    case HC_DIRECTION_FORWARD_INFERENCE:
    case HC_DIRECTION_FORWARD_TRAINING:
        hc_plan_add_arg(plan, HC_ARG_SRC, false, false, conv->input_length);
        hc_plan_add_arg(plan, HC_ARG_DST, true, false, conv->output_length);
        break;
    case HC_DIRECTION_BACKWARD_DATA:
        hc_plan_add_arg(plan, HC_ARG_DIFF_DST, false, false, conv->output_length);
        hc_plan_add_arg(plan, HC_ARG_DST, false, !activated, conv->output_length);
        hc_plan_add_arg(plan, HC_ARG_DIFF_SRC, true, false, conv->input_length);
        break;
    case HC_DIRECTION_BACKWARD_WEIGHTS:
        hc_plan_add_arg(plan, HC_ARG_SRC, false, false, conv->input_length);
        hc_plan_add_arg(plan, HC_ARG_DIFF_DST, false, false, conv->output_length);
        hc_plan_add_arg(plan, HC_ARG_DST, false, !activated, conv->output_length);
        hc_plan_add_arg(plan, HC_ARG_DIFF_WEIGHTS, true, false, conv->weights_length);
        hc_plan_add_arg(plan, HC_ARG_DIFF_BIAS, true, true, conv->desc.out_channels);
        break;
    }
    if (direction != HC_DIRECTION_BACKWARD_WEIGHTS) {
        plan->weights_length = conv->weights_length;
        plan->bias_length = conv->desc.out_channels;
    }
}

hc_status hc_conv2d_create(const hc_conv2d_desc* desc, hc_direction direction,
                           const float* weights, int64_t weights_length,
                           const float* bias, int64_t bias_length,
                           const hc_plan_options* options, hc_plan** plan) {
    hc_clear_error();
    if (!hc_check_not_null(plan, "plan")) return HC_STATUS_INVALID_ARGUMENT;
    *plan = NULL;
    if (!hc_check_not_null(desc, "desc")) return HC_STATUS_INVALID_ARGUMENT;
    const double start = hc_verbose() ? hc_now_ms() : 0.0;
    hc_conv2d shape = {.desc = *desc};
    hc_status status = check_desc(desc, direction, &shape);
    if (status != HC_STATUS_OK) return status;
    hc_conv2d* created = calloc(1, sizeof *created);
    if (created == NULL) return hc_fail(HC_STATUS_OUT_OF_MEMORY, "out of memory allocating a convolution plan");
    *created = shape;
    status = hc_plan_begin(&created->base, &conv2d_operation, direction, options);
    if (status == HC_STATUS_OK) {
        add_args(created, direction);
        status = hc_plan_finish(&created->base, weights, weights_length, bias, bias_length, start);
    }
    if (status != HC_STATUS_OK) {
        hc_plan_destroy(&created->base);
        return status;
    }
    *plan = &created->base;
    return HC_STATUS_OK;
}

void hc_conv2d_copy_pitched(const hc_conv2d* plan, const float* image, int64_t channels, int64_t pitch, int64_t plane_floats, float* out) {
    const hc_conv2d_desc* d = &plan->desc;
    const int64_t rows = plan->out_height + (d->kernel_height - 1) * d->dilation_height;
    int64_t count = d->in_width; /* the columns that land inside the pitch (padding is never negative) */
    if (d->pad_left + count > pitch) count = pitch - d->pad_left;
    for (int64_t c = 0; c < channels; c++) {
        float* plane = out + c * plane_floats;
        memset(plane, 0, (size_t)plane_floats * sizeof(float));
        const float* source = image + c * d->in_height * d->in_width;
        for (int64_t i = 0; i < rows; i++) {
            const int64_t ih = i - d->pad_top;
            if (ih >= 0 && ih < d->in_height && count > 0)
                memcpy(plane + i * pitch + d->pad_left, source + ih * d->in_width, (size_t)count * sizeof(float));
        }
    }
}
