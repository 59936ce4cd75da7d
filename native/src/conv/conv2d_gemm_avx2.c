/* The GEMM convolutions (conv2d_gemm.inc.c) for AVX2 + FMA3: 6x16 micro-kernel, 8-wide copies.
 * Compiled with -mavx2 -mfma (this file only). */
#include <immintrin.h>

#include "../gemm/sgemm.h"

#define GEMM_KERNEL hc_sgemm_kernel_6x16__avx2

static inline void copy_run(float* dst, const float* src, int64_t count) {
    for (int64_t i = 0; i < count; i += 8) _mm256_storeu_ps(dst + i, _mm256_loadu_ps(src + i));
}

#define GEMM_ISA HC_ISA_AVX2
#define GEMM_1X1 hc_conv2d_gemm_1x1_6x16_avx2
#define GEMM_1X1_NAME "gemm_1x1_6x16_avx2"
#define GEMM_IMPLICIT hc_conv2d_gemm_implicit_6x16_avx2
#define GEMM_IMPLICIT_NAME "gemm_implicit_6x16_avx2"
#include "conv2d_gemm.inc.c"
