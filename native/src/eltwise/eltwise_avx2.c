/* Elementwise activations, AVX2 + FMA3, 8 lanes at a time (core/activation.h); bandwidth-bound.
 * Compiled with -mavx2 -mfma (this file only). */
#include <immintrin.h>

#include "../core/activation.h"

static inline __m256i tail_mask8(int64_t count) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

#define VEC __m256
#define LANES 8
#define vec_load(p) _mm256_loadu_ps(p)
#define vec_store(p, v) _mm256_storeu_ps(p, v)
#define vec_load_tail(p, n) _mm256_maskload_ps(p, tail_mask8(n))
#define vec_store_tail(p, v, n) _mm256_maskstore_ps(p, tail_mask8(n), v)
#define vec_forward hc_activation_forward8
#define vec_backward hc_activation_backward8
#define ELTWISE_FORWARD hc_eltwise_forward__avx2
#define ELTWISE_BACKWARD hc_eltwise_backward__avx2
#include "eltwise.inc.c"
