/* 8x32 SGEMM micro-kernel for AVX-512F: 16 zmm accumulators, 2 B loads and 8 A broadcasts per
 * k step. On CPUs with full-width 512-bit FMA units (Zen 5, Intel server cores) this doubles the
 * FLOPs per cycle of the AVX2 kernel. Partial tiles use AVX-512 masks, so there is one code path.
 * Compiled with -mavx512f -mfma (this file only); called only when the CPU has AVX-512F. */
#include <immintrin.h>

#include "../core/avx512.h"
#include "sgemm.h"
#include "transpose_avx2.h"

static inline void finish16(float* c, __m512 acc, __mmask16 mask, int row, int column, const hc_gemm_epilogue* e) {
    __m512 start;
    if (e->first) {
        start = e->bias != NULL ? _mm512_set1_ps(e->bias[row]) : _mm512_setzero_ps();
        if (e->column_bias != NULL) start = _mm512_add_ps(start, _mm512_maskz_loadu_ps(mask, e->column_bias + column));
    } else {
        start = _mm512_maskz_loadu_ps(mask, c);
    }
    __m512 v = _mm512_add_ps(start, acc);
    if (e->last) v = hc_activation_forward16(e->activation, e->alpha, v);
    _mm512_mask_storeu_ps(c, mask, v);
}

/* The 8 x (16 * halves) kernel; the half-width instance serves a last panel with at most 16
 * valid columns at half the cost. */
static inline __attribute__((always_inline)) void ukernel_8xN(int64_t kc, const float* restrict a, const float* restrict b,
                                                              int64_t ldb, float* restrict c, int64_t ldc, int m, int n,
                                                              const hc_gemm_epilogue* e, const int halves) {
    __m512 acc[8][2];
    for (int i = 0; i < 8; i++) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
#pragma GCC unroll 4
    for (int64_t k = 0; k < kc; k++) {
        const __m512 b0 = _mm512_load_ps(b);
        const __m512 b1 = halves == 2 ? _mm512_load_ps(b + 16) : b0;
#pragma GCC unroll 8
        for (int i = 0; i < 8; i++) {
            const __m512 a_k = _mm512_set1_ps(a[i]);
            acc[i][0] = _mm512_fmadd_ps(a_k, b0, acc[i][0]);
            if (halves == 2) acc[i][1] = _mm512_fmadd_ps(a_k, b1, acc[i][1]);
        }
        a += 8;
        b += ldb;
    }
    const __mmask16 lo = hc_first_lanes16(n);
    const __mmask16 hi = hc_first_lanes16(n - 16);
#pragma GCC unroll 8
    for (int i = 0; i < 8; i++) {
        if (i >= m) break;
        float* row = c + i * ldc;
        finish16(row, acc[i][0], lo, i, 0, e);
        if (halves == 2 && hi) finish16(row + 16, acc[i][1], hi, i, 16, e);
    }
}

void hc_sgemm_ukernel_8x32__avx512(int64_t kc, const float* a, const float* b, int64_t ldb, float* c, int64_t ldc,
                                   int m, int n, const hc_gemm_epilogue* e) {
    ukernel_8xN(kc, a, b, ldb, c, ldc, m, n, e, 2);
}

void hc_sgemm_ukernel_8x16__avx512(int64_t kc, const float* a, const float* b, int64_t ldb, float* c, int64_t ldc,
                                   int m, int n, const hc_gemm_epilogue* e) {
    ukernel_8xN(kc, a, b, ldb, c, ldc, m, n, e, 1);
}

/* B rows read where they are: row k at b + offsets[k], any alignment, loads masked to the n
 * valid columns so nothing past them is touched. The accumulators are named variables: with an
 * array and masks live across the loop, GCC 12 stores the array back to the stack every step. */
#define ROW_FMA(i)                                        \
    do {                                                  \
        const __m512 a_k = _mm512_set1_ps(a[i]);          \
        c##i##0 = _mm512_fmadd_ps(a_k, b0, c##i##0);      \
        if (halves == 2) c##i##1 = _mm512_fmadd_ps(a_k, b1, c##i##1); \
    } while (0)
#define ROW_FINISH(i)                                                           \
    do {                                                                        \
        if (i < m) {                                                            \
            finish16(c + i * ldc, c##i##0, lo, i, 0, e);                        \
            if (halves == 2 && hi) finish16(c + i * ldc + 16, c##i##1, hi, i, 16, e); \
        }                                                                       \
    } while (0)

static inline __attribute__((always_inline)) void ukernel_8xN_rows(int64_t kc, const float* restrict a, const float* restrict b,
                                                                   const int32_t* restrict offsets, float* restrict c, int64_t ldc,
                                                                   int m, int n, const hc_gemm_epilogue* e, const int halves) {
    const __mmask16 lo = hc_first_lanes16(n);
    const __mmask16 hi = hc_first_lanes16(n - 16);
    __m512 c00 = _mm512_setzero_ps(), c10 = c00, c20 = c00, c30 = c00, c40 = c00, c50 = c00, c60 = c00, c70 = c00;
    __m512 c01 = c00, c11 = c00, c21 = c00, c31 = c00, c41 = c00, c51 = c00, c61 = c00, c71 = c00;
#pragma GCC unroll 4
    for (int64_t k = 0; k < kc; k++) {
        const float* row = b + offsets[k];
        const __m512 b0 = _mm512_maskz_loadu_ps(lo, row);
        const __m512 b1 = halves == 2 ? _mm512_maskz_loadu_ps(hi, row + 16) : b0;
        ROW_FMA(0);
        ROW_FMA(1);
        ROW_FMA(2);
        ROW_FMA(3);
        ROW_FMA(4);
        ROW_FMA(5);
        ROW_FMA(6);
        ROW_FMA(7);
        a += 8;
    }
    ROW_FINISH(0);
    ROW_FINISH(1);
    ROW_FINISH(2);
    ROW_FINISH(3);
    ROW_FINISH(4);
    ROW_FINISH(5);
    ROW_FINISH(6);
    ROW_FINISH(7);
}

void hc_sgemm_ukernel_8x32_rows__avx512(int64_t kc, const float* a, const float* b, const int32_t* offsets, float* c,
                                        int64_t ldc, int m, int n, const hc_gemm_epilogue* e) {
    ukernel_8xN_rows(kc, a, b, offsets, c, ldc, m, n, e, 2);
}

void hc_sgemm_ukernel_8x16_rows__avx512(int64_t kc, const float* a, const float* b, const int32_t* offsets, float* c,
                                        int64_t ldc, int m, int n, const hc_gemm_epilogue* e) {
    ukernel_8xN_rows(kc, a, b, offsets, c, ldc, m, n, e, 1);
}

/* hc_sgemm_pack_rows_fn for 32-column panels: 16 x 16 tiles, transposed in registers. The 16
 * elements of a tile's row are gathered by masked loads, one per run of the row they cross;
 * the runs are worked out once per chunk of k, then each panel is written front to back. */
#define PACK_CHUNK 256
static void pack_b_rows_32(const hc_gemm_rows* bt, int64_t k0, int64_t kc, int64_t j0, int64_t jn, int64_t k_stride, float* packed) {
    __mmask16 run_mask[PACK_CHUNK];
    int64_t run_offset[PACK_CHUNK];
    int tile_runs[PACK_CHUNK / 16 + 1];
    for (int64_t chunk = 0; chunk < kc; chunk += PACK_CHUNK) {
        const int64_t chunk_length = kc - chunk < PACK_CHUNK ? kc - chunk : PACK_CHUNK;
        int runs = 0, tiles = 0;
        for (int64_t kk = 0; kk < chunk_length; kk += 16) {
            const int count = chunk_length - kk < 16 ? (int)(chunk_length - kk) : 16;
            tile_runs[tiles++] = runs;
            for (int lane = 0; lane < count; runs++) {
                const int64_t k = k0 + chunk + kk + lane;
                int64_t length = count - lane;
                if (bt->width != INT64_MAX && bt->width - k % bt->width < length) length = bt->width - k % bt->width;
                run_mask[runs] = (__mmask16)(hc_first_lanes16(lane + length) & ~hc_first_lanes16(lane));
                run_offset[runs] = hc_gemm_rows_offset(bt, k) - lane;
                lane += (int)length;
            }
        }
        tile_runs[tiles] = runs;
        for (int64_t q = 0; q * 32 < jn; q++)
            for (int half = 0; half < 2; half++) {
                const int64_t j_first = q * 32 + half * 16, rows = jn - j_first;
                const float* row[16];
                for (int i = 0; i < 16 && i < rows; i++) {
                    const int64_t j = j0 + j_first + i;
                    row[i] = bt->base + (bt->offsets != NULL ? bt->offsets[j] : j * bt->ld);
                }
                float* out = packed + q * k_stride * 32 + half * 16 + chunk * 32;
                for (int tile = 0; tile < tiles; tile++) {
                    __m512 r[16];
                    for (int i = 0; i < 16; i++) {
                        r[i] = _mm512_setzero_ps();
                        if (i >= rows) continue;
                        for (int run = tile_runs[tile]; run < tile_runs[tile + 1]; run++)
                            r[i] = _mm512_mask_loadu_ps(r[i], run_mask[run], row[i] + run_offset[run]);
                    }
                    hc_transpose16x16(r);
                    const int64_t kk = (int64_t)tile * 16;
                    const int count = chunk_length - kk < 16 ? (int)(chunk_length - kk) : 16;
                    for (int t = 0; t < count; t++) _mm512_storeu_ps(out + (kk + t) * 32, r[t]);
                }
            }
    }
}

/* hc_sgemm_pack_a_fn for 8-row panels. */
static void pack_a_rows_8(const float* a, int64_t ld, int64_t i0, int64_t im, int64_t k0, int64_t kc, float* packed) {
    for (int64_t p = 0; p * 8 < im; p++)
        hc_pack_a_panel_avx2(a, ld, i0 + p * 8, im - p * 8 < 8 ? (int)(im - p * 8) : 8, k0, kc, 8, packed + p * kc * 8);
}

/* kc_max keeps an 8 x 288 A sliver and a 288 x 32 B panel (45 KiB) together in L1 (the AVX-512
 * CPUs this targets, Zen 5 and Intel server cores, have 48 KiB). 288 also splits the common
 * 3x3 x 64-channel reduction (576) into two blocks instead of three: 1-4% faster than 256. */
const hc_sgemm_kernel hc_sgemm_kernel_8x32__avx512 = {
    .mr = 8, .nr = 32, .kc_max = 288, .run = hc_sgemm_ukernel_8x32__avx512, .run_half = hc_sgemm_ukernel_8x16__avx512,
    .pack_a_rows = pack_a_rows_8, .pack_b_rows = pack_b_rows_32,
    .run_rows = hc_sgemm_ukernel_8x32_rows__avx512, .run_rows_half = hc_sgemm_ukernel_8x16_rows__avx512};
