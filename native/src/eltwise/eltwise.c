/* The elementwise operation: an activation over `length` values, forward and backward, and the
 * pass convolution's backward prologue shares. Each element is independent, so any split over
 * threads gives the same bits. */
#include <inttypes.h>
#include <stdlib.h>

#include "../core/plan.h"
#include "eltwise_internal.h"

typedef struct hc_eltwise {
    hc_plan base;
    hc_eltwise_desc desc;
} hc_eltwise;

static void forward_plain(hc_activation activation, float alpha, const float* x, float* y, int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; i++) y[i] = hc_activation_forward(activation, alpha, x[i]);
}

static void backward_plain(hc_activation activation, float alpha, const float* y, const float* dy, float* dx, int64_t begin,
                             int64_t end) {
    for (int64_t i = begin; i < end; i++) dx[i] = hc_activation_backward(activation, alpha, y[i], dy[i]);
}

typedef struct eltwise_call {
    hc_activation activation;
    float alpha;
    const float *a, *dy;
    float* out;
    hc_eltwise_forward_fn forward;
    hc_eltwise_backward_fn backward;
} eltwise_call;

static void eltwise_range(const void* context, int64_t begin, int64_t end) {
    const eltwise_call* c = context;
    if (c->dy == NULL) {
        c->forward(c->activation, c->alpha, c->a, c->out, begin, end);
    } else {
        c->backward(c->activation, c->alpha, c->a, c->dy, c->out, begin, end);
    }
}

void hc_eltwise_pass(hc_activation activation, float alpha, const float* a, const float* dy, float* out, int64_t length, hc_isa isa,
                     int32_t threads) {
    const eltwise_call call = {
        .activation = activation, .alpha = alpha, .a = a, .dy = dy, .out = out,
        .forward = isa >= HC_ISA_AVX512 ? hc_eltwise_forward__avx512 : isa >= HC_ISA_AVX2 ? hc_eltwise_forward__avx2 : forward_plain,
        .backward = isa >= HC_ISA_AVX512 ? hc_eltwise_backward__avx512 : isa >= HC_ISA_AVX2 ? hc_eltwise_backward__avx2 : backward_plain,
    };
    hc_for_chunks(length, threads, eltwise_range, &call);
}

const float* hc_eltwise_pre_activation(hc_activation activation, float alpha, const float* y, const float* dy, int64_t length, hc_isa isa,
                                       int32_t threads) {
    if (activation == HC_ACTIVATION_NONE) return dy;
    float* scratch = hc_thread_scratch((size_t)length * sizeof(float));
    if (scratch == NULL) {
        hc_fail(HC_STATUS_OUT_OF_MEMORY, "out of memory for the activation's gradient");
        return NULL;
    }
    hc_eltwise_pass(activation, alpha, y, dy, scratch, length, isa, threads);
    return scratch;
}

static const hc_eltwise* eltwise_of(const hc_plan* plan) { return (const hc_eltwise*)plan; }

static hc_status run_forward(const hc_plan* plan, const hc_args* args, hc_isa isa) {
    const hc_eltwise_desc* d = &eltwise_of(plan)->desc;
    hc_eltwise_pass(d->activation, d->alpha, hc_arg_in(args, HC_ARG_SRC), NULL, hc_arg_out(args, HC_ARG_DST), d->length, isa,
                    plan->num_threads);
    return HC_STATUS_OK;
}

static hc_status run_backward(const hc_plan* plan, const hc_args* args, hc_isa isa) {
    const hc_eltwise_desc* d = &eltwise_of(plan)->desc;
    hc_eltwise_pass(d->activation, d->alpha, hc_arg_in(args, HC_ARG_DST), hc_arg_in(args, HC_ARG_DIFF_DST),
                    hc_arg_out(args, HC_ARG_DIFF_SRC), d->length, isa, plan->num_threads);
    return HC_STATUS_OK;
}

/* The forward and backward algorithm of one instruction set. */
#define ELTWISE_ALGORITHMS(suffix, isa_value)                                                                                   \
    static hc_status run_forward_##suffix(const hc_plan* plan, const hc_args* args) { return run_forward(plan, args, isa_value); }   \
    static hc_status run_backward_##suffix(const hc_plan* plan, const hc_args* args) { return run_backward(plan, args, isa_value); } \
    static const hc_algorithm forward_##suffix = {                                                                             \
        .name = "eltwise_" #suffix, .isa = isa_value, .accepts = hc_plan_accepts_any, .pack = NULL, .run = run_forward_##suffix};      \
    static const hc_algorithm backward_##suffix = {                                                                            \
        .name = "eltwise_" #suffix, .isa = isa_value, .accepts = hc_plan_accepts_any, .pack = NULL, .run = run_backward_##suffix}

ELTWISE_ALGORITHMS(avx512, HC_ISA_AVX512);
ELTWISE_ALGORITHMS(avx2, HC_ISA_AVX2);
ELTWISE_ALGORITHMS(generic, HC_ISA_GENERIC);

static const hc_algorithm* const forward_algorithms[] = {&forward_avx512, &forward_avx2, &forward_generic, NULL};
static const hc_algorithm* const backward_algorithms[] = {&backward_avx512, &backward_avx2, &backward_generic, NULL};

static void describe(const hc_plan* plan, char* text, size_t size) { hc_describe_eltwise(&eltwise_of(plan)->desc, text, size); }

static const hc_operation eltwise_operation = {
    .name = "eltwise",
    .algorithms = {forward_algorithms, forward_algorithms, backward_algorithms, NULL},
    .describe = describe,
    .release = NULL,
};

hc_status hc_eltwise_create(const hc_eltwise_desc* desc, hc_direction direction, const hc_plan_options* options, hc_plan** plan) {
    hc_clear_error();
    if (!hc_check_not_null(plan, "plan")) return HC_STATUS_INVALID_ARGUMENT;
    *plan = NULL;
    if (!hc_check_not_null(desc, "desc")) return HC_STATUS_INVALID_ARGUMENT;
    const double start = hc_verbose() ? hc_now_ms() : 0.0;
    /* Eltwise has no BWD_W: that direction is refused by hc_plan_begin, with its own message. */
    const hc_direction checked = direction == HC_DIRECTION_BACKWARD_WEIGHTS ? HC_DIRECTION_FORWARD_INFERENCE : direction;
    if (!hc_check_activation(desc->activation, desc->alpha, checked, "desc->alpha")) return HC_STATUS_INVALID_ARGUMENT;
    int64_t bytes;
    if (!hc_check_dimension(desc->length, 0, "desc->length") ||
        !hc_checked_mul(desc->length, (int64_t)sizeof(float), &bytes, "length in bytes"))
        return HC_STATUS_INVALID_ARGUMENT;
    hc_eltwise* created = calloc(1, sizeof *created);
    if (created == NULL) return hc_fail(HC_STATUS_OUT_OF_MEMORY, "out of memory allocating an elementwise plan");
    created->desc = *desc;
    hc_plan* base = &created->base;
    hc_status status = hc_plan_begin(base, &eltwise_operation, direction, options);
    if (status == HC_STATUS_OK) {
        if (direction == HC_DIRECTION_BACKWARD_DATA) {
            hc_plan_add_arg(base, HC_ARG_DST, false, false, desc->length);
            hc_plan_add_arg(base, HC_ARG_DIFF_DST, false, false, desc->length);
            hc_plan_add_arg(base, HC_ARG_DIFF_SRC, true, false, desc->length);
            hc_plan_arg(base, HC_ARG_DIFF_SRC)->alias = HC_ARG_DIFF_DST;
        } else {
            hc_plan_add_arg(base, HC_ARG_SRC, false, false, desc->length);
            hc_plan_add_arg(base, HC_ARG_DST, true, false, desc->length);
            hc_plan_arg(base, HC_ARG_DST)->alias = HC_ARG_SRC;
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
