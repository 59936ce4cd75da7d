/* The GEMM convolutions (conv2d_gemm.inc.c) for AVX-512F: 8x32 micro-kernel (8x16 for narrow
 * last panels) and 16-wide copies.
 * Compiled with -mavx512f -mavx2 -mfma (this file only). */
#include <immintrin.h>

#include "../core/avx512.h"
#include "../gemm/sgemm.h"

#define GEMM_KERNEL hc_sgemm_kernel_8x32__avx512

static inline void copy_run(float* dst, const float* src, int64_t count) {
    for (int64_t i = 0; i < count; i += 16) _mm512_storeu_ps(dst + i, _mm512_loadu_ps(src + i));
}

/* Exactly count floats: the tail is a masked load and store. */
static inline void copy_run_exact(float* dst, const float* src, int64_t count) {
    int64_t i = 0;
    for (; i + 16 <= count; i += 16) _mm512_storeu_ps(dst + i, _mm512_loadu_ps(src + i));
    if (i < count) {
        const __mmask16 tail = hc_first_lanes16(count - i);
        _mm512_mask_storeu_ps(dst + i, tail, _mm512_maskz_loadu_ps(tail, src + i));
    }
}

#define GEMM_ROWS
#define GEMM_ROWS_WINDOW hc_conv2d_gemm_rows_window_8x32_avx512
#define GEMM_ROWS_WINDOW_NAME "gemm_rows_window_8x32_avx512"
#define GEMM_ISA HC_ISA_AVX512
#define GEMM_1X1 hc_conv2d_gemm_1x1_8x32_avx512
#define GEMM_1X1_NAME "gemm_1x1_8x32_avx512"
#define GEMM_IMPLICIT hc_conv2d_gemm_implicit_8x32_avx512
#define GEMM_IMPLICIT_NAME "gemm_implicit_8x32_avx512"
#include "conv2d_gemm.inc.c"
