/* Elementwise activations, AVX-512F, 16 lanes at a time (core/activation.h); bandwidth-bound.
 * Compiled with -mavx512f (this file only). */
#include <immintrin.h>

#include "../core/activation.h"
#include "../core/avx512.h"

#define VEC __m512
#define LANES 16
#define vec_load(p) _mm512_loadu_ps(p)
#define vec_store(p, v) _mm512_storeu_ps(p, v)
#define vec_load_tail(p, n) _mm512_maskz_loadu_ps(hc_first_lanes16(n), p)
#define vec_store_tail(p, v, n) _mm512_mask_storeu_ps(p, hc_first_lanes16(n), v)
#define vec_forward hc_activation_forward16
#define vec_backward hc_activation_backward16
#define ELTWISE_FORWARD hc_eltwise_forward__avx512
#define ELTWISE_BACKWARD hc_eltwise_backward__avx512
#include "eltwise.inc.c"
