/* The dense layer on the GEMM driver:
 *   forward        Y[batch x out] = X[batch x in] · Wᵀ + bias (per column), then the activation;
 *   backward data  dX[batch x in] = dZ[batch x out] · W;
 *   backward weights dW[out x in] = dZᵀ · X, dbias[o] = sum over the batch of dZ[·][o];
 * dZ = act'(y) · dY. W is packed once per set of weights, as the B operand of the direction. */
#include <inttypes.h>
#include <stdlib.h>

#include "../core/plan.h"
#include "../eltwise/eltwise_internal.h"
#include "../gemm/gemm.h"

typedef struct hc_dense {
    hc_plan base;
    hc_dense_desc desc;
    int64_t input_length, output_length, weights_length;
} hc_dense;

static const hc_dense* dense_of(const hc_plan* plan) { return (const hc_dense*)plan; }

/* Forward packs Wᵀ (in x out), backward data W (out x in), each as the B operand. */
static hc_status pack(hc_plan* plan, hc_isa isa) {
    const hc_dense_desc* d = &dense_of(plan)->desc;
    const bool forward = plan->direction != HC_DIRECTION_BACKWARD_DATA;
    const int64_t k = forward ? d->in_features : d->out_features, n = forward ? d->out_features : d->in_features;
    float* packed = hc_plan_packed(plan, (size_t)hc_gemm_packed_b_floats(isa, k, n) * sizeof(float));
    if (packed == NULL) return hc_fail(HC_STATUS_OUT_OF_MEMORY, "out of memory packing the weights");
    hc_gemm_pack_b(isa, (hc_gemm_matrix){.data = plan->weights, .ld = d->in_features, .transposed = forward}, k, n, packed);
    return HC_STATUS_OK;
}

static hc_status forward(const hc_plan* plan, const hc_args* args, hc_isa isa) {
    const hc_dense_desc* d = &dense_of(plan)->desc;
    const hc_gemm_args gemm = {
        .m = d->batch, .n = d->out_features, .k = d->in_features,
        .a = {.data = hc_arg_in(args, HC_ARG_SRC), .ld = d->in_features},
        .packed_b = plan->packed,
        .c = hc_arg_out(args, HC_ARG_DST), .ldc = d->out_features,
        .column_bias = plan->bias,
        .activation = d->activation, .alpha = d->activation_alpha,
    };
    return hc_gemm(&gemm, isa, plan->num_threads);
}

static const float* pre_activation(const hc_plan* plan, const hc_args* args) {
    const hc_dense* dense = dense_of(plan);
    return hc_eltwise_pre_activation(dense->desc.activation, dense->desc.activation_alpha, hc_arg_in(args, HC_ARG_DST),
                                     hc_arg_in(args, HC_ARG_DIFF_DST), dense->output_length, plan->isa, plan->num_threads);
}

static hc_status backward_data(const hc_plan* plan, const hc_args* args, hc_isa isa) {
    const hc_dense_desc* d = &dense_of(plan)->desc;
    const float* dz = pre_activation(plan, args);
    if (dz == NULL) return HC_STATUS_OUT_OF_MEMORY;
    const hc_gemm_args gemm = {
        .m = d->batch, .n = d->in_features, .k = d->out_features,
        .a = {.data = dz, .ld = d->out_features},
        .packed_b = plan->packed,
        .c = hc_arg_out(args, HC_ARG_DIFF_SRC), .ldc = d->in_features,
    };
    return hc_gemm(&gemm, isa, plan->num_threads);
}

static hc_status backward_weights(const hc_plan* plan, const hc_args* args, hc_isa isa) {
    const hc_dense_desc* d = &dense_of(plan)->desc;
    const float* dz = pre_activation(plan, args);
    if (dz == NULL) return HC_STATUS_OUT_OF_MEMORY;
    float* db = hc_arg_out(args, HC_ARG_DIFF_BIAS);
    if (db != NULL) {
        for (int64_t o = 0; o < d->out_features; o++) db[o] = 0.0f;
        for (int64_t b = 0; b < d->batch; b++)
            for (int64_t o = 0; o < d->out_features; o++) db[o] += dz[b * d->out_features + o];
    }
    const hc_gemm_args gemm = {
        .m = d->out_features, .n = d->in_features, .k = d->batch,
        .a = {.data = dz, .ld = d->out_features, .transposed = true},
        .b = {.data = hc_arg_in(args, HC_ARG_SRC), .ld = d->in_features},
        .c = hc_arg_out(args, HC_ARG_DIFF_WEIGHTS), .ldc = d->in_features,
    };
    return hc_gemm(&gemm, isa, plan->num_threads);
}

/* The algorithms of one instruction set: the GEMM driver on that set's micro-kernel. */
#define DENSE_ALGORITHMS(suffix, isa_value)                                                                                       \
    static hc_status pack_##suffix(hc_plan* plan) { return pack(plan, isa_value); }                                               \
    static hc_status forward_##suffix(const hc_plan* plan, const hc_args* args) { return forward(plan, args, isa_value); }          \
    static hc_status backward_data_##suffix(const hc_plan* plan, const hc_args* args) { return backward_data(plan, args, isa_value); } \
    static hc_status backward_weights_##suffix(const hc_plan* plan, const hc_args* args) {                                        \
        return backward_weights(plan, args, isa_value);                                                                            \
    }                                                                                                                              \
    static const hc_algorithm forward_algorithm_##suffix = {                                                                      \
        .name = "gemm_" #suffix, .isa = isa_value, .accepts = hc_plan_accepts_any, .pack = pack_##suffix, .run = forward_##suffix};         \
    static const hc_algorithm backward_data_algorithm_##suffix = {                                                                \
        .name = "gemm_" #suffix, .isa = isa_value, .accepts = hc_plan_accepts_any, .pack = pack_##suffix, .run = backward_data_##suffix};   \
    static const hc_algorithm backward_weights_algorithm_##suffix = {                                                             \
        .name = "gemm_" #suffix, .isa = isa_value, .accepts = hc_plan_accepts_any, .pack = NULL, .run = backward_weights_##suffix}

DENSE_ALGORITHMS(8x32_avx512, HC_ISA_AVX512);
DENSE_ALGORITHMS(6x16_avx2, HC_ISA_AVX2);
DENSE_ALGORITHMS(4x16_generic, HC_ISA_GENERIC);

static const hc_algorithm* const forward_algorithms[] = {&forward_algorithm_8x32_avx512, &forward_algorithm_6x16_avx2,
                                                         &forward_algorithm_4x16_generic, NULL};
static const hc_algorithm* const backward_data_algorithms[] = {&backward_data_algorithm_8x32_avx512, &backward_data_algorithm_6x16_avx2,
                                                               &backward_data_algorithm_4x16_generic, NULL};
static const hc_algorithm* const backward_weights_algorithms[] = {
    &backward_weights_algorithm_8x32_avx512, &backward_weights_algorithm_6x16_avx2, &backward_weights_algorithm_4x16_generic, NULL};

static void describe(const hc_plan* plan, char* text, size_t size) { hc_describe_dense(&dense_of(plan)->desc, text, size); }

static const hc_operation dense_operation = {
    .name = "dense",
    .algorithms = {forward_algorithms, forward_algorithms, backward_data_algorithms, backward_weights_algorithms},
    .describe = describe,
    .release = NULL,
};

hc_status hc_dense_create(const hc_dense_desc* desc, hc_direction direction, const float* weights, int64_t weights_length,
                          const float* bias, int64_t bias_length, const hc_plan_options* options, hc_plan** plan) {
    hc_clear_error();
    if (!hc_check_not_null(plan, "plan")) return HC_STATUS_INVALID_ARGUMENT;
    *plan = NULL;
    if (!hc_check_not_null(desc, "desc")) return HC_STATUS_INVALID_ARGUMENT;
    const double start = hc_verbose() ? hc_now_ms() : 0.0;
    if (!hc_check_dimension(desc->batch, 1, "desc->batch") || !hc_check_dimension(desc->in_features, 1, "desc->in_features") ||
        !hc_check_dimension(desc->out_features, 1, "desc->out_features"))
        return HC_STATUS_INVALID_ARGUMENT;
    if (!hc_check_activation(desc->activation, desc->activation_alpha, direction, "desc->activation_alpha")) return HC_STATUS_INVALID_ARGUMENT;
    hc_dense shape = {.desc = *desc};
    int64_t bytes;
    if (!hc_checked_mul(desc->batch, desc->in_features, &shape.input_length, "batch * in_features") ||
        !hc_checked_mul(desc->batch, desc->out_features, &shape.output_length, "batch * out_features") ||
        !hc_checked_mul(desc->out_features, desc->in_features, &shape.weights_length, "out_features * in_features") ||
        !hc_checked_mul(shape.input_length, (int64_t)sizeof(float), &bytes, "input size in bytes") ||
        !hc_checked_mul(shape.output_length, (int64_t)sizeof(float), &bytes, "output size in bytes") ||
        !hc_checked_mul(shape.weights_length, 2 * (int64_t)sizeof(float), &bytes, "weights size in bytes"))
        return HC_STATUS_INVALID_ARGUMENT;
    hc_dense* created = calloc(1, sizeof *created);
    if (created == NULL) return hc_fail(HC_STATUS_OUT_OF_MEMORY, "out of memory allocating a dense plan");
    *created = shape;
    hc_plan* base = &created->base;
    hc_status status = hc_plan_begin(base, &dense_operation, direction, options);
    if (status == HC_STATUS_OK) {
        const bool activated = desc->activation != HC_ACTIVATION_NONE;
        switch (direction) {
        case HC_DIRECTION_FORWARD_INFERENCE:
        case HC_DIRECTION_FORWARD_TRAINING:
            hc_plan_add_arg(base, HC_ARG_SRC, false, false, shape.input_length);
            hc_plan_add_arg(base, HC_ARG_DST, true, false, shape.output_length);
            break;
        case HC_DIRECTION_BACKWARD_DATA:
            hc_plan_add_arg(base, HC_ARG_DIFF_DST, false, false, shape.output_length);
            hc_plan_add_arg(base, HC_ARG_DST, false, !activated, shape.output_length);
            hc_plan_add_arg(base, HC_ARG_DIFF_SRC, true, false, shape.input_length);
            break;
        case HC_DIRECTION_BACKWARD_WEIGHTS:
            hc_plan_add_arg(base, HC_ARG_SRC, false, false, shape.input_length);
            hc_plan_add_arg(base, HC_ARG_DIFF_DST, false, false, shape.output_length);
            hc_plan_add_arg(base, HC_ARG_DST, false, !activated, shape.output_length);
            hc_plan_add_arg(base, HC_ARG_DIFF_WEIGHTS, true, false, shape.weights_length);
            hc_plan_add_arg(base, HC_ARG_DIFF_BIAS, true, true, desc->out_features);
            break;
        }
        if (direction != HC_DIRECTION_BACKWARD_WEIGHTS) {
            base->weights_length = shape.weights_length;
            base->bias_length = desc->out_features;
        }
        status = hc_plan_finish(base, weights, weights_length, bias, bias_length, start);
    }
    if (status != HC_STATUS_OK) {
        hc_plan_destroy(base);
        return status;
    }
    *plan = base;
    return HC_STATUS_OK;
}
