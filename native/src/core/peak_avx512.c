/* FMA throughput probe for AVX-512F: 12 independent accumulator chains keep both FMA pipes
 * busy despite the 4-cycle latency. Compiled with -mavx512f -mfma (this file only). */
#include <immintrin.h>

#include "internal.h"

float hc_fma_probe__avx512(int64_t iterations, float seed) {
    __m512 acc[12];
    for (int i = 0; i < 12; i++) acc[i] = _mm512_set1_ps(seed + (float)i);
    const __m512 scale = _mm512_set1_ps(0.999999f), shift = _mm512_set1_ps(1e-7f);
    for (int64_t n = 0; n < iterations; n++) {
#pragma GCC unroll 12
        for (int i = 0; i < 12; i++) acc[i] = _mm512_fmadd_ps(acc[i], scale, shift);
    }
    __m512 sum = acc[0];
    for (int i = 1; i < 12; i++) sum = _mm512_add_ps(sum, acc[i]);
    float lanes[16];
    _mm512_storeu_ps(lanes, sum);
    return lanes[0];
}
