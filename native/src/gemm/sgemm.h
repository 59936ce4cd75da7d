/* Single-precision GEMM micro-kernels.
 *
 * Contract of an MR x NR micro-kernel (XNNPACK/BLIS style):
 *   C[MR x NR] = (first ? row bias + column bias : C) + A_panel · B_panel, then the activation when `last`.
 *   a: packed A panel, kc steps of MR floats (row i of step k at a[k*MR + i]), rows past `m`
 *      zero-filled; b: B panel, kc rows of NR floats, ldb floats apart (row-major B block), each
 *      row 64-byte aligned, columns past `n` zero-filled; c: row-major with leading dimension
 *      ldc; only the m x n corner is read or written. bias: MR values (NULL for none) and
 *      column_bias: the panel's n values (NULL for none), read only when `first`.
 * The k loop runs in order 0..kc-1 whatever m and n are, so results never depend on tiling. */
#ifndef HPCCNN_GEMM_SGEMM_H
#define HPCCNN_GEMM_SGEMM_H

#include "../core/internal.h"

typedef struct hc_gemm_epilogue {
    const float* bias;
    const float* column_bias;
    hc_activation activation;
    float alpha;
    bool first;
    bool last;
} hc_gemm_epilogue;

#define HC_SGEMM_MR 6
#define HC_SGEMM_NR 16

typedef void (*hc_sgemm_ukernel_fn)(int64_t kc, const float* a, const float* b, int64_t ldb, float* c, int64_t ldc,
                                    int m, int n, const hc_gemm_epilogue* epilogue);

/* Bᵀ as rows in memory, row j being column j of B: it starts at base + (offsets ? offsets[j] :
 * j * ld), and its element k lies k / width * pitch + k % width floats further (runs of `width`
 * elements `pitch` apart: an im2col row read from a padded image). A plain transposed matrix has
 * no offsets and width = INT64_MAX. */
typedef struct hc_gemm_rows {
    const float* base;
    const int64_t* offsets;
    int64_t ld, width, pitch;
} hc_gemm_rows;

/* Packs columns [j0, j0 + jn) and rows [k0, k0 + kc) of B, given as rows of Bᵀ, into
 * ceil(jn / nr) panels k_stride * nr floats apart, row kk of a panel at kk * nr, zero past
 * column jn. */
typedef void (*hc_sgemm_pack_rows_fn)(const hc_gemm_rows* bt, int64_t k0, int64_t kc, int64_t j0, int64_t jn, int64_t k_stride,
                                      float* packed);

/* Where element k of a row of `rows` lies from the row's start. */
static inline int64_t hc_gemm_rows_offset(const hc_gemm_rows* rows, int64_t k) {
    return rows->width == INT64_MAX ? k : k / rows->width * rows->pitch + k % rows->width;
}

/* Packs rows [i0, i0 + im) and columns [k0, k0 + kc) of a row-major A (ld floats per row) into
 * ceil(im / mr) panels of kc x mr floats, row r of step kk at panel[kk * mr + r], zero past im. */
typedef void (*hc_sgemm_pack_a_fn)(const float* a, int64_t ld, int64_t i0, int64_t im, int64_t k0, int64_t kc, float* packed);

/* The same kernels reading B rows in place instead of from a packed block: row k of the panel
 * starts at b + offsets[k] (any alignment); only the n valid columns are loaded. */
typedef void (*hc_sgemm_rows_ukernel_fn)(int64_t kc, const float* a, const float* b, const int32_t* offsets, float* c,
                                         int64_t ldc, int m, int n, const hc_gemm_epilogue* epilogue);

/* A micro-kernel and the panel shapes it consumes. */
typedef struct hc_sgemm_kernel {
    int mr, nr;
    int kc_max; /* largest reduction block whose A sliver and B panel share L1 */
    hc_sgemm_ukernel_fn run;
    /* Optional: the same kernel for panels with at most nr/2 valid columns. */
    hc_sgemm_ukernel_fn run_half;
    /* Optional: vectorised packers of A panels from a row-major A and of B panels from rows of Bᵀ
     * (the driver's plain loops otherwise). */
    hc_sgemm_pack_a_fn pack_a_rows;
    hc_sgemm_pack_rows_fn pack_b_rows;
    /* Optional: the kernel reading B in place (full and half width), for hc_gemm_batched's
     * in-place sources. */
    hc_sgemm_rows_ukernel_fn run_rows;
    hc_sgemm_rows_ukernel_fn run_rows_half;
} hc_sgemm_kernel;

/* The micro-kernels with their panel shapes, one per instruction set; convolution's GEMM paths
 * and the GEMM driver (gemm.h) share them. */
extern const hc_sgemm_kernel hc_sgemm_kernel_8x32__avx512;
extern const hc_sgemm_kernel hc_sgemm_kernel_6x16__avx2;
extern const hc_sgemm_kernel hc_sgemm_kernel_4x16__generic;

void hc_sgemm_ukernel_8x16__avx512(int64_t kc, const float* a, const float* b, int64_t ldb, float* c, int64_t ldc,
                                   int m, int n, const hc_gemm_epilogue* epilogue);
void hc_sgemm_ukernel_8x32__avx512(int64_t kc, const float* a, const float* b, int64_t ldb, float* c, int64_t ldc,
                                   int m, int n, const hc_gemm_epilogue* epilogue);
void hc_sgemm_ukernel_8x32_rows__avx512(int64_t kc, const float* a, const float* b, const int32_t* offsets, float* c,
                                        int64_t ldc, int m, int n, const hc_gemm_epilogue* epilogue);
void hc_sgemm_ukernel_8x16_rows__avx512(int64_t kc, const float* a, const float* b, const int32_t* offsets, float* c,
                                        int64_t ldc, int m, int n, const hc_gemm_epilogue* epilogue);
void hc_sgemm_ukernel_6x16__avx2(int64_t kc, const float* a, const float* b, int64_t ldb, float* c, int64_t ldc,
                                 int m, int n, const hc_gemm_epilogue* epilogue);

#endif
