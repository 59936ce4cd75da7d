/* hc_measure_fma_peak: the FLOP rate benchmarks compare against, measured, not assumed. */
#include <omp.h>

#include "internal.h"

float hc_fma_probe__avx2(int64_t iterations, float seed);
float hc_fma_probe__avx512(int64_t iterations, float seed);

/* Portable fallback: 8 scalar chains the compiler may vectorise for the baseline ISA. */
static float fma_probe_generic(int64_t iterations, float seed) {
    float acc[8];
    for (int i = 0; i < 8; i++) acc[i] = seed + (float)i;
    for (int64_t n = 0; n < iterations; n++)
        for (int i = 0; i < 8; i++) acc[i] = acc[i] * 0.999999f + 1e-7f;
    float sum = 0.0f;
    for (int i = 0; i < 8; i++) sum += acc[i];
    return sum;
}

hc_status hc_measure_fma_peak(int32_t num_threads, double* gflops) {
    /* Runs on the best instruction set: on CPUs with 512-bit FMA units that is twice AVX2's rate. */
    hc_clear_error();
    hc_plan_options options = {.num_threads = num_threads, .max_isa = HC_ISA_AUTO};
    int32_t threads;
    hc_isa isa;
    if (!hc_check_not_null(gflops, "gflops") || !hc_resolve_num_threads(&options, &threads) ||
        !hc_resolve_isa(&options, &isa))
        return HC_STATUS_INVALID_ARGUMENT;
    /* FLOPs per iteration per thread: 12 FMAs x lanes x 2, or 8 scalar multiply-adds x 2. */
    const double flops_per_iteration = isa >= HC_ISA_AVX512 ? 12.0 * 16.0 * 2.0 : isa >= HC_ISA_AVX2 ? 12.0 * 8.0 * 2.0 : 8.0 * 2.0;
    const int64_t iterations = isa >= HC_ISA_AVX2 ? 4000000 : 8000000;
    double best = 0.0;
    volatile float sink = 0.0f;
    for (int attempt = 0; attempt < 3; attempt++) { /* best of three: the machine is shared */
        const double start = hc_now_ms();
#pragma omp parallel num_threads(threads)
        {
            const float seed = (float)omp_get_thread_num();
            const float value = isa >= HC_ISA_AVX512 ? hc_fma_probe__avx512(iterations, seed)
                                : isa >= HC_ISA_AVX2 ? hc_fma_probe__avx2(iterations, seed)
                                                     : fma_probe_generic(iterations, seed);
#pragma omp atomic
            sink += value;
        }
        const double seconds = (hc_now_ms() - start) * 1e-3;
        const double rate = flops_per_iteration * (double)iterations * threads / seconds * 1e-9;
        if (rate > best) best = rate;
    }
    (void)sink;
    *gflops = best;
    return HC_STATUS_OK;
}
