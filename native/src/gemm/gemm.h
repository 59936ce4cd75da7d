/* The GEMM driver: C = op(A) · op(B) on any matrices, for whoever needs one (the dense layer,
 * convolution's weight gradient). It knows nothing of convolution; callers describe operands as
 * row-major matrices, transposed or not, or hand over B packed once (weights).
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

/* Runs the GEMM on up to `threads` threads; fails only when a workspace cannot be allocated. */
hc_status hc_gemm(const hc_gemm_args* args, hc_isa isa, int32_t threads);

/* The portable micro-kernel, 4 x 16. */
void hc_sgemm_ukernel_4x16__generic(int64_t kc, const float* a, const float* b, int64_t ldb, float* c, int64_t ldc, int m, int n,
                                    const hc_gemm_epilogue* epilogue);

#endif
