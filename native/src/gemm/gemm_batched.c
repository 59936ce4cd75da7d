/* The batched GEMM driver over a produced B (gemm.h): how the work is shared between threads, the
 * per-thread workspace, and the loop over work items and reduction blocks. */
#include "gemm.h"
#include "gemm_tiles.h"

static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t gcd64(int64_t a, int64_t b) { return b == 0 ? a : gcd64(b, a % b); }

/* How one call's work is shared: items = GEMMs x column blocks x row splits, run with a dynamic
 * schedule. */
typedef struct batched_partition {
    int threads;
    int64_t n_blocks, block_units, m_splits, items, kc_step;
} batched_partition;

/* Splits each GEMM's units into equal blocks of about nc_max columns, a whole number of `granule`
 * units each. The block count shares evenly between the threads: a last short block or one block
 * too many leaves a thread idle at the end. With few column panels per GEMM (deep_3x3: 196
 * columns, 7 panels) an even split is impossible, so the threads split the rows instead and each
 * packs the whole (small) B. Reduction blocks are equal and at most kc_max (576 = 2 x 288, not
 * 256 + 256 + 64: a short block runs the micro-kernel at ~80% of its speed); they depend on the
 * problem only, never on the thread count, so results do not either. */
static batched_partition partition_work(const hc_gemm_batched_args* g, const hc_sgemm_kernel* kernel, int32_t threads_allowed) {
    const hc_gemm_source* s = &g->source;
    const double flops = 2.0 * (double)g->batch * (double)g->m * (double)g->n * (double)g->k;
    const int threads = hc_threads_for_flops(flops, threads_allowed);
    const int64_t m_panels = ceil_div(g->m, kernel->mr), columns = s->units * s->unit_columns, panels = ceil_div(s->units, s->granule);
    const bool split_rows = g->batch < threads && ceil_div(columns, kernel->nr) < 4 * threads && m_panels >= threads;
    int64_t n_blocks = ceil_div(columns, s->nc_max);
    if (threads > 1 && !split_rows) {
        const int64_t per_gemm = ceil_div(threads, gcd64(g->batch, threads));
        n_blocks = ceil_div(n_blocks, per_gemm) * per_gemm;
    }
    if (n_blocks > panels) n_blocks = panels;
    const int64_t block_units = ceil_div(ceil_div(s->units, n_blocks), s->granule) * s->granule;
    n_blocks = ceil_div(s->units, block_units);
    int64_t m_splits = 1;
    if (g->batch * n_blocks < threads) m_splits = min64(m_panels, ceil_div(threads, g->batch * n_blocks));
    if (split_rows) m_splits = min64(m_panels, threads); /* each split packs the whole B once */
    return (batched_partition){
        .threads = threads,
        .n_blocks = n_blocks,
        .block_units = block_units,
        .m_splits = m_splits,
        .items = g->batch * n_blocks * m_splits,
        .kc_step = g->k > 0 ? ceil_div(g->k, ceil_div(g->k, kernel->kc_max)) : 0,
    };
}

static hc_gemm_item item_at(const hc_gemm_batched_args* g, const batched_partition* part, int64_t mr, int64_t item) {
    const hc_gemm_source* s = &g->source;
    const int64_t split = item % part->m_splits, block = item / part->m_splits % part->n_blocks;
    const int64_t m_panels = ceil_div(g->m, mr);
    const int64_t first_unit = block * part->block_units, units = min64(part->block_units, s->units - first_unit);
    const int64_t row_begin = split * m_panels / part->m_splits * mr, row_end = min64((split + 1) * m_panels / part->m_splits * mr, g->m);
    return (hc_gemm_item){
        .gemm = item / part->m_splits / part->n_blocks,
        .first_unit = first_unit,
        .units = units,
        .j0 = first_unit * s->unit_columns,
        .columns = (units - 1) * s->unit_columns + s->last_unit_columns,
        .row_begin = row_begin,
        .row_end = row_end,
    };
}

hc_status hc_gemm_batched(const hc_gemm_batched_args* g, hc_isa isa, int32_t threads) {
    if (g->batch <= 0 || g->m <= 0 || g->source.units <= 0) return HC_STATUS_OK;
    const hc_sgemm_kernel* kernel = hc_gemm_kernel(isa);
    const hc_gemm_source* s = &g->source;
    const bool in_place = s->pack == NULL;
    const int64_t MR = kernel->mr, NR = kernel->nr, k = g->k;
    const batched_partition part = partition_work(g, kernel, threads);
    const int64_t kc_step = part.kc_step, block_columns = part.block_units * s->unit_columns;
    const int64_t a_floats = hc_gemm_packed_a_floats(isa, g->m, k);
    /* Workspace: packed sources, the B block (64-byte aligned, and a vector of slack for packers'
     * copies) then the scratch; in-place sources, the offset table, the scratch, then the C block
     * of the largest row split. */
    const int64_t ldc_block = ceil_div(block_columns, 16) * 16;
    const size_t b_floats = in_place ? (size_t)(ceil_div(k, 16) * 16) : (size_t)(kc_step * ceil_div(block_columns, NR) * NR + 16);
    const size_t scratch_floats = (s->scratch_floats != NULL ? s->scratch_floats(s->context, part.block_units) : 0) + 16;
    const size_t c_floats = in_place ? (size_t)(ceil_div(ceil_div(g->m, MR), part.m_splits) * MR * ldc_block) : 0;
    const size_t workspace_bytes = (b_floats + ceil_div((int64_t)scratch_floats, 16) * 16 + c_floats) * sizeof(float);
    int failed = 0, finished = 0;
#pragma omp parallel num_threads(part.threads) if (part.threads > 1)
    {
#pragma omp for schedule(dynamic, 1) nowait
        for (int64_t item = 0; item < part.items; item++) {
            float* workspace = hc_item_workspace(workspace_bytes, &failed);
            if (workspace == NULL) continue;
            float* scratch = workspace + b_floats;
            float* c_block = scratch + ceil_div((int64_t)scratch_floats, 16) * 16;
            int32_t* offsets = in_place ? (int32_t*)workspace : NULL;
            const hc_gemm_item at = item_at(g, &part, MR, item);
            if (s->prepare != NULL) s->prepare(s->context, &at, scratch, offsets);
            /* In place, the item most likely taken next by this thread (items are handed out in
             * order): its input is prefetched a slice per B panel, so its preparation finds it in L2. */
            hc_prefetch_cursor ahead = {0};
            const int64_t next_item = item + part.threads;
            if (in_place && s->lookahead != NULL && next_item < part.items && next_item / part.m_splits != item / part.m_splits) {
                const hc_gemm_item next = item_at(g, &part, MR, next_item);
                ahead = s->lookahead(s->context, &next);
            }
            const int64_t per_step = hc_prefetch_per_step(&ahead, (k > 0 ? ceil_div(k, kc_step) : 1) * ceil_div(at.columns, NR));
            const int64_t group = at.gemm % g->groups, ldb = ceil_div(at.columns, NR) * NR;
            const hc_gemm_epilogue epilogue = {
                .bias = g->row_bias != NULL ? g->row_bias + group * g->m : NULL,
                .activation = g->activation,
                .alpha = g->alpha,
            };
            int64_t k0 = 0;
            do { /* once at least: with k = 0, C is the bias, activated */
                const int64_t kc = min64(kc_step, k - k0);
                if (!in_place) s->pack(s->context, &at, scratch, k0, kc, workspace, ldb);
                hc_gemm_tile_block tiles = {
                    .kc = kc,
                    .a = g->packed_a + group * a_floats + k0 * MR,
                    .a_panel_floats = k * MR,
                    .panel_begin = at.row_begin / MR,
                    .panel_end = ceil_div(at.row_end, MR),
                    .b = in_place ? scratch : workspace,
                    .b_panel_floats = NR,
                    .ldb = ldb,
                    .offsets = in_place ? offsets + k0 : NULL,
                    .c = in_place ? c_block : g->c + at.gemm * g->c_stride + at.row_begin * g->ldc + at.j0,
                    .ldc = in_place ? ldc_block : g->ldc,
                    .m = g->m,
                    .n = at.columns,
                };
                hc_gemm_epilogue block_epilogue = epilogue;
                block_epilogue.first = k0 == 0;
                block_epilogue.last = k0 + kc >= k;
                if (ahead.lines > ahead.next) {
                    /* A panel at a time, with the prefetch spread between them. */
                    for (int64_t q = 0; q * NR < at.columns; q++) {
                        hc_prefetch_lines(&ahead, per_step);
                        hc_gemm_tile_block panel = tiles;
                        panel.b = tiles.b + q * NR;
                        panel.c = tiles.c + q * NR;
                        panel.n = min64(NR, at.columns - q * NR);
                        hc_gemm_tiles(kernel, &panel, block_epilogue);
                    }
                } else {
                    hc_gemm_tiles(kernel, &tiles, block_epilogue);
                }
                k0 += kc;
            } while (k0 < k);
            if (in_place) s->store(s->context, &at, c_block, ldc_block);
        }
        hc_parallel_join(&finished);
    }
    return failed ? hc_fail(HC_STATUS_OUT_OF_MEMORY, "out of memory for a batched GEMM workspace") : HC_STATUS_OK;
}
