/* Elementwise activations, AVX2 + FMA3, 8 lanes at a time; bandwidth-bound.
 * exp is a degree-5 minimax polynomial on [-ln2/2, ln2/2] scaled by 2^n (Cephes' expf scheme,
 * about 2 ulp); tanh and sigmoid are built on it and saturate to exact 0, ±1.
 * NaN inputs stay NaN (the clamps put x second, where min/max pass NaN through).
 * Compiled with -mavx2 -mfma (this file only). */
#include <immintrin.h>

#include "eltwise_internal.h"

static inline __m256 exp8(__m256 x) {
    x = _mm256_min_ps(_mm256_set1_ps(88.3762626647949f), x);
    x = _mm256_max_ps(_mm256_set1_ps(-88.3762626647949f), x);
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    /* 2^n through the exponent bits; n is in [-127, 128], split in two steps to stay finite. */
    const __m256i ni = _mm256_cvtps_epi32(n);
    const __m256i half = _mm256_srai_epi32(ni, 1);
    const __m256 scale1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(half, _mm256_set1_epi32(127)), 23));
    const __m256 scale2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_sub_epi32(ni, half), _mm256_set1_epi32(127)), 23));
    return _mm256_mul_ps(_mm256_mul_ps(p, scale1), scale2);
}

static inline __m256 apply8(hc_eltwise_op op, __m256 alpha, __m256 x) {
    const __m256 one = _mm256_set1_ps(1.0f), zero = _mm256_setzero_ps();
    switch (op) {
    case HC_ELTWISE_RELU: return _mm256_max_ps(zero, x) ;
    case HC_ELTWISE_LEAKY_RELU:
        return _mm256_blendv_ps(_mm256_mul_ps(x, alpha), x, _mm256_cmp_ps(x, zero, _CMP_GT_OQ));
    case HC_ELTWISE_SIGMOID:
        return _mm256_div_ps(one, _mm256_add_ps(one, exp8(_mm256_sub_ps(zero, x))));
    case HC_ELTWISE_TANH: {
        /* tanh|x| = 1 - 2 / (exp(2|x|) + 1), sign restored afterwards. */
        const __m256 sign = _mm256_and_ps(x, _mm256_set1_ps(-0.0f));
        const __m256 magnitude = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x);
        const __m256 e = exp8(_mm256_add_ps(magnitude, magnitude));
        const __m256 t = _mm256_sub_ps(one, _mm256_div_ps(_mm256_set1_ps(2.0f), _mm256_add_ps(e, one)));
        return _mm256_or_ps(t, sign);
    }
    }
    return x;
}

void hc_eltwise_forward__avx2(hc_eltwise_op op, float alpha, const float* input, float* output, int64_t begin, int64_t end) {
    const __m256 a = _mm256_set1_ps(alpha);
    int64_t i = begin;
    for (; i + 8 <= end; i += 8) _mm256_storeu_ps(output + i, apply8(op, a, _mm256_loadu_ps(input + i)));
    if (i < end) {
        const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(end - i)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        _mm256_maskstore_ps(output + i, mask, apply8(op, a, _mm256_maskload_ps(input + i, mask)));
    }
}
