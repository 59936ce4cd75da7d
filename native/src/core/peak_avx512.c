/* FMA throughput probe for AVX-512F. Compiled with -mavx512f -mfma (this file only). */
#include <immintrin.h>

#include "internal.h"

#define VEC __m512
#define VEC_LANES 16
#define VEC_SET1 _mm512_set1_ps
#define VEC_FMADD _mm512_fmadd_ps
#define VEC_ADD _mm512_add_ps
#define VEC_STOREU _mm512_storeu_ps
#define PROBE_NAME hc_fma_probe__avx512
#include "peak_probe.inc.c"
