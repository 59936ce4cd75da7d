/* In-register transposes for the packers of the AVX2 and AVX-512 micro-kernels; include only
 * from files compiled with -mavx2. */
#ifndef HPCCNN_GEMM_TRANSPOSE_AVX2_H
#define HPCCNN_GEMM_TRANSPOSE_AVX2_H

#include <immintrin.h>

/* 8 rows of 8 floats: unpack pairs of rows, shuffle pairs of pairs (each 128-bit lane then holds
 * 4 rows of one column), then join the lanes. */
static inline void hc_transpose8x8(__m256 r[8]) {
    __m256 t[8], u[8];
    for (int i = 0; i < 4; i++) {
        t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int h = 0; h < 2; h++) {
        u[4 * h] = _mm256_shuffle_ps(t[4 * h], t[4 * h + 2], 0x44);
        u[4 * h + 1] = _mm256_shuffle_ps(t[4 * h], t[4 * h + 2], 0xEE);
        u[4 * h + 2] = _mm256_shuffle_ps(t[4 * h + 1], t[4 * h + 3], 0x44);
        u[4 * h + 3] = _mm256_shuffle_ps(t[4 * h + 1], t[4 * h + 3], 0xEE);
    }
    for (int m = 0; m < 4; m++) {
        r[m] = _mm256_permute2f128_ps(u[m], u[4 + m], 0x20);
        r[4 + m] = _mm256_permute2f128_ps(u[m], u[4 + m], 0x31);
    }
}

/* The first `count` (0..8) lanes set, as a maskload/maskstore mask. */
static inline __m256i hc_first_lanes8(int count) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* Packs rows [i0, i0 + rows) (rows <= mr <= 8) and columns [k0, k0 + kc) of a row-major A (ld
 * floats per row) as one MR-row panel: panel[kk * mr + r], zero in rows past `rows`. */
static inline void hc_pack_a_panel_avx2(const float* a, int64_t ld, int64_t i0, int rows, int64_t k0, int64_t kc, int mr, float* panel) {
    const __m256i row_mask = hc_first_lanes8(mr);
    for (int64_t kk = 0; kk < kc; kk += 8) {
        const int count = kc - kk < 8 ? (int)(kc - kk) : 8;
        const __m256i mask = hc_first_lanes8(count);
        __m256 r[8];
        for (int i = 0; i < 8; i++) r[i] = i < rows ? _mm256_maskload_ps(a + (i0 + i) * ld + k0 + kk, mask) : _mm256_setzero_ps();
        hc_transpose8x8(r);
        for (int t = 0; t < count; t++) {
            if (mr == 8) {
                _mm256_storeu_ps(panel + (kk + t) * 8, r[t]);
            } else {
                _mm256_maskstore_ps(panel + (kk + t) * mr, row_mask, r[t]);
            }
        }
    }
}

#endif
