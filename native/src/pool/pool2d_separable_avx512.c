/* The separable pooling template (pool2d_separable.inc.c) with 16-wide AVX-512 vectors and
 * masked tails (free with AVX-512 masks). Compiled with -mavx512f (this file only). */
#include <immintrin.h>

#include "../core/avx512.h"
#include "pool2d_internal.h"

#define VEC __m512
#define VEC_WIDTH 16
#define vec_load _mm512_loadu_ps
#define vec_store _mm512_storeu_ps
#define vec_set1 _mm512_set1_ps
#define vec_max hc_max_nan16
#define vec_add _mm512_add_ps
#define vec_mul _mm512_mul_ps
#define vec_div _mm512_div_ps

static inline __m512 vec_load_tail(const float* p, int64_t n) { return _mm512_maskz_loadu_ps(hc_first_lanes16(n), p); }
static inline void vec_store_tail(float* p, __m512 v, int64_t n) { _mm512_mask_storeu_ps(p, hc_first_lanes16(n), v); }

/* even[i] = row[2i], odd[i] = row[2i+1] for i < half: two loads and two permutes per 16. */
static void split_even_odd(const float* row, int64_t half, float* even, float* odd) {
    const __m512i even_lanes = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd_lanes = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    int64_t i = 0;
    for (; i + 16 <= half; i += 16) {
        const __m512 lo = _mm512_loadu_ps(row + 2 * i), hi = _mm512_loadu_ps(row + 2 * i + 16);
        _mm512_storeu_ps(even + i, _mm512_permutex2var_ps(lo, even_lanes, hi));
        _mm512_storeu_ps(odd + i, _mm512_permutex2var_ps(lo, odd_lanes, hi));
    }
    for (; i < half; i++) {
        even[i] = row[2 * i];
        odd[i] = row[2 * i + 1];
    }
}

#define SEPARABLE hc_pool2d_separable_avx512
#define SEPARABLE_NAME "separable_avx512"
#define SEPARABLE_ISA HC_ISA_AVX512
#define SEPARABLE_MASKED_TAILS 1
/* Measured on Zen 5: 16-wide passes win with stride 1 (avgpool_3x3s1_pad 0.95 -> 0.80 ms) but
 * lose with stride 2 (avgpool_3x3s2 0.105 -> 0.178 ms), which stays with the AVX2 kernel. */
#define SEPARABLE_UNIT_STRIDE_ONLY 1
#include "pool2d_separable.inc.c"
