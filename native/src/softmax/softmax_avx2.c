/* Softmax rows, AVX2 + FMA3, 8 lanes at a time. Compiled with -mavx2 -mfma (this file only). */
#include <immintrin.h>
#include <stdint.h>

#include "../core/vmath.h"

/* All ones in the first min(n, 8) lanes. */
static inline __m256 first_lanes8(int64_t n) {
    return _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(n < 8 ? (int)n : 8), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)));
}

static inline __m256 load_fill8(const float* p, int64_t n, float fill) {
    const __m256 m = first_lanes8(n);
    return _mm256_blendv_ps(_mm256_set1_ps(fill), _mm256_maskload_ps(p, _mm256_castps_si256(m)), m);
}

#define VEC __m256
#define LANES 8
#define vec_set1 _mm256_set1_ps
#define vec_sub _mm256_sub_ps
#define vec_add _mm256_add_ps
#define vec_div _mm256_div_ps
#define vec_max_nan hc_max_nan8
#define vec_exp hc_exp8
#define vec_store _mm256_storeu_ps
#define vec_load_fill(p, n, fill) load_fill8(p, n, fill)
#define vec_store_tail(p, v, n) _mm256_maskstore_ps(p, _mm256_castps_si256(first_lanes8(n)), v)
#define vec_zero_tail(v, n) _mm256_and_ps(v, first_lanes8(n))
#define SOFTMAX_ROW hc_softmax_row__avx2
#define SOFTMAX_BACKWARD_ROW hc_softmax_backward_row__avx2
#include "softmax_row.inc.c"
