/* The GEMM convolutions (conv2d_gemm.inc.c) for AVX2 + FMA3: 6x16 micro-kernel, 8-wide copies.
 * Compiled with -mavx2 -mfma (this file only). */
#include <immintrin.h>

#include "../gemm/sgemm.h"

/* kc_max keeps a 6 x 320 A sliver and a 320 x 16 B panel (27.5 KiB) together in L1. */
static const hc_sgemm_kernel GEMM_KERNEL = {.mr = 6, .nr = 16, .kc_max = 320, .run = hc_sgemm_ukernel_6x16__avx2};

static inline void copy_run(float* dst, const float* src, int64_t count) {
    for (int64_t i = 0; i < count; i += 8) _mm256_storeu_ps(dst + i, _mm256_loadu_ps(src + i));
}

#include "conv2d_gemm.inc.c"

const hc_conv2d_algorithm hc_conv2d_gemm_1x1_6x16_avx2 = {
    .name = "gemm_1x1_6x16_avx2",
    .isa = HC_ISA_AVX2,
    .accepts = accepts_1x1,
    .prepare = prepare_gemm,
    .run = run_1x1,
};

const hc_conv2d_algorithm hc_conv2d_gemm_implicit_6x16_avx2 = {
    .name = "gemm_implicit_6x16_avx2",
    .isa = HC_ISA_AVX2,
    .accepts = fits_int32_lanes,
    .prepare = prepare_gemm,
    .run = run_implicit,
};
