/* Weights gradient as a GEMM whose im2col rows are read in place, AVX-512F.
 *
 * The im2col weights gradient dW_g[Kg x CKK] = dZ_g · columnsᵀ must bring the columns to the
 * micro-kernel as vectors along CKK: a 16 x 16 transpose of every element of every image (the
 * im2col_gemm algorithms' packer), as much work again as a fifth of the FMAs. Computed the other
 * way round, dW_gᵀ[CKK x Kg] = columns · dZ_gᵀ, the vectors run along the output channels: the
 * packed operand is dZᵀ (Kg x pixels, 1/CKK of the columns) and the columns are only broadcast,
 * element by element, straight from the phase-split window (hc_conv2d_phase_window): tap i of a
 * tile reads window + offset[i] + oh*pitch + ow. A tile is 8 taps x 32 output channels in 16
 * registers, over one block of output rows (the reduction block, sized so its dZᵀ panel stays
 * in L1); tiles accumulate block after block into a dWᵀ scratch, transposed into dW at the end.
 *
 * Determinism: the reduction blocks depend on the problem only and every tile is summed by one
 * thread, image after image and block after block, so any thread count gives the same bits.
 * Threads share the tiles (runs of 8 taps) of a chunk of images whose windows and packed dZᵀ
 * they prepared together. Padding is zeros in the window, multiplied like any input (the NaN rule
 * in hpccnn.h). Compiled with -mavx512f (this file only). */
#include <immintrin.h>

#include "../core/avx512.h"
#include "../eltwise/eltwise_internal.h"
#include "../gemm/gemm.h"
#include "conv2d_internal.h"

#define TILE_TAPS 8
#define TILE_CHANNELS 32
/* The reduction block: a block's dZᵀ panel (pixels x 32 floats) and the taps' window rows share the L1. */
#define BLOCK_PIXELS 288
/* A chunk's windows and packed dZᵀ, prepared at once by several threads: at most this many bytes, at least one image. */
#define WINDOW_BYTES_MAX (INT64_C(8) << 20)

static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
static int64_t round_up(int64_t a, int64_t b) { return ceil_div(a, b) * b; }
static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

/* A reduction block: output rows [oh0, oh0 + rows), columns [ow0, ow0 + width) of each row. */
typedef struct pixel_block {
    int64_t oh0, rows, ow0, width;
} pixel_block;

/* Blocks of whole output rows, equal in size, when a row fits BLOCK_PIXELS; else equal pieces of
 * one row. */
static int64_t block_count(const hc_conv2d* plan, int64_t* rows_per_block, int64_t* pieces_per_row) {
    const int64_t oh = plan->out_height, ow = plan->out_width;
    if (ow <= BLOCK_PIXELS) {
        const int64_t blocks = ceil_div(oh, BLOCK_PIXELS / ow);
        *rows_per_block = ceil_div(oh, blocks);
        *pieces_per_row = 1;
        return ceil_div(oh, *rows_per_block);
    }
    *rows_per_block = 1;
    *pieces_per_row = ceil_div(ow, BLOCK_PIXELS);
    return oh * *pieces_per_row;
}

static pixel_block block_at(const hc_conv2d* plan, int64_t index, int64_t rows_per_block, int64_t pieces_per_row) {
    const int64_t oh = plan->out_height, ow = plan->out_width;
    if (pieces_per_row == 1) {
        const int64_t oh0 = index * rows_per_block;
        return (pixel_block){.oh0 = oh0, .rows = min64(rows_per_block, oh - oh0), .ow0 = 0, .width = ow};
    }
    const int64_t piece = ceil_div(ow, pieces_per_row), ow0 = index % pieces_per_row * piece;
    return (pixel_block){.oh0 = index / pieces_per_row, .rows = 1, .ow0 = ow0, .width = min64(piece, ow - ow0)};
}

#define TAP_FMA(i)                                      \
    do {                                                \
        const __m512 a = _mm512_set1_ps(t##i[j]);       \
        c##i##0 = _mm512_fmadd_ps(a, b0, c##i##0);      \
        c##i##1 = _mm512_fmadd_ps(a, b1, c##i##1);      \
    } while (0)
#define TAP_LOAD(i)                                                                       \
    do {                                                                                  \
        c##i##0 = first ? _mm512_setzero_ps() : _mm512_load_ps(c + i * ldc);              \
        c##i##1 = first ? _mm512_setzero_ps() : _mm512_load_ps(c + i * ldc + 16);         \
    } while (0)
#define TAP_STORE(i)                                   \
    do {                                               \
        _mm512_store_ps(c + i * ldc, c##i##0);         \
        _mm512_store_ps(c + i * ldc + 16, c##i##1);    \
    } while (0)

/* c[8 x 32] (+)= Σ over the block's pixels of tap_i[pixel] · b[pixel][0..32): tap i's element
 * of row `row`, column j of the block at taps[i] + row * pitch + j; b packed 32 floats a pixel.
 * The accumulators are named variables: GCC 12 keeps an array of them on the stack. */
static void tile_8x32(const float* const taps[TILE_TAPS], int64_t rows, int64_t width, int64_t pitch, const float* restrict b,
                      float* restrict c, int64_t ldc, bool first) {
    __m512 c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71;
    TAP_LOAD(0);
    TAP_LOAD(1);
    TAP_LOAD(2);
    TAP_LOAD(3);
    TAP_LOAD(4);
    TAP_LOAD(5);
    TAP_LOAD(6);
    TAP_LOAD(7);
    const float *t0 = taps[0], *t1 = taps[1], *t2 = taps[2], *t3 = taps[3];
    const float *t4 = taps[4], *t5 = taps[5], *t6 = taps[6], *t7 = taps[7];
    for (int64_t row = 0; row < rows; row++) {
#pragma GCC unroll 2
        for (int64_t j = 0; j < width; j++) {
            const __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
            TAP_FMA(0);
            TAP_FMA(1);
            TAP_FMA(2);
            TAP_FMA(3);
            TAP_FMA(4);
            TAP_FMA(5);
            TAP_FMA(6);
            TAP_FMA(7);
            b += TILE_CHANNELS;
        }
        t0 += pitch, t1 += pitch, t2 += pitch, t3 += pitch, t4 += pitch, t5 += pitch, t6 += pitch, t7 += pitch;
    }
    TAP_STORE(0);
    TAP_STORE(1);
    TAP_STORE(2);
    TAP_STORE(3);
    TAP_STORE(4);
    TAP_STORE(5);
    TAP_STORE(6);
    TAP_STORE(7);
}

/* Output channels per group that fill most of the 32-wide tiles, and what the GEMM paths accept. */
static bool accepts_taps(const hc_plan* base) {
    const hc_conv2d* plan = hc_conv(base);
    const hc_conv2d_desc* d = &plan->desc;
    const int64_t kg = d->out_channels / d->groups;
    return 4 * kg >= 3 * round_up(kg, TILE_CHANNELS) && hc_conv2d_taps_per_group(d) >= TILE_TAPS &&
           hc_conv2d_stride_within_kernel(d) && hc_conv2d_window_floats(plan) < (INT64_C(1) << 31);
}

typedef struct taps_work {
    const hc_conv2d* plan;
    const float* x;
    const float* dy;          /* dL/dy */
    const float* y;           /* the forward output, for a fused activation's derivative; NULL without one */
    float* bias_sums;         /* per image, block and output channel: the block's dz summed (NULL without a bias) */
    float* windows;           /* the chunk's windows, image_floats apart */
    float* packed;            /* the chunk's dZᵀ blocks, packed_floats per image (block at p0 · ldc) */
    const int64_t* offsets;   /* per tap, into a window */
    float* dwt;               /* ckk rounded up to 8, by kg rounded up to 32 */
    int64_t image_floats, packed_floats, ldc, g;
    int64_t rows_per_block, pieces_per_row, blocks;
} taps_work;

/* Task `task` of a chunk's preparation (images [n0, n0 + images)): each input channel's window of
 * each image, then each image's dZᵀ blocks. A block's dz = act'(y) · dy is made here, in cache,
 * right before it is packed (not a pass over the whole output first), and summed per output
 * channel for the bias: 16 lanes, then the lanes in order. */
static void prepare_chunk(const taps_work* w, int64_t n0, int64_t task) {
    const hc_conv2d* plan = w->plan;
    const hc_conv2d_desc* d = &plan->desc;
    const int64_t kg = d->out_channels / d->groups, cg = d->in_channels / d->groups, pixels = plan->out_height * plan->out_width;
    const int64_t images_of_windows = task / (cg + w->blocks), item = task % (cg + w->blocks), n = n0 + images_of_windows;
    if (item < cg) {
        const float* image = w->x + (n * d->in_channels + w->g * cg) * d->in_height * d->in_width;
        hc_conv2d_fill_window(plan, image, w->windows + (n - n0) * w->image_floats, item, item + 1);
        return;
    }
    const int64_t index = item - cg;
    const pixel_block block = block_at(plan, index, w->rows_per_block, w->pieces_per_row);
    const int64_t p0 = block.oh0 * plan->out_width + block.ow0, kc = block.rows * block.width;
    const int64_t first = (n * d->out_channels + w->g * kg) * pixels + p0;
    hc_gemm_matrix dzt = {.data = w->dy + first, .ld = pixels, .transposed = true};
    if (w->y != NULL) {
        /* The calling tasks' columns buffer is free here: the tiles use none. */
        float* dz = hc_thread_columns((size_t)(kg * kc) * sizeof(float));
        for (int64_t k = 0; k < kg; k++)
            hc_eltwise_backward__avx512(d->activation, d->activation_alpha, w->y + first + k * pixels, w->dy + first + k * pixels, dz + k * kc, 0, kc);
        dzt = (hc_gemm_matrix){.data = dz, .ld = kc, .transposed = true};
    }
    if (w->bias_sums != NULL)
        for (int64_t k = 0; k < kg; k++) {
            const float* row = dzt.data + k * dzt.ld;
            __m512 lanes = _mm512_setzero_ps();
            for (int64_t pp = 0; pp < kc; pp += 16) lanes = _mm512_add_ps(lanes, _mm512_maskz_loadu_ps(hc_first_lanes16(kc - pp), row + pp));
            w->bias_sums[(n * w->blocks + index) * kg + k] = _mm512_reduce_add_ps(lanes);
        }
    hc_gemm_pack_b(HC_ISA_AVX512, dzt, kc, kg, w->packed + (n - n0) * w->packed_floats + p0 * w->ldc);
}

/* Tap groups [t_begin, t_end) over images [n0, n0 + images) of the prepared chunk. */
static void run_tiles(const taps_work* w, int64_t n0, int64_t images, int64_t t_begin, int64_t t_end) {
    const hc_conv2d* plan = w->plan;
    const hc_conv2d_desc* d = &plan->desc;
    const int64_t kg = d->out_channels / d->groups, ckk = hc_conv2d_taps_per_group(d);
    const int64_t pitch = hc_conv2d_window_of(plan).pitch, panels = ceil_div(kg, TILE_CHANNELS);
    for (int64_t n = n0; n < n0 + images; n++) {
        const float* window = w->windows + (n - n0) * w->image_floats;
        for (int64_t index = 0; index < w->blocks; index++) {
            const pixel_block block = block_at(plan, index, w->rows_per_block, w->pieces_per_row);
            const int64_t p0 = block.oh0 * plan->out_width + block.ow0, kc = block.rows * block.width;
            const float* packed = w->packed + (n - n0) * w->packed_floats + p0 * w->ldc;
            const bool first = n == 0 && index == 0;
            for (int64_t q = 0; q < panels; q++)
                for (int64_t t = t_begin; t < t_end; t++) {
                    const float* taps[TILE_TAPS];
                    for (int i = 0; i < TILE_TAPS; i++) {
                        /* Rows past the last tap repeat it; their sums land in the scratch's padding. */
                        const int64_t tap = min64(t * TILE_TAPS + i, ckk - 1);
                        taps[i] = window + w->offsets[tap] + block.oh0 * pitch + block.ow0;
                    }
                    tile_8x32(taps, block.rows, block.width, pitch, packed + q * kc * TILE_CHANNELS,
                              w->dwt + t * TILE_TAPS * w->ldc + q * TILE_CHANNELS, w->ldc, first);
                }
        }
    }
}

static hc_status run_taps(const hc_plan* base, const hc_args* args) {
    const hc_conv2d* plan = hc_conv(base);
    const hc_conv2d_desc* d = &plan->desc;
    float* dw = hc_arg_out(args, HC_ARG_DIFF_WEIGHTS);
    float* db = hc_arg_out(args, HC_ARG_DIFF_BIAS);
    const int threads = hc_conv2d_backward_threads(plan);
    const int64_t kg = d->out_channels / d->groups, cg = d->in_channels / d->groups, ckk = hc_conv2d_taps_per_group(d);
    const int64_t groups_of_taps = ceil_div(ckk, TILE_TAPS);

    taps_work w = {.plan = plan, .x = hc_arg_in(args, HC_ARG_SRC), .dy = hc_arg_in(args, HC_ARG_DIFF_DST), .ldc = round_up(kg, TILE_CHANNELS)};
    if (d->activation != HC_ACTIVATION_NONE) w.y = hc_arg_in(args, HC_ARG_DST);
    w.blocks = block_count(plan, &w.rows_per_block, &w.pieces_per_row);
    w.image_floats = round_up(hc_conv2d_window_floats(plan), 16);
    w.packed_floats = plan->out_height * plan->out_width * w.ldc;
    /* Images are prepared a chunk at a time (windows and packed dZᵀ, every thread taking a share),
     * then every thread runs its tap groups over the chunk: each dZᵀ block is packed once, not
     * once per thread. One thread prepares one image just before its tiles, while it is in cache. */
    const int64_t image_bytes = (w.image_floats + w.packed_floats) * (int64_t)sizeof(float);
    const int64_t chunk = threads == 1 ? 1 : max64(1, min64(d->batch, WINDOW_BYTES_MAX / image_bytes));
    const int64_t offset_floats = round_up(ckk * 2, 16), dwt_floats = groups_of_taps * TILE_TAPS * w.ldc;
    const int64_t bias_floats = db != NULL ? round_up(d->batch * w.blocks * kg, 16) : 0;
    float* buffer = hc_aligned_alloc((size_t)(offset_floats + dwt_floats + bias_floats + chunk * (w.image_floats + w.packed_floats)) * sizeof(float));
    if (buffer == NULL) return hc_fail(HC_STATUS_OUT_OF_MEMORY, "out of memory for the weights gradient's windows");
    int64_t* offsets = (int64_t*)buffer;
    hc_conv2d_window_tap_offsets(plan, offsets);
    w.offsets = offsets;
    w.dwt = buffer + offset_floats;
    w.bias_sums = db != NULL ? w.dwt + dwt_floats : NULL;
    w.windows = w.dwt + dwt_floats + bias_floats;
    w.packed = w.windows + chunk * w.image_floats;
    int failed = 0;
    for (int64_t g = 0; g < d->groups; g++) {
        w.g = g;
        for (int64_t n0 = 0; n0 < d->batch; n0 += chunk) {
            const int64_t images = min64(chunk, d->batch - n0);
            int finished = 0;
#pragma omp parallel num_threads(threads) if (threads > 1)
            {
                /* A fused activation's dz needs each preparing thread's columns buffer. */
                if (w.y != NULL && hc_thread_columns((size_t)(kg * BLOCK_PIXELS) * sizeof(float)) == NULL) {
#pragma omp atomic write
                    failed = 1;
                }
#pragma omp barrier
                int stop;
#pragma omp atomic read
                stop = failed;
                if (!stop) {
#pragma omp for schedule(static)
                    for (int64_t task = 0; task < images * (cg + w.blocks); task++) prepare_chunk(&w, n0, task);
                    /* (the loop's barrier: the chunk is prepared before any tile reads it) */
#pragma omp for schedule(static) nowait
                    for (int64_t part = 0; part < threads; part++) {
                        const int64_t t_begin = part * groups_of_taps / threads, t_end = (part + 1) * groups_of_taps / threads;
                        if (t_begin < t_end) run_tiles(&w, n0, images, t_begin, t_end);
                    }
                }
                hc_parallel_join(&finished);
            }
            if (failed) break;
        }
        if (failed) break;
        /* dW[g*kg + k][tap] = dWᵀ[tap][k]; dL/db[g*kg + k] = the blocks' sums in image and block order. */
        for (int64_t k = 0; k < kg; k++)
            for (int64_t tap = 0; tap < ckk; tap++) dw[(g * kg + k) * ckk + tap] = w.dwt[tap * w.ldc + k];
        if (db != NULL)
            for (int64_t k = 0; k < kg; k++) {
                float sum = 0.0f;
                for (int64_t i = 0; i < d->batch * w.blocks; i++) sum += w.bias_sums[i * kg + k];
                db[g * kg + k] = sum;
            }
    }
    hc_aligned_free(buffer);
    return failed ? hc_fail(HC_STATUS_OUT_OF_MEMORY, "out of memory for the activation's gradient") : HC_STATUS_OK;
}

const hc_algorithm hc_conv2d_backward_weights_taps_8x32_avx512 = {
    .name = "taps_8x32_avx512", .isa = HC_ISA_AVX512, .accepts = accepts_taps, .pack = NULL, .run = run_taps};
