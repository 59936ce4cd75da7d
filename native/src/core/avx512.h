/* Small AVX-512F helpers shared by the kernels compiled with -mavx512f. Include only from those
 * files: everything here is inline and uses AVX-512 instructions. */
#ifndef HPCCNN_CORE_AVX512_H
#define HPCCNN_CORE_AVX512_H

#include <immintrin.h>

#include "internal.h"

/* The mask of the first `count` lanes (all 16 for count >= 16, none for count <= 0). */
static inline __mmask16 hc_first_lanes16(int64_t count) {
    return (__mmask16)(count >= 16 ? 0xFFFF : count <= 0 ? 0 : (1u << count) - 1u);
}

/* The fused activation of convolution epilogues, 16 lanes at a time. */
static inline __m512 hc_activate16(__m512 v, hc_activation activation, float alpha) {
    switch (activation) {
    case HC_ACTIVATION_RELU: return _mm512_max_ps(v, _mm512_setzero_ps());
    case HC_ACTIVATION_LEAKY_RELU: {
        const __mmask16 positive = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_GT_OQ);
        return _mm512_mask_blend_ps(positive, _mm512_mul_ps(v, _mm512_set1_ps(alpha)), v);
    }
    case HC_ACTIVATION_NONE: break;
    }
    return v;
}

#endif
