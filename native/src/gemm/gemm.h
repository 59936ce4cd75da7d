/* The GEMM driver: C = op(A) · op(B) on any matrices, for whoever needs one (the dense layer,
 * convolution's gradients), and a batched form over a B the caller produces block by block
 * (convolution's forward pass, below). It knows nothing of convolution; callers describe operands
 * as row-major matrices, transposed or not, or hand over A or B packed once (weights).
 *
 *   C[m x n] = (accumulate ? C : row_bias[i] + column_bias[j]) + op(A)[m x k] · op(B)[k x n],
 *   then the activation.
 *
 * op(A) is A (m x k, lda floats per row) or, when transposed, Aᵀ of A stored k x m. Likewise B
 * (k x n, or n x k transposed). The biases are added only when not accumulating.
 *
 * Blocking: items of NC columns of C and a run of MC-row blocks are shared between threads; each
 * item walks the reduction in blocks whose size depends on k and the micro-kernel only, packing
 * B (unless packed) once per block and the A panels of each row block into the thread's
 * workspace. Every element of C is reduced by one thread
 * in a fixed order, so any thread count gives the same bits. */
#ifndef HPCCNN_GEMM_GEMM_H
#define HPCCNN_GEMM_GEMM_H

#include "../core/prefetch.h"
#include "sgemm.h"

typedef struct hc_gemm_matrix {
    const float* data;
    int64_t ld;
    bool transposed;
} hc_gemm_matrix;

typedef struct hc_gemm_args {
    int64_t m, n, k;
    hc_gemm_matrix a;
    hc_gemm_matrix b;
    /* B packed by hc_gemm_pack_b for this k, n and instruction set, or NULL to pack per call. */
    const float* packed_b;
    /* Or B given as rows of Bᵀ (sgemm.h: an im2col read in place from a padded image, say);
     * then b is not read. */
    const hc_gemm_rows* b_rows;
    float* c;
    int64_t ldc;
    bool accumulate;
    const float* row_bias;    /* m values, or NULL */
    const float* column_bias; /* n values, or NULL */
    hc_activation activation;
    float alpha;
} hc_gemm_args;

/* The micro-kernel the driver uses on an instruction set. */
const hc_sgemm_kernel* hc_gemm_kernel(hc_isa isa);

/* Floats of B (k x n) packed for `isa`: NR-column panels, each k rows of NR floats. */
int64_t hc_gemm_packed_b_floats(hc_isa isa, int64_t k, int64_t n);
/* Packs op(B) (k x n) for `isa`; columns past n in the last panel are zero. */
void hc_gemm_pack_b(hc_isa isa, hc_gemm_matrix b, int64_t k, int64_t n, float* packed);

/* Floats of A (m x k) packed for `isa`: MR-row panels, each k steps of MR floats. */
int64_t hc_gemm_packed_a_floats(hc_isa isa, int64_t m, int64_t k);
/* Packs op(A) (m x k) for `isa`: packed[(panel * k + step) * MR + row], zero past row m. */
void hc_gemm_pack_a(hc_isa isa, hc_gemm_matrix a, int64_t m, int64_t k, float* packed);

/* Runs the GEMM on up to `threads` threads; fails only when a workspace cannot be allocated. */
hc_status hc_gemm(const hc_gemm_args* args, hc_isa isa, int32_t threads);

/* ---- Batched GEMM over a produced B (gemm_batched.c) ----
 *   C_b[m x n] = row bias + A_{b % groups} · B_b, then the activation, for b < batch,
 * with each A packed once (hc_gemm_pack_a) and each B_b produced by the caller a block at a time,
 * so that it never exists whole (convolution's implicit im2col). B_b's columns come in units of
 * `unit_columns` (one column; or an output row of a padded window); a work item is a GEMM, a
 * block of whole units and a share of the rows. Per item the source first prepares (copies the
 * input its columns read into scratch, say), then either packs each reduction block of B as
 * row-major rows (packed sources), or says where B's rows already lie (in-place sources: the
 * micro-kernel reads them through an offset table and writes a block of C the source then
 * stores, dropping the padding columns of its units). Every element of C is reduced by one
 * thread in a fixed order whatever the thread count. */

/* One work item: GEMM `gemm`, units [first_unit, first_unit + units) (columns [j0, j0 + columns)),
 * rows [row_begin, row_end) of C. */
typedef struct hc_gemm_item {
    int64_t gemm;
    int64_t first_unit, units;
    int64_t j0, columns;
    int64_t row_begin, row_end;
} hc_gemm_item;

typedef struct hc_gemm_source {
    const void* context;
    /* B_b has `units` units of `unit_columns` columns (the last unit of a block counts only its
     * first `last_unit_columns`); blocks hold a multiple of `granule` units and about `nc_max`
     * columns at most. */
    int64_t units, unit_columns, last_unit_columns, granule, nc_max;
    /* Floats of scratch an item of `block_units` units needs (its window). */
    size_t (*scratch_floats)(const void* context, int64_t block_units);
    /* Optional: once per item, before its reduction blocks. In-place sources also fill
     * `offsets` (k of them): row k of B at virtual column v is scratch[offsets[k] + v]. */
    void (*prepare)(const void* context, const hc_gemm_item* item, float* scratch, int32_t* offsets);
    /* Packed sources: rows [k0, k0 + kc) of the item's columns into `block`, kc rows ldb floats
     * apart, zero from the item's columns to ldb; up to 16 floats past the last row may be written. */
    void (*pack)(const void* context, const hc_gemm_item* item, const float* scratch, int64_t k0, int64_t kc, float* block,
                 int64_t ldb);
    /* In-place sources (pack NULL): the item's rows of C, computed into `block` (ldc floats per
     * row, first row row_begin), stored where they belong. */
    void (*store)(const void* context, const hc_gemm_item* item, const float* block, int64_t ldc);
    /* Optional, in-place sources: the input an item will read, prefetched while another computes. */
    hc_prefetch_cursor (*lookahead)(const void* context, const hc_gemm_item* item);
} hc_gemm_source;

typedef struct hc_gemm_batched_args {
    int64_t batch, groups;
    int64_t m, n, k;            /* n: B_b's true columns (for the thread decision) */
    const float* packed_a;      /* groups packed A, hc_gemm_packed_a_floats apart */
    float* c;                   /* packed sources: C_b at c + b * c_stride, ldc floats per row */
    int64_t ldc, c_stride;
    const float* row_bias;      /* groups * m values, or NULL */
    hc_activation activation;
    float alpha;
    hc_gemm_source source;
} hc_gemm_batched_args;

/* Runs the batched GEMM on up to `threads` threads; fails only when a workspace cannot be allocated. */
hc_status hc_gemm_batched(const hc_gemm_batched_args* args, hc_isa isa, int32_t threads);

/* The portable micro-kernel, 4 x 16. */
void hc_sgemm_ukernel_4x16__generic(int64_t kc, const float* a, const float* b, int64_t ldb, float* c, int64_t ldc, int m, int n,
                                    const hc_gemm_epilogue* epilogue);

#endif
