/* Direct convolution on a channel-blocked copy of the input (the NCHW16c layout of oneDNN and
 * MLAS, made per call from plain NCHW), AVX-512F.
 *
 * A work item is one image's band of output rows. It first copies the input rows the band reads
 * into a zero-padded window laid out [channel block][row][column][16 channels] (a 16x16
 * transpose per 256 floats), so the 16 channels of one input pixel are one aligned vector and
 * padding needs no tests. The register tile is 6 output pixels x 64 output channels: per input
 * channel, four weight vectors (16 output channels each) and six broadcast inputs feed 24 FMAs
 * into 24 accumulators. The tile's pixels run on across output rows (each has its own input
 * pointer), so an output width of 14 or 56 wastes no lanes, unlike vectorising along the row.
 * Partial sums of the band live in a pixel-major buffer [pixel][64]; the last reduction step
 * transposes them back to NCHW, adding the activation.
 *
 * Weights are packed at plan creation as [64-channel group][channel block][r][s][16 in][64 out],
 * read in order by the tile; a reduction chunk of channel blocks keeps its weights in L1.
 *
 * Determinism: every output is reduced over channel blocks, taps and channels in one fixed order
 * by one thread; bands only decide which thread, so any thread count gives the same bits.
 * Compiled with -mavx512f (this file only). */
#include <immintrin.h>

#include "../core/avx512.h"
#include "conv2d_internal.h"
#include "conv2d_prefetch.h"

#define CHANNEL_BLOCK 16 /* channels per vector */
#define GROUP_BLOCKS 4   /* output-channel blocks in one register tile: 64 channels */
#define GROUP_WIDTH (CHANNEL_BLOCK * GROUP_BLOCKS)
#define TILE_PIXELS 6
/* Weights of one reduction chunk (channel blocks x taps x 16 x 64 floats) kept under this. */
#define CHUNK_WEIGHT_BYTES (36 * 1024)
/* A band's window and partial sums together stay in L2 (1 MiB on Zen 5, 1-2 MiB on Intel). */
#define BAND_BYTES (384 * 1024)
/* Weights up to this size stay in L2 from one band to the next. */
#define WEIGHTS_IN_L2_BYTES (768 * 1024)
/* Work items per thread in a parallel call (finer items cost only the halo rows of their windows). */
#define ITEMS_PER_THREAD 4

static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

typedef struct blocked_shape {
    int64_t unit;     /* input channels per window pixel: 16 (blocked) or 1 (plain NCHW rows) */
    int64_t c_blocks; /* input channel blocks of `unit` channels */
    int64_t k_blocks, k_groups, taps;
    int64_t padded_width; /* window columns: every column an output reads, padding included */
    /* A reduction chunk, whose weights stay in L1 while the band's tiles run through it: several
     * channel blocks, or for large kernels (5x5: 100 KiB per block) some kernel rows of one. */
    int64_t chunk_blocks, chunk_rows;
} blocked_shape;

/* Sixteen-channel blocks unless padding the channels up to a block would waste more than 1/8 of
 * the work (3 channels would waste 13/16): then one channel per block, the window is plain
 * padded NCHW rows and each broadcast walks along a row instead of across channels. */
static int64_t unit_of(const hc_conv2d_desc* d) {
    return d->in_channels >= CHANNEL_BLOCK && ceil_div(d->in_channels, CHANNEL_BLOCK) * CHANNEL_BLOCK * 8 <= d->in_channels * 9
               ? CHANNEL_BLOCK
               : 1;
}

static blocked_shape shape_of(const hc_conv2d* plan) {
    const hc_conv2d_desc* d = &plan->desc;
    const int64_t taps = d->kernel_height * d->kernel_width, unit = unit_of(d);
    const int64_t block_weight_bytes = taps * unit * GROUP_WIDTH * (int64_t)sizeof(float);
    return (blocked_shape){
        .unit = unit,
        .c_blocks = ceil_div(d->in_channels, unit),
        .k_blocks = ceil_div(d->out_channels, CHANNEL_BLOCK),
        .k_groups = ceil_div(d->out_channels, GROUP_WIDTH),
        .taps = taps,
        .padded_width = (plan->out_width - 1) * d->stride_width + (d->kernel_width - 1) * d->dilation_width + 1,
        .chunk_blocks = max64(1, CHUNK_WEIGHT_BYTES / block_weight_bytes),
        .chunk_rows = block_weight_bytes <= CHUNK_WEIGHT_BYTES
                          ? d->kernel_height
                          : max64(1, CHUNK_WEIGHT_BYTES / (block_weight_bytes / d->kernel_height)),
    };
}

static int64_t window_rows(const hc_conv2d* plan, int64_t band_rows) {
    const hc_conv2d_desc* d = &plan->desc;
    return (band_rows - 1) * d->stride_height + (d->kernel_height - 1) * d->dilation_height + 1;
}

/* Sizes below saturate at a quarter of the int64 range, so that their sums and the rounding up
 * cannot overflow for absurd paddings: such sizes only ever fail the workspace budget. */
static int64_t saturated_floats(int64_t a, int64_t b, int64_t c, int64_t d) {
    const int64_t product = hc_saturating_product(a, b, c, d);
    return product < INT64_MAX / 4 ? product : INT64_MAX / 4;
}

/* The window of a band, in whole vectors so that the partial sums after it stay aligned. */
static int64_t window_floats(const hc_conv2d* plan, blocked_shape s, int64_t band_rows) {
    return ceil_div(saturated_floats(s.c_blocks, window_rows(plan, band_rows), s.padded_width, s.unit), 16) * 16;
}

static int64_t band_floats(const hc_conv2d* plan, blocked_shape s, int64_t band_rows) {
    return window_floats(plan, s, band_rows) + saturated_floats(band_rows, plan->out_width, GROUP_WIDTH, 1);
}

/* Plain groups-1 convolutions with at least two output blocks (fewer would leave most of the
 * register tile empty); `unit` picks the blocked or the plain-row variant. */
static bool accepts_direct(const hc_conv2d* plan, int64_t unit) {
    const hc_conv2d_desc* d = &plan->desc;
    if (d->groups != 1 || d->out_channels < 2 * CHANNEL_BLOCK || unit_of(d) != unit) return false;
    /* Short reductions are bound by writing the output, which the GEMM path does better with two
     * threads: lenet_c1 (25 per output) ran 0.37-0.41 ms this way against 0.27-0.29 ms. */
    if (unit == 1 && d->in_channels * d->kernel_height * d->kernel_width < 128) return false;
    const blocked_shape s = shape_of(plan);
    /* Offsets stay in 32 bits and a one-row band fits the workspace budget several times over. */
    return band_floats(plan, s, 1) <= BAND_BYTES / (int64_t)sizeof(float) && s.padded_width < (INT64_C(1) << 24);
}

static bool accepts_direct_blocked(const hc_conv2d* plan) { return accepts_direct(plan, CHANNEL_BLOCK); }
static bool accepts_direct_plain(const hc_conv2d* plan) { return accepts_direct(plan, 1); }

/* packed[((g * c_blocks + cb) * taps + t) * unit * 64 + c * 64 + o] = w[g*64 + o][cb*unit + c][t], zero
 * past the channel counts; then the bias, zero-padded to whole groups. */
static hc_status prepare_direct_blocked(hc_conv2d* plan) {
    const hc_conv2d_desc* d = &plan->desc;
    const blocked_shape s = shape_of(plan);
    const int64_t weight_floats = s.k_groups * s.c_blocks * s.taps * s.unit * GROUP_WIDTH;
    float* out = hc_plan_packed(&plan->base, (size_t)(weight_floats + s.k_groups * GROUP_WIDTH) * sizeof(float));
    if (out == NULL) return hc_fail(HC_STATUS_OUT_OF_MEMORY, "out of memory packing the weights");
    for (int64_t g = 0; g < s.k_groups; g++)
        for (int64_t cb = 0; cb < s.c_blocks; cb++)
            for (int64_t t = 0; t < s.taps; t++)
                for (int64_t c = 0; c < s.unit; c++)
                    for (int64_t o = 0; o < GROUP_WIDTH; o++) {
                        const int64_t k = g * GROUP_WIDTH + o, channel = cb * s.unit + c;
                        *out++ = k < d->out_channels && channel < d->in_channels
                                     ? plan->base.weights[(k * d->in_channels + channel) * s.taps + t]
                                     : 0.0f;
                    }
    for (int64_t k = 0; k < s.k_groups * GROUP_WIDTH; k++)
        *out++ = plan->base.bias != NULL && k < d->out_channels ? plan->base.bias[k] : 0.0f;
    return HC_STATUS_OK;
}

/* Plain rows: `rows` padded input rows of s.padded_width floats per channel, zero outside the image. */
static void fill_window_plain(const hc_conv2d* plan, blocked_shape s, const float* x, int64_t first_row, int64_t rows, float* window) {
    const hc_conv2d_desc* d = &plan->desc;
    const int64_t width = d->in_width, plane = d->in_height * width, pw = min64(d->pad_left, s.padded_width);
    const int64_t used = min64(width, s.padded_width - pw);
    const __m512 zero = _mm512_setzero_ps();
    for (int64_t c = 0; c < d->in_channels; c++)
        for (int64_t i = 0; i < rows; i++) {
            float* dst = window + (c * rows + i) * s.padded_width;
            const int64_t ih = first_row * d->stride_height + i - d->pad_top;
            const bool inside = ih >= 0 && ih < d->in_height && used > 0;
            const float* src = inside ? x + c * plane + ih * width : x;
            for (int64_t j = 0; j < s.padded_width; j += 16) {
                /* Lanes j..j+15 of the row: image columns j - pw.. where inside, zero elsewhere. */
                const int64_t lead = pw - j > 0 ? min64(pw - j, 16) : 0, column = j + lead - pw;
                const int64_t count = inside ? max64(0, min64(16 - lead, used - column)) : 0;
                const __mmask16 load = (__mmask16)(hc_first_lanes16(count) << lead);
                const __m512 v = count > 0 ? _mm512_maskz_loadu_ps(load, src + column - lead) : zero;
                _mm512_mask_storeu_ps(dst + j, hc_first_lanes16(s.padded_width - j), v);
            }
        }
}

/* The window of a band starting at output row `first_row`: `rows` padded input rows of
 * s.padded_width pixels per channel block, 16 channels per pixel, zero outside the image. */
static void fill_window(const hc_conv2d* plan, blocked_shape s, const float* x, int64_t first_row, int64_t rows, float* window) {
    if (s.unit == 1) {
        fill_window_plain(plan, s, x, first_row, rows, window);
        return;
    }
    const hc_conv2d_desc* d = &plan->desc;
    const int64_t width = d->in_width, plane = d->in_height * width, pw = d->pad_left;
    const int64_t used = min64(width, s.padded_width - pw); /* image columns the outputs read */
    const __m512 zero = _mm512_setzero_ps();
    for (int64_t cb = 0; cb < s.c_blocks; cb++) {
        const int64_t channels = min64(CHANNEL_BLOCK, d->in_channels - cb * CHANNEL_BLOCK);
        for (int64_t i = 0; i < rows; i++) {
            float* dst = window + (cb * rows + i) * s.padded_width * CHANNEL_BLOCK;
            const int64_t ih = first_row * d->stride_height + i - d->pad_top;
            if (ih < 0 || ih >= d->in_height || used <= 0) {
                for (int64_t j = 0; j < s.padded_width; j++) _mm512_store_ps(dst + j * CHANNEL_BLOCK, zero);
                continue;
            }
            for (int64_t j = 0; j < min64(pw, s.padded_width); j++) _mm512_store_ps(dst + j * CHANNEL_BLOCK, zero);
            const float* src = x + cb * CHANNEL_BLOCK * plane + ih * width;
            for (int64_t iw = 0; iw < used; iw += 16) {
                const int64_t count = min64(16, used - iw);
                const __mmask16 mask = hc_first_lanes16(count);
                __m512 v[16];
                for (int c = 0; c < 16; c++) v[c] = c < channels ? _mm512_maskz_loadu_ps(mask, src + c * plane + iw) : zero;
                hc_transpose16x16(v);
                for (int64_t j = 0; j < count; j++) _mm512_store_ps(dst + (pw + iw + j) * CHANNEL_BLOCK, v[j]);
            }
            for (int64_t j = pw + used; j < s.padded_width; j++) _mm512_store_ps(dst + j * CHANNEL_BLOCK, zero);
        }
    }
}

/* Where a tile's reduction starts and how it walks the window. */
typedef struct tile_walk {
    int64_t c_blocks;     /* channel blocks in this chunk */
    int64_t plane_stride; /* floats between channel blocks of the window */
    int64_t r0, r1, kw;   /* kernel rows [r0, r1) of each block, all columns */
    int64_t row_step, column_step; /* floats between taps: dilation x (row pitch | one pixel) */
} tile_walk;

#define TILE_ACCUMULATORS(X) \
    X(0, 0) X(0, 1) X(0, 2) X(0, 3) X(1, 0) X(1, 1) X(1, 2) X(1, 3) X(2, 0) X(2, 1) X(2, 2) X(2, 3) \
    X(3, 0) X(3, 1) X(3, 2) X(3, 3) X(4, 0) X(4, 1) X(4, 2) X(4, 3) X(5, 0) X(5, 1) X(5, 2) X(5, 3)

/* acc[p][j] (pixel p, output channels 16j..16j+15) += the chunk's reduction; `pixels` (P) and
 * `blocks` (NB) are compile-time constants after inlining, so unused accumulators vanish. The
 * accumulators are named variables: GCC 12 kept an array of them in memory. */
static inline __attribute__((always_inline)) void tile_kernel(const float* w, const float* const* x, tile_walk walk,
                                                              float* sums, const float* init, const int pixels,
                                                              const int blocks, const int unit) {
#define DECLARE(p, j) __m512 a##p##j = _mm512_setzero_ps();
    TILE_ACCUMULATORS(DECLARE)
#undef DECLARE
#define LOAD(p, j) \
    if (p < pixels && j < blocks) a##p##j = _mm512_load_ps(init != NULL ? init + 16 * j : sums + p * GROUP_WIDTH + 16 * j);
    TILE_ACCUMULATORS(LOAD)
#undef LOAD
    const float* x0 = x[0];
    const float* x1 = pixels > 1 ? x[1] : x0;
    const float* x2 = pixels > 2 ? x[2] : x0;
    const float* x3 = pixels > 3 ? x[3] : x0;
    const float* x4 = pixels > 4 ? x[4] : x0;
    const float* x5 = pixels > 5 ? x[5] : x0;
    for (int64_t cb = 0; cb < walk.c_blocks; cb++) {
        const int64_t plane = cb * walk.plane_stride;
        for (int64_t r = walk.r0; r < walk.r1; r++) {
            for (int64_t s = 0; s < walk.kw; s++) {
                const int64_t offset = plane + r * walk.row_step + s * walk.column_step;
                const float *y0 = x0 + offset, *y1 = x1 + offset, *y2 = x2 + offset;
                const float *y3 = x3 + offset, *y4 = x4 + offset, *y5 = x5 + offset;
#pragma GCC unroll 16
                for (int c = 0; c < unit; c++) {
                    const __m512 f0 = _mm512_load_ps(w + c * GROUP_WIDTH);
                    const __m512 f1 = blocks > 1 ? _mm512_load_ps(w + c * GROUP_WIDTH + 16) : f0;
                    const __m512 f2 = blocks > 2 ? _mm512_load_ps(w + c * GROUP_WIDTH + 32) : f0;
                    const __m512 f3 = blocks > 3 ? _mm512_load_ps(w + c * GROUP_WIDTH + 48) : f0;
#define PIXEL(p)                                                  \
    if (p < pixels) {                                             \
        const __m512 b = _mm512_set1_ps(y##p[c]);                 \
        a##p##0 = _mm512_fmadd_ps(f0, b, a##p##0);                \
        if (blocks > 1) a##p##1 = _mm512_fmadd_ps(f1, b, a##p##1); \
        if (blocks > 2) a##p##2 = _mm512_fmadd_ps(f2, b, a##p##2); \
        if (blocks > 3) a##p##3 = _mm512_fmadd_ps(f3, b, a##p##3); \
    }
                    PIXEL(0) PIXEL(1) PIXEL(2) PIXEL(3) PIXEL(4) PIXEL(5)
#undef PIXEL
                }
                w += unit * GROUP_WIDTH;
            }
        }
    }
#define STORE(p, j) \
    if (p < pixels && j < blocks) _mm512_store_ps(sums + p * GROUP_WIDTH + 16 * j, a##p##j);
    TILE_ACCUMULATORS(STORE)
#undef STORE
}

#define TILE_CASE(u, p, b) \
    case ((u) * 8 + (p)) * 8 + (b): tile_kernel(w, x, walk, sums, init, p, b, u); break;
#define TILE_CASES(u, p) TILE_CASE(u, p, 1) TILE_CASE(u, p, 2) TILE_CASE(u, p, 3) TILE_CASE(u, p, 4)
#define TILE_CASES_UNIT(u) \
    TILE_CASES(u, 1) TILE_CASES(u, 2) TILE_CASES(u, 3) TILE_CASES(u, 4) TILE_CASES(u, 5) TILE_CASES(u, 6)

static void run_tile(const float* w, const float* const* x, tile_walk walk, float* sums, const float* init, int pixels,
                     int blocks, int unit) {
    switch ((unit * 8 + pixels) * 8 + blocks) {
        TILE_CASES_UNIT(1)
        TILE_CASES_UNIT(16)
    default: break;
    }
}

/* The band's sums of output-channel group g back to NCHW: y holds the band's first output pixel
 * of channel 0; pixels of one channel are contiguous there (the band is whole rows). */
static void store_sums(const hc_conv2d* plan, const float* sums, int64_t pixels, int64_t g, float* y) {
    const hc_conv2d_desc* d = &plan->desc;
    const int64_t plane = plan->out_height * plan->out_width;
    for (int64_t j = 0; j < GROUP_BLOCKS; j++) {
        const int64_t k0 = g * GROUP_WIDTH + j * CHANNEL_BLOCK, channels = min64(CHANNEL_BLOCK, d->out_channels - k0);
        if (channels <= 0) break;
        for (int64_t q = 0; q < pixels; q += 16) {
            const int64_t count = min64(16, pixels - q);
            __m512 v[16];
            for (int64_t i = 0; i < 16; i++)
                v[i] = i < count ? _mm512_load_ps(sums + (q + i) * GROUP_WIDTH + j * CHANNEL_BLOCK) : _mm512_setzero_ps();
            hc_transpose16x16(v);
            const __mmask16 mask = hc_first_lanes16(count);
            for (int64_t o = 0; o < channels; o++)
                _mm512_mask_storeu_ps(y + (k0 + o) * plane + q, mask, hc_activation_forward16(d->activation, d->activation_alpha, v[o]));
        }
    }
}

/* How a call's work is shared: items = images x bands of whole output rows x splits of the
 * output-channel groups. Bands are small enough for L2, and a call has enough items that a thread
 * waking late still finds work. Groups are split before rows when the weights are large (a band
 * streams all its groups' weights: deep_3x3's 2.3 MiB in 14 one-row bands was 33 MB from L3). */
typedef struct band_partition {
    int64_t rows, bands, group_splits, items;
} band_partition;

static band_partition partition_bands(const hc_conv2d* plan, blocked_shape s, int threads) {
    const hc_conv2d_desc* d = &plan->desc;
    const int64_t out_h = plan->out_height, wanted = threads > 1 ? ITEMS_PER_THREAD * (int64_t)threads : 1;
    int64_t rows = out_h;
    while (rows > 1 && band_floats(plan, s, rows) > BAND_BYTES / (int64_t)sizeof(float)) rows = ceil_div(rows, 2);
    int64_t group_splits = 1;
    if (d->batch * ceil_div(out_h, rows) < wanted) {
        /* Weights that stay in L2 cost little to stream again, a window copied twice costs its
         * transposes: resnet_3x3_s2 (590 KiB of weights) split into twice the bands instead of
         * two groups copies 70 rows instead of 126. */
        const int64_t weight_bytes = s.k_groups * s.c_blocks * s.taps * s.unit * GROUP_WIDTH * (int64_t)sizeof(float);
        if (weight_bytes > WEIGHTS_IN_L2_BYTES)
            group_splits = min64(s.k_groups, ceil_div(wanted, d->batch * ceil_div(out_h, rows)));
        const int64_t bands = ceil_div(wanted, d->batch * group_splits);
        if (d->batch * group_splits * ceil_div(out_h, rows) < wanted) rows = max64(1, min64(rows, out_h / bands));
        if (d->batch * group_splits * ceil_div(out_h, rows) < wanted)
            group_splits = min64(s.k_groups, ceil_div(wanted, d->batch * ceil_div(out_h, rows)));
    }
    rows = ceil_div(out_h, ceil_div(out_h, rows));
    const int64_t bands = ceil_div(out_h, rows);
    return (band_partition){.rows = rows, .bands = bands, .group_splits = group_splits, .items = d->batch * bands * group_splits};
}

static hc_status run_direct_blocked(const hc_conv2d* plan, const float* input, float* output) {
    const hc_conv2d_desc* d = &plan->desc;
    const blocked_shape s = shape_of(plan);
    const int64_t out_w = plan->out_width, out_h = plan->out_height;
    const double flops = 2.0 * (double)d->batch * (double)d->out_channels * (double)(out_h * out_w) * (double)(d->in_channels * s.taps);
    const int threads = hc_threads_for_flops(flops, plan->base.num_threads);
    const band_partition part = partition_bands(plan, s, threads);
    const int64_t band = part.rows, bands = part.bands, items = part.items;
    const size_t workspace_bytes = (size_t)band_floats(plan, s, band) * sizeof(float);
    const float* packed_bias = plan->base.packed + s.k_groups * s.c_blocks * s.taps * s.unit * GROUP_WIDTH;
    const int64_t in_plane = d->in_channels * d->in_height * d->in_width, out_plane = d->out_channels * out_h * out_w;
    int failed = 0, finished = 0;
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
#pragma omp for schedule(dynamic, 1) nowait
        for (int64_t item = 0; item < items; item++) {
            float* window = hc_item_workspace(workspace_bytes, &failed);
            if (window == NULL) continue;
            const int64_t split = item % part.group_splits, n = item / part.group_splits / bands;
            const int64_t first_row = item / part.group_splits % bands * band, rows = min64(band, out_h - first_row);
            const int64_t g_begin = split * s.k_groups / part.group_splits, g_end = (split + 1) * s.k_groups / part.group_splits;
            const int64_t in_rows = window_rows(plan, rows), pixels = rows * out_w;
            float* sums = window + window_floats(plan, s, band);
            fill_window(plan, s, input + n * in_plane, first_row, in_rows, window);
            const tile_walk full = {
                .plane_stride = in_rows * s.padded_width * s.unit,
                .kw = d->kernel_width,
                .row_step = d->dilation_height * s.padded_width * s.unit,
                .column_step = d->dilation_width * s.unit,
            };
            /* The band this thread most likely takes next (items are handed out in order) is
             * prefetched a few lines per tile, so its window copy finds its input in L2. */
            hc_prefetch_cursor ahead = {0};
            const int64_t next_item = item + threads;
            if (next_item < items && next_item / part.group_splits != item / part.group_splits) {
                const int64_t next_band = next_item / part.group_splits, next_first = next_band % bands * band;
                ahead = hc_prefetch_input_rows(plan, input + next_band / bands * in_plane, d->in_channels, next_first,
                                               min64(band, out_h - next_first));
            }
            const int64_t chunks = ceil_div(s.c_blocks, s.chunk_blocks) * ceil_div(d->kernel_height, s.chunk_rows);
            const int64_t per_tile = hc_prefetch_per_step(&ahead, (g_end - g_begin) * chunks * ceil_div(pixels, TILE_PIXELS));
            for (int64_t g = g_begin; g < g_end; g++) {
                const int blocks = (int)min64(GROUP_BLOCKS, s.k_blocks - g * GROUP_BLOCKS);
                for (int64_t cb = 0; cb < s.c_blocks; cb += s.chunk_blocks)
                    for (int64_t r0 = 0; r0 < d->kernel_height; r0 += s.chunk_rows) {
                        tile_walk walk = full;
                        walk.c_blocks = min64(s.chunk_blocks, s.c_blocks - cb);
                        walk.r0 = r0;
                        walk.r1 = min64(r0 + s.chunk_rows, d->kernel_height);
                        const float* w = plan->base.packed + ((g * s.c_blocks + cb) * s.taps + r0 * d->kernel_width) * s.unit * GROUP_WIDTH;
                        const float* init = cb == 0 && r0 == 0 ? packed_bias + g * GROUP_WIDTH : NULL;
                        const float* chunk_window = window + cb * full.plane_stride;
                        for (int64_t q = 0; q < pixels; q += TILE_PIXELS) {
                            const int count = (int)min64(TILE_PIXELS, pixels - q);
                            const float* x[TILE_PIXELS];
                            for (int i = 0; i < count; i++) {
                                const int64_t oh = (q + i) / out_w, ow = (q + i) % out_w;
                                x[i] = chunk_window + (oh * d->stride_height * s.padded_width + ow * d->stride_width) * s.unit;
                            }
                            run_tile(w, x, walk, sums + q * GROUP_WIDTH, init, count, blocks, (int)s.unit);
                            hc_prefetch_lines(&ahead, per_tile);
                        }
                    }
                store_sums(plan, sums, pixels, g, output + n * out_plane + first_row * out_w);
            }
        }
        hc_parallel_join(&finished);
    }
    return failed ? hc_fail(HC_STATUS_OUT_OF_MEMORY, "out of memory for a convolution workspace") : HC_STATUS_OK;
}

HC_CONV2D_FORWARD_ALGORITHM(hc_conv2d_direct_plain_6x64_avx512, "direct_plain_6x64_avx512", HC_ISA_AVX512, accepts_direct_plain, prepare_direct_blocked, run_direct_blocked);

HC_CONV2D_FORWARD_ALGORITHM(hc_conv2d_direct_blocked_6x64_avx512, "direct_blocked_6x64_avx512", HC_ISA_AVX512, accepts_direct_blocked, prepare_direct_blocked, run_direct_blocked);
