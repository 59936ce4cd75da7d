/* Pooling plans: validation, the ordered algorithm list, run and destroy. */
#include <inttypes.h>
#include <stdlib.h>

#include "pool2d_internal.h"

/* Per direction, fastest first; plain C loops that accept everything come last. */
static const hc_algorithm* const forward_algorithms[] = {
    &hc_pool2d_3x3s2_avx512,
    &hc_pool2d_2x2s2_avx2,
    &hc_pool2d_separable_avx512,
    &hc_pool2d_separable_avx2,
    &hc_pool2d_direct_generic,
    NULL,
};

/* Max pooling saves its argmax for the backward pass; the averages need nothing saved. */
static const hc_algorithm* const forward_training_algorithms[] = {
    &hc_pool2d_max_argmax_avx512,
    &hc_pool2d_max_argmax_avx2,
    &hc_pool2d_max_argmax_generic,
    &hc_pool2d_3x3s2_avx512,
    &hc_pool2d_2x2s2_avx2,
    &hc_pool2d_separable_avx512,
    &hc_pool2d_separable_avx2,
    &hc_pool2d_direct_generic,
    NULL,
};

static const hc_algorithm* const backward_algorithms[] = {
    &hc_pool2d_backward_avx512,
    &hc_pool2d_backward_avx2,
    &hc_pool2d_backward_generic,
    NULL,
};

static void describe(const hc_plan* plan, char* text, size_t size) { hc_describe_pool2d(&hc_pool(plan)->desc, text, size); }

static const hc_operation pool2d_operation = {
    .name = "pool2d",
    .algorithms = {forward_algorithms, forward_training_algorithms, backward_algorithms, NULL},
    .describe = describe,
    .release = NULL,
};

static bool check_pad(int64_t pad, int64_t kernel, const char* pad_name, const char* kernel_name) {
    if (pad < kernel) return true;
    hc_fail(HC_STATUS_INVALID_ARGUMENT,
            "%s (%" PRId64 ") must be smaller than %s (%" PRId64 ") so every window holds an image element",
            pad_name, pad, kernel_name, kernel);
    return false;
}

static hc_status check_desc(const hc_pool2d_desc* d, hc_pool2d* shape) {
    if (d->algorithm != HC_POOL_MAX && d->algorithm != HC_POOL_AVERAGE_INCLUDE_PADDING &&
        d->algorithm != HC_POOL_AVERAGE_EXCLUDE_PADDING)
        return hc_fail(HC_STATUS_INVALID_ARGUMENT, "desc->algorithm has unknown value %d", (int)d->algorithm);
    if (!hc_check_dimension(d->batch, 1, "desc->batch") ||
        !hc_check_dimension(d->channels, 1, "desc->channels") ||
        !hc_check_dimension(d->in_height, 1, "desc->in_height") ||
        !hc_check_dimension(d->in_width, 1, "desc->in_width") ||
        !hc_check_dimension(d->kernel_height, 1, "desc->kernel_height") ||
        !hc_check_dimension(d->kernel_width, 1, "desc->kernel_width") ||
        !hc_check_dimension(d->stride_height, 1, "desc->stride_height") ||
        !hc_check_dimension(d->stride_width, 1, "desc->stride_width") ||
        !hc_check_dimension(d->pad_top, 0, "desc->pad_top") ||
        !hc_check_dimension(d->pad_bottom, 0, "desc->pad_bottom") ||
        !hc_check_dimension(d->pad_left, 0, "desc->pad_left") ||
        !hc_check_dimension(d->pad_right, 0, "desc->pad_right") ||
        !check_pad(d->pad_top, d->kernel_height, "desc->pad_top", "desc->kernel_height") ||
        !check_pad(d->pad_bottom, d->kernel_height, "desc->pad_bottom", "desc->kernel_height") ||
        !check_pad(d->pad_left, d->kernel_width, "desc->pad_left", "desc->kernel_width") ||
        !check_pad(d->pad_right, d->kernel_width, "desc->pad_right", "desc->kernel_width"))
        return HC_STATUS_INVALID_ARGUMENT;

    shape->out_height = hc_output_size(d->in_height, d->kernel_height, d->stride_height, d->pad_top, d->pad_bottom, 1);
    if (shape->out_height <= 0)
        return hc_fail(HC_STATUS_INVALID_ARGUMENT,
                       "desc->kernel_height %" PRId64 " is larger than the padded input height %" PRId64
                       " + %" PRId64 " + %" PRId64, d->kernel_height, d->pad_top, d->in_height, d->pad_bottom);
    shape->out_width = hc_output_size(d->in_width, d->kernel_width, d->stride_width, d->pad_left, d->pad_right, 1);
    if (shape->out_width <= 0)
        return hc_fail(HC_STATUS_INVALID_ARGUMENT,
                       "desc->kernel_width %" PRId64 " is larger than the padded input width %" PRId64
                       " + %" PRId64 " + %" PRId64, d->kernel_width, d->pad_left, d->in_width, d->pad_right);

    int64_t t;
    if (!hc_checked_mul(d->batch, d->channels, &t, "batch * channels * in_height * in_width") ||
        !hc_checked_mul(t, d->in_height, &t, "batch * channels * in_height * in_width") ||
        !hc_checked_mul(t, d->in_width, &shape->input_length, "batch * channels * in_height * in_width") ||
        !hc_checked_mul(shape->input_length, (int64_t)sizeof(float), &t, "input size in bytes"))
        return HC_STATUS_INVALID_ARGUMENT;
    if (!hc_checked_mul(d->batch, d->channels, &t, "batch * channels * out_height * out_width") ||
        !hc_checked_mul(t, shape->out_height, &t, "batch * channels * out_height * out_width") ||
        !hc_checked_mul(t, shape->out_width, &shape->output_length, "batch * channels * out_height * out_width"))
        return HC_STATUS_INVALID_ARGUMENT;
    return HC_STATUS_OK;
}

hc_status hc_pool2d_create(const hc_pool2d_desc* desc, hc_direction direction, const hc_plan_options* options, hc_plan** plan) {
    hc_clear_error();
    if (!hc_check_not_null(plan, "plan")) return HC_STATUS_INVALID_ARGUMENT;
    *plan = NULL;
    if (!hc_check_not_null(desc, "desc")) return HC_STATUS_INVALID_ARGUMENT;
    const double start = hc_verbose() ? hc_now_ms() : 0.0;
    hc_pool2d shape = {.desc = *desc};
    hc_status status = check_desc(desc, &shape);
    if (status != HC_STATUS_OK) return status;
    if (desc->algorithm == HC_POOL_MAX && direction != HC_DIRECTION_FORWARD_INFERENCE &&
        desc->in_height * desc->in_width > INT32_MAX)
        return hc_fail(HC_STATUS_UNSUPPORTED, "max pooling for training indexes a plane with int32: in_height * in_width must be at most %d",
                       INT32_MAX);
    hc_pool2d* created = calloc(1, sizeof *created);
    if (created == NULL) return hc_fail(HC_STATUS_OUT_OF_MEMORY, "out of memory allocating a pooling plan");
    *created = shape;
    hc_plan* base = &created->base;
    status = hc_plan_begin(base, &pool2d_operation, direction, options);
    if (status == HC_STATUS_OK) {
        const bool argmax = desc->algorithm == HC_POOL_MAX && direction != HC_DIRECTION_FORWARD_INFERENCE;
        if (direction == HC_DIRECTION_BACKWARD_DATA) {
            hc_plan_add_arg(base, HC_ARG_DIFF_DST, false, false, shape.output_length);
            hc_plan_add_arg(base, HC_ARG_DIFF_SRC, true, false, shape.input_length);
        } else {
            hc_plan_add_arg(base, HC_ARG_SRC, false, false, shape.input_length);
            hc_plan_add_arg(base, HC_ARG_DST, true, false, shape.output_length);
        }
        if (argmax) {
            hc_plan_add_arg(base, HC_ARG_WORKSPACE, direction == HC_DIRECTION_FORWARD_TRAINING, false, shape.output_length);
            hc_plan_arg(base, HC_ARG_WORKSPACE)->int32 = true;
        }
        status = hc_plan_finish(base, NULL, 0, NULL, 0, start);
    }
    if (status != HC_STATUS_OK) {
        hc_plan_destroy(base);
        return status;
    }
    *plan = base;
    return HC_STATUS_OK;
}

int hc_pool2d_threads(const hc_pool2d* plan, double bytes_per_plane) {
    const hc_pool2d_desc* d = &plan->desc;
    const double planes = (double)d->batch * (double)d->channels;
    return planes * (double)(d->in_height * d->in_width) < 32768.0 ? 1 : hc_threads_for(hc_bytes_ns(planes * bytes_per_plane), plan->base.num_threads);
}

hc_status hc_pool2d_run_planes(const hc_pool2d* plan, const float* input, float* output,
                               size_t scratch_bytes, hc_pool2d_plane_fn plane) {
    const hc_pool2d_desc* d = &plan->desc;
    const int64_t planes = d->batch * d->channels;
    const int64_t in_plane = d->in_height * d->in_width, out_plane = plan->out_height * plan->out_width;
    const int threads = hc_pool2d_threads(plan, sizeof(float) * (double)(in_plane + out_plane));
    int failed = 0, finished = 0;
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
#pragma omp for schedule(dynamic, hc_dynamic_chunk(planes, threads)) nowait
        for (int64_t p = 0; p < planes; p++) {
            float* scratch = scratch_bytes > 0 ? hc_thread_workspace(scratch_bytes) : NULL;
            if (scratch_bytes > 0 && scratch == NULL) {
#pragma omp atomic write
                failed = 1;
                continue;
            }
            plane(plan, input + p * in_plane, output + p * out_plane, scratch);
        }
        hc_parallel_join(&finished);
    }
    return failed ? hc_fail(HC_STATUS_OUT_OF_MEMORY, "out of memory for a pooling buffer") : HC_STATUS_OK;
}

