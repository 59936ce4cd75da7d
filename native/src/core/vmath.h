/* Vector math shared by every kernel: exp for 8 (AVX2) and 16 (AVX-512F) lanes, the instruction
 * set taken from the including file's compile flags. exp is Cephes' expf scheme: a degree-5
 * polynomial on [-ln2/2, ln2/2] scaled by 2^n, about 2 ulp; the input is clamped to
 * [-88.38, 88.38], so the result is finite and never denormal; NaN stays NaN (the clamps put x
 * second, where min/max pass it through). */
#ifndef HPCCNN_CORE_VMATH_H
#define HPCCNN_CORE_VMATH_H

#include <math.h>

#if defined(__AVX2__) || defined(__AVX512F__)
#include <immintrin.h>
#endif

/* max(a, b) that is NaN when either operand is (hpccnn.h's rule), unlike fmaxf, which drops a
 * NaN, and the max instructions, which return their second operand when either is NaN: so the
 * vector forms compute max(b, a) and only need to test b. Pass a running maximum as a, so the
 * test is off its dependency chain. */
static inline float hc_max_nan(float a, float b) { return a > b || isnan(a) ? a : b; }

#if defined(__AVX2__)
static inline __m256 hc_max_nan8(__m256 a, __m256 b) { return _mm256_or_ps(_mm256_max_ps(b, a), _mm256_cmp_ps(b, b, _CMP_UNORD_Q)); }
#endif

#if defined(__AVX512F__)
static inline __m512 hc_max_nan16(__m512 a, __m512 b) { return _mm512_mask_max_ps(b, _mm512_cmp_ps_mask(b, b, _CMP_ORD_Q), b, a); }
#endif

#define HC_EXP_LIMIT 88.3762626647949f
#define HC_LOG2E 1.44269504088896341f
#define HC_LN2_HIGH 0.693359375f
#define HC_LN2_LOW -2.12194440e-4f
#define HC_EXP_P0 1.9875691500e-4f
#define HC_EXP_P1 1.3981999507e-3f
#define HC_EXP_P2 8.3334519073e-3f
#define HC_EXP_P3 4.1665795894e-2f
#define HC_EXP_P4 1.6666665459e-1f
#define HC_EXP_P5 5.0000001201e-1f

#if defined(__AVX2__)
static inline __m256 hc_exp8(__m256 x) {
    x = _mm256_min_ps(_mm256_set1_ps(HC_EXP_LIMIT), x);
    x = _mm256_max_ps(_mm256_set1_ps(-HC_EXP_LIMIT), x);
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(HC_LOG2E)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(HC_LN2_HIGH), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(HC_LN2_LOW), r);
    __m256 p = _mm256_set1_ps(HC_EXP_P0);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(HC_EXP_P1));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(HC_EXP_P2));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(HC_EXP_P3));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(HC_EXP_P4));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(HC_EXP_P5));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    /* 2^n through the exponent bits; n is in [-127, 128], split in two steps to stay finite. */
    const __m256i ni = _mm256_cvtps_epi32(n);
    const __m256i half = _mm256_srai_epi32(ni, 1);
    const __m256 scale1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(half, _mm256_set1_epi32(127)), 23));
    const __m256 scale2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_sub_epi32(ni, half), _mm256_set1_epi32(127)), 23));
    return _mm256_mul_ps(_mm256_mul_ps(p, scale1), scale2);
}
#endif

#if defined(__AVX512F__)
static inline __m512 hc_exp16(__m512 x) {
    x = _mm512_min_ps(_mm512_set1_ps(HC_EXP_LIMIT), x);
    x = _mm512_max_ps(_mm512_set1_ps(-HC_EXP_LIMIT), x);
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(HC_LOG2E)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(HC_LN2_HIGH), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(HC_LN2_LOW), r);
    __m512 p = _mm512_set1_ps(HC_EXP_P0);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(HC_EXP_P1));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(HC_EXP_P2));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(HC_EXP_P3));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(HC_EXP_P4));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(HC_EXP_P5));
    p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    const __m512i ni = _mm512_cvtps_epi32(n);
    const __m512i half = _mm512_srai_epi32(ni, 1);
    const __m512 scale1 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(half, _mm512_set1_epi32(127)), 23));
    const __m512 scale2 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(_mm512_sub_epi32(ni, half), _mm512_set1_epi32(127)), 23));
    return _mm512_mul_ps(_mm512_mul_ps(p, scale1), scale2);
}
#endif

#endif
