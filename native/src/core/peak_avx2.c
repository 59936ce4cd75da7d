/* FMA throughput probe for AVX2 + FMA3. Compiled with -mavx2 -mfma (this file only). */
#include <immintrin.h>

#include "internal.h"

#define VEC __m256
#define VEC_LANES 8
#define VEC_SET1 _mm256_set1_ps
#define VEC_FMADD _mm256_fmadd_ps
#define VEC_ADD _mm256_add_ps
#define VEC_STOREU _mm256_storeu_ps
#define PROBE_NAME hc_fma_probe__avx2
#include "peak_probe.inc.c"
