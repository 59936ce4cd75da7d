/* Softmax over each row's classes, fused with categorical cross-entropy for training (hpccnn.h).
 * Numerically stable: the row's maximum is subtracted before exponentiating, and the loss is
 * log-sum-exp minus the label's logit, never log of a probability that underflowed. Rows are
 * independent; the mean loss adds the rows' losses in row order, in double, whatever the thread
 * count. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>

#include "../core/plan.h"
#include "../core/vmath.h"
#include "softmax_internal.h"

#define PARALLEL_MIN 65536

typedef struct hc_softmax {
    hc_plan base;
    hc_softmax_desc desc;
} hc_softmax;

static const hc_softmax_desc* desc_of(const hc_plan* plan) { return &((const hc_softmax*)plan)->desc; }

typedef double (*softmax_row_fn)(const float* x, float* p, int64_t classes);

/* p = softmax(x) for one row; returns log-sum-exp of the row. */
static double softmax_row(const float* x, float* p, int64_t classes) {
    float maximum = x[0];
    for (int64_t j = 1; j < classes; j++) maximum = hc_max_nan(maximum, x[j]);
    float sum = 0.0f;
    for (int64_t j = 0; j < classes; j++) {
        p[j] = expf(x[j] - maximum);
        sum += p[j];
    }
    for (int64_t j = 0; j < classes; j++) p[j] /= sum;
    return (double)maximum + log((double)sum);
}

static hc_status check_labels(const int32_t* labels, int64_t batch, int64_t classes) {
    for (int64_t b = 0; b < batch; b++)
        if (labels[b] < 0 || labels[b] >= classes)
            return hc_fail(HC_STATUS_INVALID_ARGUMENT, "LABELS[%" PRId64 "] = %" PRId32 " is not a class (0 .. %" PRId64 ")", b, labels[b],
                           classes - 1);
    return HC_STATUS_OK;
}

static int threads_for(const hc_plan* plan) {
    const hc_softmax_desc* d = desc_of(plan);
    /* An exponential and a division per element: compute-bound, about 0.8 ns per element on one
     * core (imagenet_loss), taken as 0.5. */
    return d->batch * d->classes < PARALLEL_MIN ? 1 : hc_threads_for(0.5 * (double)(d->batch * d->classes), plan->num_threads);
}

static hc_status run_forward_with(const hc_plan* plan, const hc_args* args, softmax_row_fn row) {
    const hc_softmax_desc* d = desc_of(plan);
    const float* x = hc_arg_in(args, HC_ARG_SRC);
    float* p = hc_arg_out(args, HC_ARG_DST);
    const int32_t* labels = (const int32_t*)args->at[HC_ARG_LABELS];
    float* loss = hc_arg_out(args, HC_ARG_LOSS);
    if (loss != NULL && labels == NULL) return hc_fail(HC_STATUS_INVALID_ARGUMENT, "LOSS needs LABELS");
    if (labels != NULL) {
        hc_status status = check_labels(labels, d->batch, d->classes);
        if (status != HC_STATUS_OK) return status;
    }
    double* row_loss = NULL;
    if (loss != NULL) {
        row_loss = hc_thread_scratch((size_t)d->batch * sizeof(double));
        if (row_loss == NULL) return hc_fail(HC_STATUS_OUT_OF_MEMORY, "out of memory for the rows' losses");
    }
    const int threads = threads_for(plan);
    int finished = 0;
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
#pragma omp for schedule(static) nowait
        for (int64_t b = 0; b < d->batch; b++) {
            const double log_sum_exp = row(x + b * d->classes, p + b * d->classes, d->classes);
            if (row_loss != NULL) row_loss[b] = log_sum_exp - (double)x[b * d->classes + labels[b]];
        }
        hc_parallel_join(&finished);
    }
    if (loss != NULL) {
        double total = 0.0;
        for (int64_t b = 0; b < d->batch; b++) total += row_loss[b];
        *loss = (float)(total / (double)d->batch);
    }
    return HC_STATUS_OK;
}

static hc_status run_forward(const hc_plan* plan, const hc_args* args) { return run_forward_with(plan, args, softmax_row); }
static hc_status run_forward_avx2(const hc_plan* plan, const hc_args* args) { return run_forward_with(plan, args, hc_softmax_row__avx2); }
static hc_status run_forward_avx512(const hc_plan* plan, const hc_args* args) { return run_forward_with(plan, args, hc_softmax_row__avx512); }

typedef void (*softmax_backward_row_fn)(const float* p, int32_t label, float batch, float* dx, int64_t classes);

/* dx = (p - onehot(label)) / batch for one row: p / batch everywhere (p - 0 is p), then the label's. */
static void softmax_backward_row(const float* p, int32_t label, float batch, float* dx, int64_t classes) {
    for (int64_t j = 0; j < classes; j++) dx[j] = p[j] / batch;
    dx[label] = (p[label] - 1.0f) / batch;
}

static hc_status run_backward_with(const hc_plan* plan, const hc_args* args, softmax_backward_row_fn row) {
    const hc_softmax_desc* d = desc_of(plan);
    const float* p = hc_arg_in(args, HC_ARG_DST);
    const int32_t* labels = (const int32_t*)args->at[HC_ARG_LABELS];
    float* dx = hc_arg_out(args, HC_ARG_DIFF_SRC);
    hc_status status = check_labels(labels, d->batch, d->classes);
    if (status != HC_STATUS_OK) return status;
    const float batch = (float)d->batch;
    const int threads = threads_for(plan);
    int finished = 0;
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
#pragma omp for schedule(static) nowait
        for (int64_t b = 0; b < d->batch; b++) row(p + b * d->classes, labels[b], batch, dx + b * d->classes, d->classes);
        hc_parallel_join(&finished);
    }
    return HC_STATUS_OK;
}

static hc_status run_backward(const hc_plan* plan, const hc_args* args) { return run_backward_with(plan, args, softmax_backward_row); }
static hc_status run_backward_avx2(const hc_plan* plan, const hc_args* args) { return run_backward_with(plan, args, hc_softmax_backward_row__avx2); }
static hc_status run_backward_avx512(const hc_plan* plan, const hc_args* args) {
    return run_backward_with(plan, args, hc_softmax_backward_row__avx512);
}

static const hc_algorithm forward_generic = {.name = "softmax_generic", .isa = HC_ISA_GENERIC, .accepts = hc_plan_accepts_any, .run = run_forward};
static const hc_algorithm backward_generic = {
    .name = "softmax_cross_entropy_backward_generic", .isa = HC_ISA_GENERIC, .accepts = hc_plan_accepts_any, .run = run_backward};
static const hc_algorithm forward_avx2 = {.name = "softmax_avx2", .isa = HC_ISA_AVX2, .accepts = hc_plan_accepts_any, .run = run_forward_avx2};
static const hc_algorithm forward_avx512 = {.name = "softmax_avx512", .isa = HC_ISA_AVX512, .accepts = hc_plan_accepts_any, .run = run_forward_avx512};
static const hc_algorithm* const forward_algorithms[] = {&forward_avx512, &forward_avx2, &forward_generic, NULL};
static const hc_algorithm backward_avx2 = {
    .name = "softmax_cross_entropy_backward_avx2", .isa = HC_ISA_AVX2, .accepts = hc_plan_accepts_any, .run = run_backward_avx2};
static const hc_algorithm backward_avx512 = {
    .name = "softmax_cross_entropy_backward_avx512", .isa = HC_ISA_AVX512, .accepts = hc_plan_accepts_any, .run = run_backward_avx512};
static const hc_algorithm* const backward_algorithms[] = {&backward_avx512, &backward_avx2, &backward_generic, NULL};

static void describe(const hc_plan* plan, char* text, size_t size) { hc_describe_softmax(desc_of(plan), text, size); }

static const hc_operation softmax_operation = {
    .name = "softmax",
    .algorithms = {forward_algorithms, forward_algorithms, backward_algorithms, NULL},
    .describe = describe,
    .release = NULL,
};

hc_status hc_softmax_create(const hc_softmax_desc* desc, hc_direction direction, const hc_plan_options* options, hc_plan** plan) {
    hc_clear_error();
    if (!hc_check_not_null(plan, "plan")) return HC_STATUS_INVALID_ARGUMENT;
    *plan = NULL;
    if (!hc_check_not_null(desc, "desc")) return HC_STATUS_INVALID_ARGUMENT;
    const double start = hc_verbose() ? hc_now_ms() : 0.0;
    int64_t length, bytes;
    if (!hc_check_dimension(desc->batch, 1, "desc->batch") || !hc_check_dimension(desc->classes, 1, "desc->classes") ||
        !hc_checked_mul(desc->batch, desc->classes, &length, "batch * classes") ||
        !hc_checked_mul(length, (int64_t)sizeof(double), &bytes, "batch * classes in bytes"))
        return HC_STATUS_INVALID_ARGUMENT;
    hc_softmax* created = calloc(1, sizeof *created);
    if (created == NULL) return hc_fail(HC_STATUS_OUT_OF_MEMORY, "out of memory allocating a softmax plan");
    created->desc = *desc;
    hc_plan* base = &created->base;
    hc_status status = hc_plan_begin(base, &softmax_operation, direction, options);
    if (status == HC_STATUS_OK) {
        switch (direction) {
        case HC_DIRECTION_FORWARD_INFERENCE:
            hc_plan_add_arg(base, HC_ARG_SRC, false, false, length);
            hc_plan_add_arg(base, HC_ARG_DST, true, false, length);
            break;
        case HC_DIRECTION_FORWARD_TRAINING:
            hc_plan_add_arg(base, HC_ARG_SRC, false, false, length);
            hc_plan_add_arg(base, HC_ARG_LABELS, false, true, desc->batch);
            hc_plan_arg(base, HC_ARG_LABELS)->int32 = true;
            hc_plan_add_arg(base, HC_ARG_DST, true, false, length);
            hc_plan_add_arg(base, HC_ARG_LOSS, true, true, 1);
            break;
        default:
            hc_plan_add_arg(base, HC_ARG_DST, false, false, length);
            hc_plan_add_arg(base, HC_ARG_LABELS, false, false, desc->batch);
            hc_plan_arg(base, HC_ARG_LABELS)->int32 = true;
            hc_plan_add_arg(base, HC_ARG_DIFF_SRC, true, false, length);
            break;
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
