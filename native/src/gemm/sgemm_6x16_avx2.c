/* 6x16 SGEMM micro-kernel for AVX2 + FMA3: 12 ymm accumulators, 2 B loads and 6 A broadcasts
 * per k step, 12 independent FMAs to cover the 4-cycle latency of two FMA pipes.
 * Compiled with -mavx2 -mfma (this file only); called only when the CPU has both. */
#include <immintrin.h>

#include "sgemm.h"
#include "transpose_avx2.h"

/* Up to 8 floats from p (the first `valid`), zero past them. */
static inline __m256 load_valid8(const float* p, int valid) {
    if (valid >= 8) return _mm256_loadu_ps(p);
    float tmp[8] = {0};
    for (int i = 0; i < valid; i++) tmp[i] = p[i];
    return _mm256_loadu_ps(tmp);
}

/* Applies the epilogue to one 8-wide accumulator and returns the value to store. `old` points at
 * the C values (read when not first) of columns `column`..; `valid` says how many of the 8 lanes exist. */
static inline __m256 finish8(__m256 acc, const float* old, int row, int column, int valid, const hc_gemm_epilogue* e) {
    __m256 start;
    if (e->first) {
        start = e->bias != NULL ? _mm256_broadcast_ss(e->bias + row) : _mm256_setzero_ps();
        if (e->column_bias != NULL) start = _mm256_add_ps(start, load_valid8(e->column_bias + column, valid));
    } else {
        start = load_valid8(old, valid);
    }
    __m256 v = _mm256_add_ps(start, acc);
    return e->last ? hc_activation_forward8(e->activation, e->alpha, v) : v;
}

static inline void store8(float* c, __m256 v, int valid) {
    if (valid >= 8) {
        _mm256_storeu_ps(c, v);
        return;
    }
    float tmp[8];
    _mm256_storeu_ps(tmp, v);
    for (int i = 0; i < valid; i++) c[i] = tmp[i];
}

void hc_sgemm_ukernel_6x16__avx2(int64_t kc, const float* restrict a, const float* restrict b, int64_t ldb,
                                 float* restrict c, int64_t ldc, int m, int n, const hc_gemm_epilogue* e) {
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
    __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
    __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
    __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
    __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
    __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();

    for (int64_t k = 0; k < kc; k++) {
        const __m256 b0 = _mm256_load_ps(b);
        const __m256 b1 = _mm256_load_ps(b + 8);
        __m256 a_k = _mm256_broadcast_ss(a + 0);
        c00 = _mm256_fmadd_ps(a_k, b0, c00);
        c01 = _mm256_fmadd_ps(a_k, b1, c01);
        a_k = _mm256_broadcast_ss(a + 1);
        c10 = _mm256_fmadd_ps(a_k, b0, c10);
        c11 = _mm256_fmadd_ps(a_k, b1, c11);
        a_k = _mm256_broadcast_ss(a + 2);
        c20 = _mm256_fmadd_ps(a_k, b0, c20);
        c21 = _mm256_fmadd_ps(a_k, b1, c21);
        a_k = _mm256_broadcast_ss(a + 3);
        c30 = _mm256_fmadd_ps(a_k, b0, c30);
        c31 = _mm256_fmadd_ps(a_k, b1, c31);
        a_k = _mm256_broadcast_ss(a + 4);
        c40 = _mm256_fmadd_ps(a_k, b0, c40);
        c41 = _mm256_fmadd_ps(a_k, b1, c41);
        a_k = _mm256_broadcast_ss(a + 5);
        c50 = _mm256_fmadd_ps(a_k, b0, c50);
        c51 = _mm256_fmadd_ps(a_k, b1, c51);
        a += HC_SGEMM_MR;
        b += ldb;
    }

    if (m == HC_SGEMM_MR && n == HC_SGEMM_NR) {
        /* Full tile: straight from registers, no spill. */
#define HC_FINISH_ROW(i, lo, hi)                                              \
        do {                                                                  \
            float* row = c + (i) * ldc;                                       \
            _mm256_storeu_ps(row, finish8(lo, row, i, 0, 8, e));              \
            _mm256_storeu_ps(row + 8, finish8(hi, row + 8, i, 8, 8, e));      \
        } while (0)
        HC_FINISH_ROW(0, c00, c01);
        HC_FINISH_ROW(1, c10, c11);
        HC_FINISH_ROW(2, c20, c21);
        HC_FINISH_ROW(3, c30, c31);
        HC_FINISH_ROW(4, c40, c41);
        HC_FINISH_ROW(5, c50, c51);
#undef HC_FINISH_ROW
        return;
    }
    const __m256 acc[HC_SGEMM_MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
    const int n0 = n < 8 ? n : 8, n1 = n - n0;
    for (int i = 0; i < m; i++) {
        float* row = c + i * ldc;
        store8(row, finish8(acc[i][0], row, i, 0, n0, e), n0);
        if (n1 > 0) store8(row + 8, finish8(acc[i][1], row + 8, i, 8, n1, e), n1);
    }
}

/* hc_sgemm_pack_rows_fn for 16-column panels: 8 x 8 tiles, transposed in registers. The 8
 * elements of a tile's row are gathered by masked loads, one per run of the row they cross. */
static void pack_b_rows_16(const hc_gemm_rows* bt, int64_t k0, int64_t kc, int64_t j0, int64_t jn, int64_t k_stride, float* packed) {
    for (int64_t kk = 0; kk < kc; kk += 8) {
        const int count = kc - kk < 8 ? (int)(kc - kk) : 8;
        __m256i masks[8];
        int64_t offsets[8];
        int runs = 0;
        for (int lane = 0; lane < count; runs++) {
            const int64_t k = k0 + kk + lane;
            int64_t length = count - lane;
            if (bt->width != INT64_MAX && bt->width - k % bt->width < length) length = bt->width - k % bt->width;
            masks[runs] = _mm256_andnot_si256(hc_first_lanes8(lane), hc_first_lanes8(lane + (int)length));
            offsets[runs] = hc_gemm_rows_offset(bt, k) - lane;
            lane += (int)length;
        }
        for (int64_t q = 0; q * 16 < jn; q++)
            for (int half = 0; half < 2; half++) {
                const int64_t j_first = q * 16 + half * 8, rows = jn - j_first;
                __m256 r[8];
                for (int i = 0; i < 8; i++) {
                    r[i] = _mm256_setzero_ps();
                    if (i >= rows) continue;
                    const int64_t j = j0 + j_first + i;
                    const float* row = bt->base + (bt->offsets != NULL ? bt->offsets[j] : j * bt->ld);
                    for (int run = 0; run < runs; run++) r[i] = _mm256_or_ps(r[i], _mm256_maskload_ps(row + offsets[run], masks[run]));
                }
                hc_transpose8x8(r);
                float* out = packed + q * k_stride * 16 + half * 8 + kk * 16;
                for (int t = 0; t < count; t++) _mm256_storeu_ps(out + t * 16, r[t]);
            }
    }
}

/* hc_sgemm_pack_a_fn for 6-row panels. */
static void pack_a_rows_6(const float* a, int64_t ld, int64_t i0, int64_t im, int64_t k0, int64_t kc, float* packed) {
    for (int64_t p = 0; p * 6 < im; p++)
        hc_pack_a_panel_avx2(a, ld, i0 + p * 6, im - p * 6 < 6 ? (int)(im - p * 6) : 6, k0, kc, 6, packed + p * kc * 6);
}

/* kc_max keeps a 6 x 320 A sliver and a 320 x 16 B panel (27.5 KiB) together in L1. */
const hc_sgemm_kernel hc_sgemm_kernel_6x16__avx2 = {
    .mr = 6, .nr = 16, .kc_max = 320, .run = hc_sgemm_ukernel_6x16__avx2, .pack_a_rows = pack_a_rows_6, .pack_b_rows = pack_b_rows_16};
