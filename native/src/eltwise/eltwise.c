/* Elementwise activations: validation, the plain C kernel, and dispatch to the AVX2 one. Each
 * element is independent, so any split over threads gives the same bits. */
#include <inttypes.h>
#include <math.h>

#include "eltwise_internal.h"

/* Below this many elements a parallel region costs more than it saves. */
#define HC_ELTWISE_PARALLEL_MIN 65536

static float apply(hc_eltwise_op op, float alpha, float x) {
    switch (op) {
    case HC_ELTWISE_RELU: return x > 0.0f ? x : 0.0f;
    case HC_ELTWISE_LEAKY_RELU: return x > 0.0f ? x : alpha * x;
    case HC_ELTWISE_TANH: return tanhf(x);
    case HC_ELTWISE_SIGMOID: return 1.0f / (1.0f + expf(-x));
    }
    return x;
}

hc_status hc_eltwise_forward(hc_eltwise_op op, float alpha,
                             const float* input, int64_t input_length,
                             float* output, int64_t output_length,
                             const hc_plan_options* options) {
    hc_clear_error();
    if (op != HC_ELTWISE_RELU && op != HC_ELTWISE_LEAKY_RELU && op != HC_ELTWISE_TANH &&
        op != HC_ELTWISE_SIGMOID)
        return hc_fail(HC_STATUS_INVALID_ARGUMENT, "op has unknown value %d", (int)op);
    if (op == HC_ELTWISE_LEAKY_RELU && !isfinite(alpha))
        return hc_fail(HC_STATUS_INVALID_ARGUMENT, "alpha must be finite");
    int32_t num_threads;
    hc_isa isa;
    int64_t bytes;
    if (!hc_check_dimension(input_length, 0, "input_length") ||
        !hc_checked_mul(input_length, (int64_t)sizeof(float), &bytes, "input size in bytes") ||
        !hc_check_length(output_length, input_length, "output") ||
        !hc_resolve_num_threads(options, &num_threads) || !hc_resolve_isa(options, &isa))
        return HC_STATUS_INVALID_ARGUMENT;
    if (input_length == 0) return HC_STATUS_OK;
    if (!hc_check_not_null(input, "input") || !hc_check_not_null(output, "output"))
        return HC_STATUS_INVALID_ARGUMENT;
    if (input != output && hc_ranges_overlap(input, input_length, output, input_length))
        return hc_fail(HC_STATUS_INVALID_ARGUMENT, "input and output must be the same buffer or not overlap");

    if (input_length < HC_ELTWISE_PARALLEL_MIN) num_threads = 1;
    /* Chunks of a fixed size (a multiple of 8), whatever the thread count. */
    const int64_t chunk = 16384, chunks = (input_length + chunk - 1) / chunk;
    int finished = 0;
#pragma omp parallel num_threads(num_threads) if (num_threads > 1)
    {
#pragma omp for schedule(dynamic, hc_dynamic_chunk(chunks, num_threads)) nowait
        for (int64_t c = 0; c < chunks; c++) {
            const int64_t begin = c * chunk, end = begin + chunk < input_length ? begin + chunk : input_length;
            if (isa >= HC_ISA_AVX2) {
                hc_eltwise_forward__avx2(op, alpha, input, output, begin, end);
            } else {
                for (int64_t i = begin; i < end; i++) output[i] = apply(op, alpha, input[i]);
            }
        }
        hc_parallel_join(&finished);
    }
    return HC_STATUS_OK;
}
