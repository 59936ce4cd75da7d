/* The GEMM driver (gemm.h): blocking, packing, the parallel loop and the epilogue, over the
 * micro-kernel of the chosen instruction set. */
#include <string.h>

#include "gemm.h"

/* Rows of C per work item: 16 micro-panels, so the item's A block (16 MR x kc) stays in L2. */
#define MC_PANELS 16
/* Columns of C per work item: the B block (kc x NC) stays in L2 while the A panels stream past. */
#define NC 512

static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

const hc_sgemm_kernel* hc_gemm_kernel(hc_isa isa) {
    return isa >= HC_ISA_AVX512 ? &hc_sgemm_kernel_8x32__avx512 : isa >= HC_ISA_AVX2 ? &hc_sgemm_kernel_6x16__avx2 : &hc_sgemm_kernel_4x16__generic;
}

static inline float element(hc_gemm_matrix x, int64_t row, int64_t column) {
    return x.transposed ? x.data[column * x.ld + row] : x.data[row * x.ld + column];
}

int64_t hc_gemm_packed_b_floats(hc_isa isa, int64_t k, int64_t n) {
    const int64_t nr = hc_gemm_kernel(isa)->nr;
    return ceil_div(n, nr) * nr * (k > 0 ? k : 1);
}

/* Panels of NR columns: packed[(panel * k + row) * NR + column]. */
static void pack_b_panels(hc_gemm_matrix b, int64_t k0, int64_t kc, int64_t k_stride, int64_t j0, int64_t jn, int64_t nr, float* packed) {
    for (int64_t q = 0; q * nr < jn; q++)
        for (int64_t kk = 0; kk < kc; kk++) {
            float* row = packed + (q * k_stride + kk) * nr;
            const int64_t columns = min64(nr, jn - q * nr);
            if (!b.transposed) {
                memcpy(row, b.data + (k0 + kk) * b.ld + j0 + q * nr, (size_t)columns * sizeof(float));
            } else {
                for (int64_t j = 0; j < columns; j++) row[j] = b.data[(j0 + q * nr + j) * b.ld + k0 + kk];
            }
            for (int64_t j = columns; j < nr; j++) row[j] = 0.0f;
        }
}

void hc_gemm_pack_b(hc_isa isa, hc_gemm_matrix b, int64_t k, int64_t n, float* packed) {
    pack_b_panels(b, 0, k, k, 0, n, hc_gemm_kernel(isa)->nr, packed);
}

/* Panels of MR rows: packed[(panel * kc + kk) * MR + row], zero past the last row. */
static void pack_a_panels(hc_gemm_matrix a, int64_t i0, int64_t im, int64_t k0, int64_t kc, int64_t mr, float* packed) {
    for (int64_t p = 0; p * mr < im; p++)
        for (int64_t kk = 0; kk < kc; kk++) {
            float* column = packed + (p * kc + kk) * mr;
            for (int64_t r = 0; r < mr; r++) {
                const int64_t i = p * mr + r;
                column[r] = i < im ? element(a, i0 + i, k0 + kk) : 0.0f;
            }
        }
}

hc_status hc_gemm(const hc_gemm_args* g, hc_isa isa, int32_t threads) {
    if (g->m <= 0 || g->n <= 0) return HC_STATUS_OK;
    const hc_sgemm_kernel* kernel = hc_gemm_kernel(isa);
    const int64_t MR = kernel->mr, NR = kernel->nr, mc = MR * MC_PANELS;
    /* Equal reduction blocks of at most kc_max, from k alone: the same blocks for any thread count. */
    const int64_t kc_step = g->k > 0 ? ceil_div(g->k, ceil_div(g->k, kernel->kc_max)) : 0;
    const int64_t m_blocks = ceil_div(g->m, mc), n_blocks = ceil_div(g->n, NC), items = m_blocks * n_blocks;
    const double flops = 2.0 * (double)g->m * (double)g->n * (double)g->k;
    const int team = flops < HC_PARALLEL_MIN_FLOPS || items == 1 ? 1 : threads;
    const size_t a_floats = (size_t)(mc * kc_step), b_floats = g->packed_b != NULL ? 0 : (size_t)(ceil_div(NC, NR) * NR * kc_step);
    const size_t workspace_bytes = (a_floats + b_floats + 16) * sizeof(float);
    int failed = 0, finished = 0;
#pragma omp parallel num_threads(team) if (team > 1)
    {
#pragma omp for schedule(dynamic, 1) nowait
        for (int64_t item = 0; item < items; item++) {
            float* a_pack = hc_thread_workspace(workspace_bytes);
            if (a_pack == NULL) {
#pragma omp atomic write
                failed = 1;
                continue;
            }
            float* b_pack = a_pack + a_floats;
            const int64_t i0 = item / n_blocks * mc, im = min64(mc, g->m - i0);
            const int64_t j0 = item % n_blocks * NC, jn = min64(NC, g->n - j0);
            int64_t k0 = 0;
            do {
                const int64_t kc = min64(kc_step, g->k - k0);
                pack_a_panels(g->a, i0, im, k0, kc, MR, a_pack);
                if (g->packed_b == NULL) pack_b_panels(g->b, k0, kc, kc, j0, jn, NR, b_pack);
                for (int64_t q = 0; q * NR < jn; q++) {
                    const int n_valid = (int)min64(NR, jn - q * NR);
                    const float* b = g->packed_b != NULL ? g->packed_b + ((j0 / NR + q) * g->k + k0) * NR : b_pack + q * kc * NR;
                    const hc_sgemm_ukernel_fn ukernel = kernel->run_half != NULL && 2 * n_valid <= NR ? kernel->run_half : kernel->run;
                    for (int64_t p = 0; p * MR < im; p++) {
                        const hc_gemm_epilogue epilogue = {
                            .bias = g->row_bias != NULL && !g->accumulate ? g->row_bias + i0 + p * MR : NULL,
                            .column_bias = g->column_bias != NULL && !g->accumulate ? g->column_bias + j0 + q * NR : NULL,
                            .activation = g->activation,
                            .alpha = g->alpha,
                            .first = k0 == 0 && !g->accumulate,
                            .last = k0 + kc >= g->k,
                        };
                        ukernel(kc, a_pack + p * kc * MR, b, NR, g->c + (i0 + p * MR) * g->ldc + j0 + q * NR, g->ldc,
                                (int)min64(MR, im - p * MR), n_valid, &epilogue);
                    }
                }
                k0 += kc;
            } while (k0 < g->k);
        }
        hc_parallel_join(&finished);
    }
    return failed ? hc_fail(HC_STATUS_OUT_OF_MEMORY, "out of memory for a GEMM workspace") : HC_STATUS_OK;
}
