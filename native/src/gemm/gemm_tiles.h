/* The loop over micro-kernel calls for one reduction block (BLIS's macro-kernel), shared by the
 * GEMM drivers: NR-column panels of B outermost, MR-row panels of A inside, so each B panel stays
 * in L1 while the A panels stream past it. */
#ifndef HPCCNN_GEMM_GEMM_TILES_H
#define HPCCNN_GEMM_GEMM_TILES_H

#include "sgemm.h"

/* Where one reduction block's operands lie. A panels [panel_begin, panel_end) at a + panel *
 * a_panel_floats; B panel q at b + q * b_panel_floats with rows ldb floats apart, or, with
 * `offsets`, read in place (row kk of panel q at b + q * nr + offsets[kk]); the C of A panel
 * `panel` at c + (panel - panel_begin) * mr * ldc, its first n columns. The epilogue's bias and
 * column bias are those of C's first row and column here. */
typedef struct hc_gemm_tile_block {
    int64_t kc;
    const float* a;
    int64_t a_panel_floats, panel_begin, panel_end;
    const float* b;
    int64_t b_panel_floats, ldb;
    const int32_t* offsets;
    float* c;
    int64_t ldc;
    int64_t m, n; /* rows of C from panel 0's first (the last panel may be partial), columns */
} hc_gemm_tile_block;

static inline void hc_gemm_tiles(const hc_sgemm_kernel* kernel, const hc_gemm_tile_block* t, hc_gemm_epilogue epilogue) {
    const int64_t mr = kernel->mr, nr = kernel->nr;
    const float* bias = epilogue.bias;
    const float* column_bias = epilogue.column_bias;
    for (int64_t q = 0; q * nr < t->n; q++) {
        const int n_valid = (int)(t->n - q * nr < nr ? t->n - q * nr : nr);
        const bool half = 2 * n_valid <= nr;
        epilogue.column_bias = column_bias != NULL ? column_bias + q * nr : NULL;
        for (int64_t panel = t->panel_begin; panel < t->panel_end; panel++) {
            const int64_t row = panel * mr;
            const int m_valid = (int)(t->m - row < mr ? t->m - row : mr);
            epilogue.bias = bias != NULL ? bias + row : NULL;
            const float* a = t->a + panel * t->a_panel_floats;
            float* c = t->c + (panel - t->panel_begin) * mr * t->ldc + q * nr;
            if (t->offsets != NULL) {
                const hc_sgemm_rows_ukernel_fn run = half ? kernel->run_rows_half : kernel->run_rows;
                run(t->kc, a, t->b + q * nr, t->offsets, c, t->ldc, m_valid, n_valid, &epilogue);
            } else {
                const hc_sgemm_ukernel_fn run = half && kernel->run_half != NULL ? kernel->run_half : kernel->run;
                run(t->kc, a, t->b + q * t->b_panel_floats, t->ldb, c, t->ldc, m_valid, n_valid, &epilogue);
            }
        }
    }
}

#endif
