/* Convolution plans: validation, the ordered algorithm list, run and destroy. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "conv2d_internal.h"

/* Fastest first; the generic direct convolution accepts everything and comes last. */
static const hc_conv2d_algorithm* const conv2d_algorithms[] = {
    &hc_conv2d_depthwise_avx512,
    &hc_conv2d_depthwise_avx2,
    &hc_conv2d_gemm_1x1_8x32_avx512,
    &hc_conv2d_direct_blocked_6x64_avx512,
    &hc_conv2d_direct_plain_6x64_avx512,
    &hc_conv2d_gemm_rows_window_8x32_avx512,
    &hc_conv2d_gemm_implicit_8x32_avx512,
    &hc_conv2d_gemm_1x1_6x16_avx2,
    &hc_conv2d_gemm_implicit_6x16_avx2,
    &hc_conv2d_direct_generic,
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

static hc_status check_desc(const hc_conv2d_desc* d, hc_conv2d* shape) {
    if (!check_desc_sizes(d)) return HC_STATUS_INVALID_ARGUMENT;
    if (d->in_channels % d->groups != 0)
        return hc_fail(HC_STATUS_INVALID_ARGUMENT,
                       "desc->groups (%" PRId64 ") must divide desc->in_channels (%" PRId64 ")",
                       d->groups, d->in_channels);
    if (d->out_channels % d->groups != 0)
        return hc_fail(HC_STATUS_INVALID_ARGUMENT,
                       "desc->groups (%" PRId64 ") must divide desc->out_channels (%" PRId64 ")",
                       d->groups, d->out_channels);
    if (d->activation != HC_ACTIVATION_NONE && d->activation != HC_ACTIVATION_RELU &&
        d->activation != HC_ACTIVATION_LEAKY_RELU)
        return hc_fail(HC_STATUS_INVALID_ARGUMENT, "desc->activation has unknown value %d",
                       (int)d->activation);
    if (d->activation == HC_ACTIVATION_LEAKY_RELU && !isfinite(d->activation_alpha))
        return hc_fail(HC_STATUS_INVALID_ARGUMENT, "desc->activation_alpha must be finite");

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

static float* copy_floats(const float* source, int64_t count) {
    float* copy = malloc((size_t)count * sizeof(float));
    if (copy != NULL) memcpy(copy, source, (size_t)count * sizeof(float));
    return copy;
}

hc_status hc_conv2d_create(const hc_conv2d_desc* desc,
                           const float* weights, int64_t weights_length,
                           const float* bias, int64_t bias_length,
                           const hc_plan_options* options,
                           hc_conv2d** plan) {
    hc_clear_error();
    if (!hc_check_not_null(plan, "plan")) return HC_STATUS_INVALID_ARGUMENT;
    *plan = NULL;
    if (!hc_check_not_null(desc, "desc")) return HC_STATUS_INVALID_ARGUMENT;

    hc_conv2d shape = {.desc = *desc};
    hc_status status = check_desc(desc, &shape);
    if (status != HC_STATUS_OK) return status;
    if (!hc_check_not_null(weights, "weights") ||
        !hc_check_length(weights_length, shape.weights_length, "weights"))
        return HC_STATUS_INVALID_ARGUMENT;
    if (bias == NULL && bias_length != 0)
        return hc_fail(HC_STATUS_INVALID_ARGUMENT,
                       "bias is NULL but bias_length is %" PRId64 " (use 0 for no bias)", bias_length);
    if (bias != NULL && !hc_check_length(bias_length, desc->out_channels, "bias"))
        return HC_STATUS_INVALID_ARGUMENT;
    if (!hc_resolve_num_threads(options, &shape.num_threads) || !hc_resolve_isa(options, &shape.isa))
        return HC_STATUS_INVALID_ARGUMENT;

    const double start = hc_verbose() ? hc_now_ms() : 0.0;
    for (size_t i = 0; i < sizeof conv2d_algorithms / sizeof conv2d_algorithms[0]; i++) {
        if (conv2d_algorithms[i]->isa <= shape.isa && conv2d_algorithms[i]->accepts(&shape)) {
            shape.algorithm = conv2d_algorithms[i];
            break;
        }
    }
    if (shape.algorithm == NULL)
        return hc_fail(HC_STATUS_INTERNAL, "no convolution algorithm accepted the problem");

    hc_conv2d* created = malloc(sizeof *created);
    if (created != NULL) {
        *created = shape;
        created->weights = copy_floats(weights, shape.weights_length);
        created->bias = bias != NULL ? copy_floats(bias, desc->out_channels) : NULL;
    }
    if (created == NULL || created->weights == NULL || (bias != NULL && created->bias == NULL)) {
        hc_conv2d_destroy(created);
        return hc_fail(HC_STATUS_OUT_OF_MEMORY, "out of memory copying %" PRId64 " weights",
                       shape.weights_length);
    }
    if (created->algorithm->prepare != NULL) {
        status = created->algorithm->prepare(created);
        if (status != HC_STATUS_OK) {
            hc_conv2d_destroy(created);
            return status;
        }
    }
    hc_describe_conv2d(desc, created->text, sizeof created->text);
    if (hc_verbose())
        hc_log("create conv2d %s alg=%s isa=%s threads=%d time=%.3fms", created->text, created->algorithm->name,
               hc_isa_string(created->algorithm->isa), created->num_threads, hc_now_ms() - start);
    *plan = created;
    return HC_STATUS_OK;
}

hc_status hc_conv2d_run(const hc_conv2d* plan,
                        const float* input, int64_t input_length,
                        float* output, int64_t output_length) {
    hc_clear_error();
    if (!hc_check_not_null(plan, "plan") ||
        !hc_check_not_null(input, "input") || !hc_check_length(input_length, plan->input_length, "input") ||
        !hc_check_not_null(output, "output") || !hc_check_length(output_length, plan->output_length, "output"))
        return HC_STATUS_INVALID_ARGUMENT;
    if (hc_ranges_overlap(input, plan->input_length, output, plan->output_length))
        return hc_fail(HC_STATUS_INVALID_ARGUMENT, "input and output must not overlap");
    if (!hc_verbose()) return plan->algorithm->run(plan, input, output);
    const double start = hc_now_ms();
    hc_status status = plan->algorithm->run(plan, input, output);
    hc_log("run conv2d %s alg=%s isa=%s threads=%d time=%.3fms", plan->text, plan->algorithm->name,
           hc_isa_string(plan->algorithm->isa), plan->num_threads, hc_now_ms() - start);
    return status;
}

hc_status hc_conv2d_get_info(const hc_conv2d* plan, hc_plan_info* info) {
    hc_clear_error();
    if (!hc_check_not_null(plan, "plan") || !hc_check_not_null(info, "info"))
        return HC_STATUS_INVALID_ARGUMENT;
    *info = hc_make_plan_info(plan->algorithm->name, plan->algorithm->isa, plan->num_threads);
    return HC_STATUS_OK;
}

void hc_conv2d_destroy(hc_conv2d* plan) {
    if (plan == NULL) return;
    free(plan->weights);
    free(plan->bias);
    hc_aligned_free(plan->packed);
    free(plan);
}
