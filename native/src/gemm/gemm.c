/* The GEMM driver (gemm.h): blocking, packing, the parallel loop and the epilogue, over the
 * micro-kernel of the chosen instruction set. */
#include <string.h>

#include "gemm.h"
#include "gemm_tiles.h"

/* Rows of C per row block: 16 micro-panels, so the A block (16 MR x kc) stays in L2. */
#define MC_PANELS 16
/* Most columns of C per work item; fewer when a kc x NC block of B would take over half the L2. */
#define NC_MAX 1024

static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

const hc_sgemm_kernel* hc_gemm_kernel(hc_isa isa) {
    return isa >= HC_ISA_AVX512 ? &hc_sgemm_kernel_8x32__avx512 : isa >= HC_ISA_AVX2 ? &hc_sgemm_kernel_6x16__avx2 : &hc_sgemm_kernel_4x16__generic;
}

int64_t hc_gemm_packed_b_floats(hc_isa isa, int64_t k, int64_t n) {
    const int64_t nr = hc_gemm_kernel(isa)->nr;
    return ceil_div(n, nr) * nr * (k > 0 ? k : 1);
}

/* Panels of NR columns: packed[(panel * k_stride + row) * NR + column], zero past the last
 * column, from a row-major B (rows copied whole) or from rows of Bᵀ (the kernel's vectorised
 * transposing packer where it has one). */
static void pack_b_panels(const hc_sgemm_kernel* kernel, hc_gemm_matrix b, const hc_gemm_rows* b_rows, int64_t k0, int64_t kc,
                          int64_t k_stride, int64_t j0, int64_t jn, float* packed) {
    const int64_t nr = kernel->nr;
    if (b_rows == NULL && !b.transposed) {
        for (int64_t q = 0; q * nr < jn; q++) {
            float* panel = packed + q * k_stride * nr;
            const int64_t columns = min64(nr, jn - q * nr);
            for (int64_t kk = 0; kk < kc; kk++) {
                memcpy(panel + kk * nr, b.data + (k0 + kk) * b.ld + j0 + q * nr, (size_t)columns * sizeof(float));
                for (int64_t j = columns; j < nr; j++) panel[kk * nr + j] = 0.0f;
            }
        }
        return;
    }
    const hc_gemm_rows rows = b_rows != NULL ? *b_rows : (hc_gemm_rows){.base = b.data, .ld = b.ld, .width = INT64_MAX};
    if (kernel->pack_b_rows != NULL) {
        kernel->pack_b_rows(&rows, k0, kc, j0, jn, k_stride, packed);
        return;
    }
    for (int64_t q = 0; q * nr < jn; q++) {
        float* panel = packed + q * k_stride * nr;
        const int64_t columns = min64(nr, jn - q * nr);
        for (int64_t j = 0; j < columns; j++) {
            const int64_t column = j0 + q * nr + j;
            const float* row = rows.base + (rows.offsets != NULL ? rows.offsets[column] : column * rows.ld);
            for (int64_t kk = 0; kk < kc; kk++) panel[kk * nr + j] = row[hc_gemm_rows_offset(&rows, k0 + kk)];
        }
        for (int64_t kk = 0; kk < kc; kk++)
            for (int64_t j = columns; j < nr; j++) panel[kk * nr + j] = 0.0f;
    }
}

void hc_gemm_pack_b(hc_isa isa, hc_gemm_matrix b, int64_t k, int64_t n, float* packed) {
    pack_b_panels(hc_gemm_kernel(isa), b, NULL, 0, k, k, 0, n, packed);
}

/* Panels of MR rows: packed[(panel * kc + kk) * MR + row], zero past the last row; the source
 * is read contiguously either way. */
static void pack_a_panels(const hc_sgemm_kernel* kernel, hc_gemm_matrix a, int64_t i0, int64_t im, int64_t k0, int64_t kc,
                          float* packed) {
    const int64_t mr = kernel->mr;
    if (!a.transposed && kernel->pack_a_rows != NULL) {
        kernel->pack_a_rows(a.data, a.ld, i0, im, k0, kc, packed);
        return;
    }
    for (int64_t p = 0; p * mr < im; p++) {
        float* panel = packed + p * kc * mr;
        const int64_t rows = min64(mr, im - p * mr);
        if (!a.transposed) {
            for (int64_t r = 0; r < rows; r++) {
                const float* source = a.data + (i0 + p * mr + r) * a.ld + k0;
                for (int64_t kk = 0; kk < kc; kk++) panel[kk * mr + r] = source[kk];
            }
        } else {
            for (int64_t kk = 0; kk < kc; kk++) memcpy(panel + kk * mr, a.data + (k0 + kk) * a.ld + i0 + p * mr, (size_t)rows * sizeof(float));
        }
        if (rows < mr)
            for (int64_t kk = 0; kk < kc; kk++)
                for (int64_t r = rows; r < mr; r++) panel[kk * mr + r] = 0.0f;
    }
}

int64_t hc_gemm_packed_a_floats(hc_isa isa, int64_t m, int64_t k) {
    const int64_t mr = hc_gemm_kernel(isa)->mr;
    return ceil_div(m, mr) * mr * (k > 0 ? k : 1);
}

void hc_gemm_pack_a(hc_isa isa, hc_gemm_matrix a, int64_t m, int64_t k, float* packed) {
    pack_a_panels(hc_gemm_kernel(isa), a, 0, m, 0, k, packed);
}

/* Splits `length` into `blocks` equal parts rounded up to `unit`; returns the part. */
static int64_t balanced_block(int64_t length, int64_t blocks, int64_t unit) { return ceil_div(ceil_div(length, blocks), unit) * unit; }

hc_status hc_gemm(const hc_gemm_args* g, hc_isa isa, int32_t threads) {
    if (g->m <= 0 || g->n <= 0) return HC_STATUS_OK;
    const hc_sgemm_kernel* kernel = hc_gemm_kernel(isa);
    const int64_t MR = kernel->mr, NR = kernel->nr;
    /* Equal reduction blocks of at most kc_max, from k alone: the same blocks for any thread count. */
    const int64_t kc_step = g->k > 0 ? ceil_div(g->k, ceil_div(g->k, kernel->kc_max)) : 0;
    const double flops = 2.0 * (double)g->m * (double)g->n * (double)g->k;
    const int team = hc_threads_for_flops(flops, threads);
    /* A B block (kc x nc) takes half the L2; the other half holds the item's A panels and C. */
    const int64_t nc_max = kc_step > 0 ? min64(NC_MAX, max64(4 * NR, hc_l2_cache_bytes() / 2 / (kc_step * (int64_t)sizeof(float)) / NR * NR)) : NC_MAX;
    /* Work items are (column block, run of row blocks): an item packs each B block once and runs
     * every row block of its run against it, as BLIS orders its loops. With several threads the
     * row blocks are shared out first, then the columns, so there is a whole number of items per
     * thread. */
    int64_t m_blocks = ceil_div(g->m, MR * MC_PANELS), n_blocks = ceil_div(g->n, nc_max), m_runs = 1;
    if (team > 1) {
        m_runs = min64(ceil_div(g->m, MR), ceil_div(team, n_blocks));
        m_blocks = max64(m_blocks, m_runs);
        if (n_blocks * m_runs < team) n_blocks = min64(ceil_div(g->n, NR), ceil_div(team, m_runs));
        n_blocks = ceil_div(n_blocks * m_runs, team) * team / m_runs;
        n_blocks = min64(n_blocks, ceil_div(g->n, NR));
    }
    const int64_t mc = balanced_block(g->m, m_blocks, MR), nc = balanced_block(g->n, n_blocks, NR);
    m_blocks = ceil_div(g->m, mc);
    n_blocks = ceil_div(g->n, nc);
    m_runs = min64(m_runs, m_blocks);
    const int64_t items = n_blocks * m_runs;
    /* The B block starts 64-byte aligned: micro-kernels load its panels with aligned loads. */
    const size_t a_floats = (size_t)(ceil_div(mc * kc_step, 16) * 16), b_floats = g->packed_b != NULL ? 0 : (size_t)(nc * kc_step);
    const size_t workspace_bytes = (a_floats + b_floats + 16) * sizeof(float);
    int failed = 0, finished = 0;
#pragma omp parallel num_threads(team) if (team > 1 && items > 1)
    {
#pragma omp for schedule(dynamic, 1) nowait
        for (int64_t item = 0; item < items; item++) {
            float* a_pack = hc_item_workspace(workspace_bytes, &failed);
            if (a_pack == NULL) continue;
            float* b_pack = a_pack + a_floats;
            const int64_t run = item / n_blocks, mb_begin = run * m_blocks / m_runs, mb_end = (run + 1) * m_blocks / m_runs;
            const int64_t j0 = item % n_blocks * nc, jn = min64(nc, g->n - j0);
            int64_t k0 = 0;
            do {
                const int64_t kc = min64(kc_step, g->k - k0);
                if (g->packed_b == NULL) pack_b_panels(kernel, g->b, g->b_rows, k0, kc, kc, j0, jn, b_pack);
                for (int64_t mb = mb_begin; mb < mb_end; mb++) {
                    const int64_t i0 = mb * mc, im = min64(mc, g->m - i0);
                    pack_a_panels(kernel, g->a, i0, im, k0, kc, a_pack);
                    const hc_gemm_tile_block tiles = {
                        .kc = kc,
                        .a = a_pack,
                        .a_panel_floats = kc * MR,
                        .panel_begin = 0,
                        .panel_end = ceil_div(im, MR),
                        .b = g->packed_b != NULL ? g->packed_b + (j0 / NR * g->k + k0) * NR : b_pack,
                        .b_panel_floats = (g->packed_b != NULL ? g->k : kc) * NR,
                        .ldb = NR,
                        .c = g->c + i0 * g->ldc + j0,
                        .ldc = g->ldc,
                        .m = im,
                        .n = jn,
                    };
                    hc_gemm_tiles(kernel, &tiles,
                                  (hc_gemm_epilogue){
                                      .bias = g->row_bias != NULL && !g->accumulate ? g->row_bias + i0 : NULL,
                                      .column_bias = g->column_bias != NULL && !g->accumulate ? g->column_bias + j0 : NULL,
                                      .activation = g->activation,
                                      .alpha = g->alpha,
                                      .first = k0 == 0 && !g->accumulate,
                                      .last = k0 + kc >= g->k,
                                  });
                }
                k0 += kc;
            } while (k0 < g->k);
        }
        hc_parallel_join(&finished);
    }
    return failed ? hc_fail(HC_STATUS_OUT_OF_MEMORY, "out of memory for a GEMM workspace") : HC_STATUS_OK;
}
