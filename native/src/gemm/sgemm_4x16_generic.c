/* 4x16 SGEMM micro-kernel in plain C for CPUs without AVX2: the contract of sgemm.h, written so
 * the compiler can keep the 64 accumulators in SSE registers. */
#include "gemm.h"

void hc_sgemm_ukernel_4x16__generic(int64_t kc, const float* a, const float* b, int64_t ldb, float* c, int64_t ldc, int m, int n,
                                    const hc_gemm_epilogue* e) {
    float acc[4][16] = {{0}};
    for (int64_t k = 0; k < kc; k++) {
        for (int i = 0; i < 4; i++) {
            const float a_k = a[i];
            for (int j = 0; j < 16; j++) acc[i][j] += a_k * b[j];
        }
        a += 4;
        b += ldb;
    }
    for (int i = 0; i < m; i++) {
        float* row = c + i * ldc;
        for (int j = 0; j < n; j++) {
            float start = e->first ? (e->bias != NULL ? e->bias[i] : 0.0f) + (e->column_bias != NULL ? e->column_bias[j] : 0.0f) : row[j];
            float v = start + acc[i][j];
            row[j] = e->last ? hc_activation_forward(e->activation, e->alpha, v) : v;
        }
    }
}

const hc_sgemm_kernel hc_sgemm_kernel_4x16__generic = {.mr = 4, .nr = 16, .kc_max = 256, .run = hc_sgemm_ukernel_4x16__generic};
