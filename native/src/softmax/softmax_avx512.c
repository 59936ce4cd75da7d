/* Softmax rows, AVX-512F, 16 lanes at a time. Compiled with -mavx512f (this file only). */
#include <immintrin.h>

#include "../core/avx512.h"
#include "../core/vmath.h"

#define VEC __m512
#define LANES 16
#define vec_set1 _mm512_set1_ps
#define vec_sub _mm512_sub_ps
#define vec_add _mm512_add_ps
#define vec_div _mm512_div_ps
#define vec_max_nan hc_max_nan16
#define vec_exp hc_exp16
#define vec_store _mm512_storeu_ps
#define vec_load_fill(p, n, fill) _mm512_mask_loadu_ps(_mm512_set1_ps(fill), hc_first_lanes16(n), p)
#define vec_store_tail(p, v, n) _mm512_mask_storeu_ps(p, hc_first_lanes16(n), v)
#define vec_zero_tail(v, n) _mm512_maskz_mov_ps(hc_first_lanes16(n), v)
#define SOFTMAX_ROW hc_softmax_row__avx512
#define SOFTMAX_BACKWARD_ROW hc_softmax_backward_row__avx512
#include "softmax_row.inc.c"
