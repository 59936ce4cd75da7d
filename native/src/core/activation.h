/* The one definition of every activation, forward and backward, for fused epilogues and the
 * standalone elementwise operation alike: scalar here, 8 lanes where the including file is
 * compiled with AVX2 + FMA, 16 lanes with AVX-512F. The OpenCL kernels (native/opencl/common.cl)
 * and the managed oracle (src/HpcCnn/Reference/ReferenceKernels.cs) follow the same formulas,
 * and the cross-backend tests tie them together.
 *
 *   none      y = x                        dx = dy
 *   relu      y = x > 0 ? x : 0 (NaN kept)  dx = y <= 0 ? 0 : dy  (NaN y passes dy, as PyTorch's threshold_backward)
 *   leaky     y = x > 0 ? x : alpha*x      dx = y > 0 ? dy : alpha*dy   (alpha >= 0)
 *   tanh      y = tanh(x)                  dx = dy * (1 - y*y)
 *   sigmoid   y = 1 / (1 + exp(-x))        dx = dy * y * (1 - y)
 *
 * The backward pass reads the forward *output* y, so a forward pass may run in place and a fused
 * convolution + activation needs nothing besides its output. For LeakyReLU that needs alpha >= 0
 * (then y > 0 exactly where x > 0); the plans check it. NaN propagates through every activation
 * (the rule in hpccnn.h), which is why ReLU is not max(x, 0): the max instructions return their
 * second operand when either is NaN. */
#ifndef HPCCNN_CORE_ACTIVATION_H
#define HPCCNN_CORE_ACTIVATION_H

#include <math.h>
#include <stdbool.h>

#include "hpccnn.h"
#include "vmath.h"

static inline float hc_activation_forward(hc_activation activation, float alpha, float x) {
    switch (activation) {
    case HC_ACTIVATION_RELU: return x > 0.0f || isnan(x) ? x : 0.0f;
    case HC_ACTIVATION_LEAKY_RELU: return x > 0.0f ? x : alpha * x;
    case HC_ACTIVATION_TANH: return tanhf(x);
    case HC_ACTIVATION_SIGMOID: return 1.0f / (1.0f + expf(-x));
    case HC_ACTIVATION_NONE: break;
    }
    return x;
}

static inline float hc_activation_backward(hc_activation activation, float alpha, float y, float dy) {
    switch (activation) {
    case HC_ACTIVATION_RELU: return y <= 0.0f ? 0.0f : dy;
    case HC_ACTIVATION_LEAKY_RELU: return y > 0.0f ? dy : alpha * dy;
    case HC_ACTIVATION_TANH: return dy * (1.0f - y * y);
    case HC_ACTIVATION_SIGMOID: return dy * (y * (1.0f - y));
    case HC_ACTIVATION_NONE: break;
    }
    return dy;
}

#if defined(__AVX2__)
static inline __m256 hc_activation_forward8(hc_activation activation, float alpha, __m256 x) {
    const __m256 one = _mm256_set1_ps(1.0f), zero = _mm256_setzero_ps();
    switch (activation) {
    case HC_ACTIVATION_RELU: return _mm256_and_ps(x, _mm256_cmp_ps(x, zero, _CMP_NLE_UQ)); /* x unless x <= 0 */
    case HC_ACTIVATION_LEAKY_RELU:
        return _mm256_blendv_ps(_mm256_mul_ps(x, _mm256_set1_ps(alpha)), x, _mm256_cmp_ps(x, zero, _CMP_GT_OQ));
    case HC_ACTIVATION_SIGMOID: return _mm256_div_ps(one, _mm256_add_ps(one, hc_exp8(_mm256_sub_ps(zero, x))));
    case HC_ACTIVATION_TANH: {
        /* tanh|x| = 1 - 2 / (exp(2|x|) + 1), sign restored afterwards. */
        const __m256 sign = _mm256_and_ps(x, _mm256_set1_ps(-0.0f));
        const __m256 magnitude = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x);
        const __m256 e = hc_exp8(_mm256_add_ps(magnitude, magnitude));
        return _mm256_or_ps(_mm256_sub_ps(one, _mm256_div_ps(_mm256_set1_ps(2.0f), _mm256_add_ps(e, one))), sign);
    }
    case HC_ACTIVATION_NONE: break;
    }
    return x;
}

static inline __m256 hc_activation_backward8(hc_activation activation, float alpha, __m256 y, __m256 dy) {
    const __m256 one = _mm256_set1_ps(1.0f), zero = _mm256_setzero_ps();
    switch (activation) {
    case HC_ACTIVATION_RELU: return _mm256_and_ps(dy, _mm256_cmp_ps(y, zero, _CMP_NLE_UQ));
    case HC_ACTIVATION_LEAKY_RELU:
        return _mm256_blendv_ps(_mm256_mul_ps(dy, _mm256_set1_ps(alpha)), dy, _mm256_cmp_ps(y, zero, _CMP_GT_OQ));
    case HC_ACTIVATION_TANH: return _mm256_mul_ps(dy, _mm256_fnmadd_ps(y, y, one));
    case HC_ACTIVATION_SIGMOID: return _mm256_mul_ps(dy, _mm256_mul_ps(y, _mm256_sub_ps(one, y)));
    case HC_ACTIVATION_NONE: break;
    }
    return dy;
}
#endif

#if defined(__AVX512F__)
static inline __m512 hc_activation_forward16(hc_activation activation, float alpha, __m512 x) {
    const __m512 one = _mm512_set1_ps(1.0f), zero = _mm512_setzero_ps();
    switch (activation) {
    case HC_ACTIVATION_RELU: return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(x, zero, _CMP_NLE_UQ), x); /* x unless x <= 0 */
    case HC_ACTIVATION_LEAKY_RELU:
        return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, zero, _CMP_GT_OQ), _mm512_mul_ps(x, _mm512_set1_ps(alpha)), x);
    case HC_ACTIVATION_SIGMOID: return _mm512_div_ps(one, _mm512_add_ps(one, hc_exp16(_mm512_sub_ps(zero, x))));
    case HC_ACTIVATION_TANH: {
        const __m512i sign_bit = _mm512_set1_epi32((int)0x80000000u);
        const __m512i bits = _mm512_castps_si512(x);
        const __m512 magnitude = _mm512_castsi512_ps(_mm512_andnot_si512(sign_bit, bits));
        const __m512 e = hc_exp16(_mm512_add_ps(magnitude, magnitude));
        const __m512 t = _mm512_sub_ps(one, _mm512_div_ps(_mm512_set1_ps(2.0f), _mm512_add_ps(e, one)));
        return _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(t), _mm512_and_si512(bits, sign_bit)));
    }
    case HC_ACTIVATION_NONE: break;
    }
    return x;
}

static inline __m512 hc_activation_backward16(hc_activation activation, float alpha, __m512 y, __m512 dy) {
    const __m512 one = _mm512_set1_ps(1.0f), zero = _mm512_setzero_ps();
    switch (activation) {
    case HC_ACTIVATION_RELU: return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(y, zero, _CMP_NLE_UQ), dy);
    case HC_ACTIVATION_LEAKY_RELU:
        return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(y, zero, _CMP_GT_OQ), _mm512_mul_ps(dy, _mm512_set1_ps(alpha)), dy);
    case HC_ACTIVATION_TANH: return _mm512_mul_ps(dy, _mm512_fnmadd_ps(y, y, one));
    case HC_ACTIVATION_SIGMOID: return _mm512_mul_ps(dy, _mm512_mul_ps(y, _mm512_sub_ps(one, y)));
    case HC_ACTIVATION_NONE: break;
    }
    return dy;
}
#endif

/* True for the activations a plan accepts; LeakyReLU's alpha must also be finite. */
static inline bool hc_activation_is_valid(hc_activation activation) {
    return activation == HC_ACTIVATION_NONE || activation == HC_ACTIVATION_RELU || activation == HC_ACTIVATION_LEAKY_RELU ||
           activation == HC_ACTIVATION_TANH || activation == HC_ACTIVATION_SIGMOID;
}

#endif
