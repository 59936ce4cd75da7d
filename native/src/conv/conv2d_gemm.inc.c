/* Convolution as a packed GEMM per (image, group): Y[M x P] = A[M x KK] · B[KK x P], with
 * M = out channels per group, KK = in channels per group · kh · kw, P = out_h · out_w.
 *
 * A (the weights) is packed once at plan creation into MR-row panels. B is packed per block of
 * KC x NC, row-major, by the thread that consumes it, straight from the NCHW input: for 1x1
 * stride-1 convolutions B *is* the input, so packing is a copy; for any other shape each work
 * item first copies the input rows its columns read into a zero-padded window, and B rows are
 * gathered from it through the (c, r, s) -> (ih, iw) map (implicit im2col: only one block ever
 * exists). Each block then runs through the micro-kernel, one NR-wide panel at a time.
 *
 * Determinism: every output is reduced over the KC blocks in order, each block in k order, by
 * one thread; the N/M partition only decides which thread, so any thread count gives the same bits.
 *
 * This file is a template compiled once per instruction set (conv2d_gemm_avx2.c,
 * conv2d_gemm_avx512.c); the including file defines GEMM_KERNEL (an hc_sgemm_kernel),
 *   copy_run(dst, src, count): dst[0..count) = src[0..count), reading and writing up to one
 *                              vector past count,
 * and the macros GEMM_ISA, GEMM_1X1 / GEMM_1X1_NAME and GEMM_IMPLICIT / GEMM_IMPLICIT_NAME: the
 * instruction set, and the symbols and names of the two algorithms this file then defines.
 * Where the ISA has cheap masked loads it also defines GEMM_ROWS with GEMM_ROWS_KERNEL /
 * GEMM_ROWS_HALF_KERNEL (hc_sgemm_rows_ukernel_fn), copy_run_exact(dst, src, count) (no
 * over-read or over-write), and GEMM_ROWS_WINDOW / GEMM_ROWS_WINDOW_NAME, the algorithm that
 * reads B in place. */
#include <stdlib.h>

#include "../gemm/sgemm.h"
#include "conv2d_internal.h"
#include "conv2d_prefetch.h"

/* Column block: a KC x NC B block (up to 480-590 KiB) stays in L2 while all of M streams past it.
 * Wider blocks waste fewer lanes in partial panels and share better between threads, but 1x1
 * convolutions lost 1-3% with 512 while the implicit path gained (resnet_3x3_s2 +1% at 1 thread and
 * +9% at 2, lenet_c1 +4% and +10%). */
#define NC_MAX 384
#define NC_MAX_IMPLICIT 512
/* The in-place path has no B block to keep in L2 (only its window); twice as wide blocks mean
 * fewer partial panels and window edges: resnet_3x3 +3.5%, batch32_3x3 +3% at 1 thread, +1-5% at 2. */
#define NC_MAX_IN_PLACE 768

typedef struct window_geometry {
    int64_t first_out_row, rows, span, phase_length, pitch;
} window_geometry;

/* What one work item packs from: its columns j0 .. j0+jn of the output plane and, for the
 * implicit path, a zero-padded copy of the input rows those columns read (the window). */
typedef struct pack_source {
    const float* x;       /* the group's first input channel of this image */
    int64_t j0, jn;
    int64_t ldb;          /* B block row length: jn rounded up to the panel width */
    const float* window;  /* implicit path: channels x rows x pitch, zero outside the image */
    window_geometry geometry;
} pack_source;

typedef void (*pack_b_fn)(const hc_conv2d* plan, const pack_source* source, int64_t k0, int64_t kc, float* bp);

static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t gcd64(int64_t a, int64_t b) { return b == 0 ? a : gcd64(b, a % b); }

/* Kernels index with 32-bit lanes; larger images go to the generic path, and so do strides
 * that would make the phase-split windows larger than what the outputs read
 * (hc_conv2d_stride_within_kernel). */
static bool fits_int32_lanes(const hc_conv2d* plan) {
    const hc_conv2d_desc* d = &plan->desc;
    const int64_t limit = INT64_C(1) << 28;
    return d->in_width + (d->pad_left + d->pad_right) + d->dilation_width * d->kernel_width < limit &&
           d->in_height + (d->pad_top + d->pad_bottom) + d->dilation_height * d->kernel_height < limit &&
           hc_conv2d_stride_within_kernel(d);
}

static int64_t reduction_length(const hc_conv2d_desc* d) {
    return d->in_channels / d->groups * d->kernel_height * d->kernel_width;
}

/* A panels: packed[((g * m_panels + mp) * KK + k) * mr + i] = w[g*M + mp*mr + i][k], zero past M. */
static hc_status prepare_weights(hc_conv2d* plan, int64_t mr) {
    const hc_conv2d_desc* d = &plan->desc;
    const int64_t groups = d->groups, m = d->out_channels / groups, kk = reduction_length(d);
    const int64_t m_panels = ceil_div(m, mr);
    if (hc_plan_packed(&plan->base, (size_t)(groups * m_panels * kk * mr) * sizeof(float)) == NULL)
        return hc_fail(HC_STATUS_OUT_OF_MEMORY, "out of memory packing the weights");
    for (int64_t g = 0; g < groups; g++)
        for (int64_t mp = 0; mp < m_panels; mp++)
            for (int64_t k = 0; k < kk; k++)
                for (int64_t i = 0; i < mr; i++) {
                    const int64_t row = mp * mr + i;
                    plan->base.packed[((g * m_panels + mp) * kk + k) * mr + i] =
                        row < m ? plan->base.weights[(g * m + row) * kk + k] : 0.0f;
                }
    return HC_STATUS_OK;
}

static hc_status prepare_gemm(hc_conv2d* plan) { return prepare_weights(plan, GEMM_KERNEL.mr); }

/* Copies `count` (<= 16, within one panel row) values of a source row starting at column `first`
 * into dst; source columns outside [0, width) read as zero (masked loads never touch them). */
static inline void copy_masked(const float* row, int64_t first, int64_t width, int64_t count, float* dst) {
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    for (int64_t t = 0; t < count; t += 8) {
        const int64_t lanes = min64(8, count - t), column = first + t;
        __m256 v;
        if (column >= 0 && column + 8 <= width) {
            v = _mm256_loadu_ps(row + column);
        } else {
            const __m256i index = _mm256_add_epi32(_mm256_set1_epi32((int)column), iota);
            const __m256i inside = _mm256_and_si256(_mm256_cmpgt_epi32(index, _mm256_set1_epi32(-1)),
                                                    _mm256_cmpgt_epi32(_mm256_set1_epi32((int)width), index));
            v = _mm256_maskload_ps(row + column, inside);
        }
        if (lanes == 8) {
            _mm256_storeu_ps(dst + t, v);
        } else {
            _mm256_maskstore_ps(dst + t, _mm256_cmpgt_epi32(_mm256_set1_epi32((int)lanes), iota), v);
        }
    }
}

/* 1x1, stride 1, no padding: B row k is input channel k, columns j0.. of the image. */
static void pack_b_1x1(const hc_conv2d* plan, const pack_source* src, int64_t k0, int64_t kc, float* bp) {
    const int64_t plane = plan->desc.in_height * plan->desc.in_width;
    for (int64_t k = 0; k < kc; k++) {
        const float* row = src->x + (k0 + k) * plane + src->j0;
        float* dst = bp + k * src->ldb;
        for (int64_t t = 0; t < src->jn; t += 16) copy_masked(row, t, src->jn, min64(16, src->jn - t), dst + t);
        for (int64_t t = src->jn; t < src->ldb; t++) dst[t] = 0.0f;
    }
}

/* The window of columns j0 .. j0+jn: input rows from the first output row's top tap to the last
 * output row's bottom tap. Each row holds the `span` columns every output column reads, split by
 * column phase modulo the stride (phase q: columns q, q + sw, q + 2sw, ...), `phase_length`
 * columns per phase, so input column ow*sw + s*dw is phase (s*dw) % sw at ow + (s*dw) / sw and
 * every B row is a contiguous copy whatever the stride. */

static window_geometry window_shape(const hc_conv2d* plan, int64_t j0, int64_t jn) {
    const hc_conv2d_desc* d = &plan->desc;
    const int64_t first = j0 / plan->out_width, last = (j0 + jn - 1) / plan->out_width;
    const int64_t span = (plan->out_width - 1) * d->stride_width + (d->kernel_width - 1) * d->dilation_width + 1;
    const int64_t phase_length = ceil_div(span, d->stride_width);
    return (window_geometry){
        .first_out_row = first,
        .rows = (last - first) * d->stride_height + (d->kernel_height - 1) * d->dilation_height + 1,
        .span = span,
        .phase_length = phase_length,
        .pitch = phase_length * d->stride_width,
    };
}

/* Copies the rows of channels [0, channels) the block reads, zero outside the image, split by
 * phase; `scratch` holds one padded row (span + 16 floats) on the way when the stride is not 1. */
static void fill_window(const hc_conv2d* plan, const float* x, int64_t channels, window_geometry g, float* window, float* scratch) {
    const hc_conv2d_desc* d = &plan->desc;
    const int64_t top = g.first_out_row * d->stride_height - d->pad_top, sw = d->stride_width;
    const int64_t copy = min64(d->in_width, g.span - d->pad_left); /* columns past the last window are never read */
    for (int64_t c = 0; c < channels; c++) {
        for (int64_t i = 0; i < g.rows; i++) {
            float* row = window + (c * g.rows + i) * g.pitch;
            float* out = sw == 1 ? row : scratch;
            const int64_t ih = top + i;
            int64_t w = 0;
            if (ih >= 0 && ih < d->in_height && copy > 0) {
                const float* in = x + (c * d->in_height + ih) * d->in_width;
                for (; w < d->pad_left; w++) out[w] = 0.0f;
                int64_t j = 0;
                for (; j + 8 <= copy; j += 8) _mm256_storeu_ps(out + w + j, _mm256_loadu_ps(in + j));
                for (; j < copy; j++) out[w + j] = in[j];
                w += copy;
            }
            for (; w < g.pitch; w++) out[w] = 0.0f;
            if (sw != 1) {
                for (int64_t q = 0; q < sw; q++)
                    for (int64_t j = 0; j < g.phase_length; j++) row[q * g.phase_length + j] = scratch[j * sw + q];
            }
        }
    }
}

/* Any shape: B row k = (c, r, s), column p = (oh, ow) holds window[c][(oh - first)*sh + r*dh] at
 * input column ow*sw + s*dw, which the phase split makes contiguous in ow. Each output row's
 * segment is copied a vector at a time; a copy may run up to a vector past the segment, which
 * the next segment (or the zero tail, or the next B row) then overwrites, so the block needs a
 * vector of slack at its end. */
static void pack_b_implicit(const hc_conv2d* plan, const pack_source* src, int64_t k0, int64_t kc, float* bp) {
    const hc_conv2d_desc* d = &plan->desc;
    const int64_t taps = d->kernel_height * d->kernel_width, out_w = plan->out_width, jn = src->jn;
    const window_geometry g = src->geometry;
    for (int64_t k = 0; k < kc; k++) {
        const int64_t kk = k0 + k, c = kk / taps, r = kk % taps / d->kernel_width, s = kk % d->kernel_width;
        const int64_t column = s * d->dilation_width;
        const float* channel = src->window + c * g.rows * g.pitch + column % d->stride_width * g.phase_length + column / d->stride_width;
        float* line = bp + k * src->ldb;
        int64_t oh = src->j0 / out_w, ow = src->j0 % out_w;
        for (int64_t t = 0; t < jn;) {
            const int64_t run = min64(out_w - ow, jn - t);
            copy_run(line + t, channel + ((oh - g.first_out_row) * d->stride_height + r * d->dilation_height) * g.pitch + ow, run);
            t += run;
            ow = 0;
            oh++;
        }
        for (int64_t t = jn; t < src->ldb; t++) line[t] = 0.0f;
    }
}

/* What a micro-kernel call does at its ends, for the MR channels from `channel` and the reduction
 * block [k0, k0 + kc) of kk: start from the bias on the first block, activate on the last. */
static inline hc_gemm_epilogue block_epilogue(const hc_conv2d* plan, int64_t channel, int64_t k0, int64_t kc, int64_t kk) {
    return (hc_gemm_epilogue){
        .bias = plan->base.bias != NULL ? plan->base.bias + channel : NULL,
        .activation = plan->desc.activation,
        .alpha = plan->desc.activation_alpha,
        .first = k0 == 0,
        .last = k0 + kc == kk,
    };
}

/* How one call's work is shared: items = images x column blocks x output-channel splits, run
 * with a dynamic schedule. */
typedef struct gemm_partition {
    int threads;
    int64_t n_blocks, block_units, m_splits, items, kc_step;
} gemm_partition;

/* Splits each image's `units` (output columns, or output rows of `unit_columns` columns each) into
 * equal blocks of about nc_max columns, a whole number of `granule` units each. The block count
 * shares evenly between the threads: a last short block or one block too many leaves a thread
 * idle at the end. With few column panels per image (deep_3x3: 196 columns, 7 panels) an even
 * split is impossible, so the threads split the output channels instead and each packs the whole
 * (small) B. Reduction blocks are equal and at most kc_max (576 = 2 x 288, not 256 + 256 + 64: a
 * short block runs the micro-kernel at ~80% of its speed); they depend on the problem only,
 * never on the thread count, so results do not either. */
static gemm_partition partition_work(const hc_conv2d* plan, int64_t images, int64_t units, int64_t unit_columns,
                                     int64_t granule, int64_t nc_max, int64_t m_panels, int64_t kk, int64_t kc_max,
                                     double flops) {
    const int threads = flops < HC_PARALLEL_MIN_FLOPS ? 1 : plan->base.num_threads;
    const int64_t columns = units * unit_columns, panels = ceil_div(units, granule);
    const bool split_channels = images < threads && ceil_div(columns, GEMM_KERNEL.nr) < 4 * threads && m_panels >= threads;
    int64_t n_blocks = ceil_div(columns, nc_max);
    if (threads > 1 && !split_channels) {
        const int64_t per_image = ceil_div(threads, gcd64(images, threads));
        n_blocks = ceil_div(n_blocks, per_image) * per_image;
    }
    if (n_blocks > panels) n_blocks = panels;
    const int64_t block_units = ceil_div(ceil_div(units, n_blocks), granule) * granule;
    n_blocks = ceil_div(units, block_units);
    int64_t m_splits = 1;
    if (images * n_blocks < threads) m_splits = min64(m_panels, ceil_div(threads, images * n_blocks));
    if (split_channels) m_splits = min64(m_panels, threads); /* each split packs the whole B once */
    return (gemm_partition){
        .threads = threads,
        .n_blocks = n_blocks,
        .block_units = block_units,
        .m_splits = m_splits,
        .items = images * n_blocks * m_splits,
        .kc_step = ceil_div(kk, ceil_div(kk, kc_max)),
    };
}

/* Which output-channel split, column block, image and group a work item of the partition is. */
typedef struct gemm_item {
    int64_t split, block, n, g;
} gemm_item;

static inline gemm_item decode_item(const gemm_partition* part, int64_t item, int64_t groups) {
    const int64_t image = item / part->m_splits / part->n_blocks;
    return (gemm_item){
        .split = item % part->m_splits,
        .block = item / part->m_splits % part->n_blocks,
        .n = image / groups,
        .g = image % groups,
    };
}

static hc_status run_gemm(const hc_conv2d* plan, const float* input, float* output, const hc_sgemm_kernel* kernel,
                          pack_b_fn pack, bool uses_window) {
    const int64_t MR = kernel->mr, NR = kernel->nr, KC = kernel->kc_max;
    const hc_conv2d_desc* d = &plan->desc;
    const int64_t groups = d->groups, m = d->out_channels / groups, in_per_group = d->in_channels / groups;
    const int64_t kk = reduction_length(d), p = plan->out_height * plan->out_width;
    const int64_t plane = d->in_height * d->in_width, m_panels = ceil_div(m, MR);
    const int64_t images = d->batch * groups;
    const double flops = 2.0 * (double)images * (double)m * (double)p * (double)kk;
    const gemm_partition part = partition_work(plan, images, p, 1, NR, uses_window ? NC_MAX_IMPLICIT : NC_MAX, m_panels, kk, KC, flops);
    const int threads = part.threads;
    const int64_t nc = part.block_units, m_splits = part.m_splits, items = part.items;
    const int64_t kc_step = part.kc_step;
    size_t window_floats = 0;
    if (uses_window) {
        /* The largest window any block needs (a block starting mid-row spans one more output row),
         * a vector of slack for copy_run's reads, and the scratch row fill_window splits phases from. */
        const window_geometry largest = window_shape(plan, plan->out_width - 1, nc);
        window_floats = (size_t)(in_per_group * largest.rows * largest.pitch + 32 + largest.pitch + 32);
    }
    const size_t b_floats = (size_t)(kc_step * nc) + 16; /* + a vector of slack for copy_run */
    const size_t workspace_bytes = (b_floats + window_floats) * sizeof(float);
    int failed = 0;

    int finished = 0;
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
#pragma omp for schedule(dynamic, 1) nowait
        for (int64_t item = 0; item < items; item++) {
            float* bp = hc_thread_workspace(workspace_bytes);
            if (bp == NULL) {
#pragma omp atomic write
                failed = 1;
                continue;
            }
            const gemm_item at = decode_item(&part, item, groups);
            const int64_t split = at.split, block = at.block, n = at.n, g = at.g;
            pack_source source = {
                .x = input + (n * d->in_channels + g * in_per_group) * plane,
                .j0 = block * nc,
                .jn = min64(nc, p - block * nc),
                .ldb = ceil_div(min64(nc, p - block * nc), NR) * NR,
                .window = bp + b_floats,
            };
            if (uses_window) {
                source.geometry = window_shape(plan, source.j0, source.jn);
                float* window = bp + b_floats;
                fill_window(plan, source.x, in_per_group, source.geometry, window,
                            window + in_per_group * source.geometry.rows * source.geometry.pitch + 32);
            }
            const int64_t mp_begin = split * m_panels / m_splits, mp_end = (split + 1) * m_panels / m_splits;
            float* y = output + (n * d->out_channels + g * m) * p + source.j0;
            const float* a = plan->base.packed + g * m_panels * kk * MR;
            for (int64_t k0 = 0; k0 < kk; k0 += kc_step) {
                const int64_t kc = min64(kc_step, kk - k0);
                pack(plan, &source, k0, kc, bp);
                for (int64_t j = 0; j * NR < source.jn; j++) {
                    const int n_valid = (int)min64(NR, source.jn - j * NR);
                    const hc_sgemm_ukernel_fn ukernel = kernel->run_half != NULL && 2 * n_valid <= NR ? kernel->run_half : kernel->run;
                    for (int64_t mp = mp_begin; mp < mp_end; mp++) {
                        const hc_gemm_epilogue epilogue = block_epilogue(plan, g * m + mp * MR, k0, kc, kk);
                        ukernel(kc, a + (mp * kk + k0) * MR, bp + j * NR, source.ldb, y + mp * MR * p + j * NR, p,
                                                    (int)min64(MR, m - mp * MR), n_valid, &epilogue);
                    }
                }
            }
        }
        hc_parallel_join(&finished);
    }
    return failed ? hc_fail(HC_STATUS_OUT_OF_MEMORY, "out of memory for a packing buffer") : HC_STATUS_OK;
}

static bool accepts_1x1(const hc_conv2d* plan) {
    const hc_conv2d_desc* d = &plan->desc;
    return d->kernel_height == 1 && d->kernel_width == 1 && d->stride_height == 1 && d->stride_width == 1 &&
           d->pad_top == 0 && d->pad_bottom == 0 && d->pad_left == 0 && d->pad_right == 0 && fits_int32_lanes(plan);
}

static hc_status run_1x1(const hc_conv2d* plan, const float* input, float* output) {
    return run_gemm(plan, input, output, &GEMM_KERNEL, pack_b_1x1, false);
}

static hc_status run_implicit(const hc_conv2d* plan, const float* input, float* output) {
    return run_gemm(plan, input, output, &GEMM_KERNEL, pack_b_implicit, true);
}

HC_CONV2D_FORWARD_ALGORITHM(GEMM_1X1, GEMM_1X1_NAME, GEMM_ISA, accepts_1x1, prepare_gemm, run_1x1);

HC_CONV2D_FORWARD_ALGORITHM(GEMM_IMPLICIT, GEMM_IMPLICIT_NAME, GEMM_ISA, fits_int32_lanes, prepare_gemm, run_implicit);

#ifdef GEMM_ROWS
/* Convolutions without packing B: the micro-kernel reads each B row where it already is, in a
 * zero-padded window, through a table of row offsets (hc_sgemm_rows_ukernel_fn). The window of
 * output rows [first, first + rows) is split by stride phase in both directions: plane
 * (c, row phase ph, column phase pc) holds input rows first*sh - pad_h + i*sh + ph and columns
 * -pad_w + j*sw + pc, for i < plane_rows and j < pitch. Tap (c, r, s) of output (oh, ow) is then
 * at plane (c, r*dh % sh, s*dw % sw), row oh - first + r*dh / sh, column ow + s*dw / sw, so with
 * the pitch as the width of a "virtual" output row, B[(c, r, s)][v] for virtual column
 * v = (oh - first) * pitch + ow is window[offset(c, r, s) + v]: a 32-column panel is one run of
 * memory, across output rows and for any stride. The pitch - out_w padding columns of each
 * virtual row are computed into a per-thread C block and dropped when the block is copied out.
 * Chosen only where it pays, by measurement:
 * - the padding columns are at most 1 in 8 of the columns;
 * - the copy-out (out channels x columns) costs less than the packing it saves (reduction length
 *   x columns): lenet_c1 (reduction 25, 32 channels) ran 6% slower at 1 thread and 2.7x slower
 *   at 2 threads this way;
 * - a block's window stays small next to the A panels in L2: resnet_3x3_s2's 650 KiB windows
 *   (128 channels x 4 phase planes) ran 4% slower than packing, alexnet_c1's (3 channels x 16
 *   planes) 3.5% faster.
 * 1x1 convolutions read in place from the input also measured slower than packed, 217 against 221
 * GFLOP/s on resnet_1x1: each of a block's B rows is a channel plane apart, one page each, and
 * the TLB misses cost more than the copy. */

/* Largest window per block that leaves L2 (1 MiB) to the A panels and the C block. */
#define WINDOW_MAX_BYTES (320 * 1024)

static int64_t phase_pitch(const hc_conv2d* plan) {
    return plan->out_width + (plan->desc.kernel_width - 1) * plan->desc.dilation_width / plan->desc.stride_width;
}

static int64_t phase_rows(const hc_conv2d* plan, int64_t output_rows) {
    return output_rows + (plan->desc.kernel_height - 1) * plan->desc.dilation_height / plan->desc.stride_height;
}

static int64_t phase_window_floats(const hc_conv2d* plan, int64_t output_rows) {
    const hc_conv2d_desc* d = &plan->desc;
    return hc_saturating_product(hc_saturating_product(d->in_channels / d->groups, d->stride_height, d->stride_width, 1),
                                 phase_rows(plan, output_rows), phase_pitch(plan), 1);
}

static bool accepts_rows_window(const hc_conv2d* plan) {
    const hc_conv2d_desc* d = &plan->desc;
    if (!fits_int32_lanes(plan)) return false;
    const int64_t pitch = phase_pitch(plan);
    const int64_t block_rows = min64(ceil_div(NC_MAX_IN_PLACE, pitch), plan->out_height); /* about what partition_work gives */
    return (pitch - plan->out_width) * 8 <= pitch && reduction_length(d) >= 2 * (d->out_channels / d->groups) &&
           phase_window_floats(plan, block_rows) * (int64_t)sizeof(float) <= WINDOW_MAX_BYTES &&
           phase_window_floats(plan, plan->out_height) < INT32_MAX;
}

/* Fills the phase-split window described above for `channels` channels of image x. */
static void fill_phase_window(const hc_conv2d* plan, const float* x, int64_t channels, int64_t first_row, int64_t plane_rows,
                              int64_t pitch, float* window) {
    const hc_conv2d_desc* d = &plan->desc;
    const int64_t sh = d->stride_height, sw = d->stride_width, top = first_row * sh - d->pad_top;
    for (int64_t c = 0; c < channels; c++)
        for (int64_t ph = 0; ph < sh; ph++)
            for (int64_t pc = 0; pc < sw; pc++) {
                /* Columns j with 0 <= -pad_w + j*sw + pc < in_width: [j_lo, j_hi). */
                const int64_t lead = d->pad_left - pc, last = d->in_width - 1 + d->pad_left - pc;
                const int64_t j_lo = lead > 0 ? min64(pitch, ceil_div(lead, sw)) : 0;
                const int64_t j_hi = last < 0 ? 0 : min64(pitch, last / sw + 1);
                for (int64_t i = 0; i < plane_rows; i++) {
                    float* out = window + (((c * sh + ph) * sw + pc) * plane_rows + i) * pitch;
                    const int64_t ih = top + i * sh + ph;
                    int64_t j = 0;
                    if (ih >= 0 && ih < d->in_height && j_lo < j_hi) {
                        const float* in = x + (c * d->in_height + ih) * d->in_width - d->pad_left + pc;
                        for (; j < j_lo; j++) out[j] = 0.0f;
                        if (sw == 1) {
                            copy_run_exact(out + j_lo, in + j_lo, j_hi - j_lo);
                        } else {
                            for (int64_t t = j_lo; t < j_hi; t++) out[t] = in[t * sw];
                        }
                        j = j_hi;
                    }
                    for (; j < pitch; j++) out[j] = 0.0f;
                }
            }
}

static hc_status run_rows_window(const hc_conv2d* plan, const float* input, float* output) {
    const int64_t MR = GEMM_KERNEL.mr, NR = GEMM_KERNEL.nr;
    const hc_conv2d_desc* d = &plan->desc;
    const int64_t groups = d->groups, m = d->out_channels / groups, in_per_group = d->in_channels / groups;
    const int64_t kk = reduction_length(d), out_w = plan->out_width, out_h = plan->out_height, p = out_h * out_w;
    const int64_t plane = d->in_height * d->in_width, m_panels = ceil_div(m, MR), images = d->batch * groups;
    const int64_t pitch = phase_pitch(plan), sh = d->stride_height, sw = d->stride_width;
    const double flops = 2.0 * (double)images * (double)m * (double)p * (double)kk;
    const gemm_partition part = partition_work(plan, images, out_h, pitch, 1, NC_MAX_IN_PLACE, m_panels, kk, GEMM_KERNEL.kc_max, flops);
    const int64_t block = part.block_units, m_splits = part.m_splits, kc_step = part.kc_step;
    /* Workspace: the offset table, the window, and the C block of the largest output-channel split. */
    const int64_t ldc = ceil_div(block * pitch, 16) * 16;
    const size_t offset_floats = (size_t)ceil_div(kk, 16) * 16;
    const size_t window_floats = (size_t)(phase_window_floats(plan, block) + 16);
    const size_t c_floats = (size_t)(ceil_div(m_panels, m_splits) * MR * ldc);
    const size_t workspace_bytes = (offset_floats + window_floats + c_floats) * sizeof(float);
    int failed = 0;

    int finished = 0;
#pragma omp parallel num_threads(part.threads) if (part.threads > 1)
    {
#pragma omp for schedule(dynamic, 1) nowait
        for (int64_t item = 0; item < part.items; item++) {
            float* workspace = hc_thread_workspace(workspace_bytes);
            if (workspace == NULL) {
#pragma omp atomic write
                failed = 1;
                continue;
            }
            const gemm_item at = decode_item(&part, item, groups);
            const int64_t split = at.split, b_index = at.block, n = at.n, g = at.g;
            const float* x = input + (n * d->in_channels + g * in_per_group) * plane;
            float* y = output + (n * d->out_channels + g * m) * p;
            int32_t* offsets = (int32_t*)workspace;
            float* window = workspace + offset_floats;
            float* c = window + window_floats;
            const int64_t first_row = b_index * block, rows = min64(block, out_h - first_row);
            const int64_t plane_rows = phase_rows(plan, rows);
            fill_phase_window(plan, x, in_per_group, first_row, plane_rows, pitch, window);
            const int64_t taps = d->kernel_height * d->kernel_width;
            for (int64_t k = 0; k < kk; k++) {
                const int64_t channel = k / taps, row = k % taps / d->kernel_width * d->dilation_height;
                const int64_t column = k % d->kernel_width * d->dilation_width;
                const int64_t plane_index = (channel * sh + row % sh) * sw + column % sw;
                offsets[k] = (int32_t)((plane_index * plane_rows + row / sh) * pitch + column / sw);
            }
            const int64_t columns = (rows - 1) * pitch + out_w; /* the last virtual row needs no padding columns */
            const int64_t mp_begin = split * m_panels / m_splits, mp_end = (split + 1) * m_panels / m_splits;
            const float* a = plan->base.packed + g * m_panels * kk * MR;
            /* The block this thread most likely takes next (items are handed out in order): its input
             * is prefetched a slice per panel, so its window fill finds it in L2. */
            hc_prefetch_cursor ahead = {0};
            const int64_t next_item = item + part.threads;
            if (next_item < part.items && next_item / m_splits != item / m_splits) {
                const gemm_item next = decode_item(&part, next_item, groups);
                const int64_t next_first = next.block * block;
                ahead = hc_prefetch_input_rows(plan, input + (next.n * d->in_channels + next.g * in_per_group) * plane, in_per_group,
                                          next_first, min64(block, out_h - next_first));
            }
            const int64_t steps = ceil_div(kk, kc_step) * ceil_div(columns, NR), per_step = hc_prefetch_per_step(&ahead, steps);
            for (int64_t k0 = 0; k0 < kk; k0 += kc_step) {
                const int64_t kc = min64(kc_step, kk - k0);
                for (int64_t j = 0; j * NR < columns; j++) {
                    hc_prefetch_lines(&ahead, per_step);
                    const int n_valid = (int)min64(NR, columns - j * NR);
                    const hc_sgemm_rows_ukernel_fn ukernel = 2 * n_valid <= NR ? GEMM_ROWS_HALF_KERNEL : GEMM_ROWS_KERNEL;
                    for (int64_t mp = mp_begin; mp < mp_end; mp++) {
                        const hc_gemm_epilogue epilogue = block_epilogue(plan, g * m + mp * MR, k0, kc, kk);
                        ukernel(kc, a + (mp * kk + k0) * MR, window + j * NR, offsets + k0, c + (mp - mp_begin) * MR * ldc + j * NR, ldc,
                                (int)min64(MR, m - mp * MR), n_valid, &epilogue);
                    }
                }
            }
            /* Drop the padding columns: each virtual row's first out_w columns are an output row. */
            for (int64_t row = mp_begin * MR; row < min64(mp_end * MR, m); row++) {
                const float* from = c + (row - mp_begin * MR) * ldc;
                float* to = y + row * p + first_row * out_w;
                for (int64_t i = 0; i < rows; i++) copy_run_exact(to + i * out_w, from + i * pitch, out_w);
            }
        }
        hc_parallel_join(&finished);
    }
    return failed ? hc_fail(HC_STATUS_OUT_OF_MEMORY, "out of memory for a convolution workspace") : HC_STATUS_OK;
}

HC_CONV2D_FORWARD_ALGORITHM(GEMM_ROWS_WINDOW, GEMM_ROWS_WINDOW_NAME, GEMM_ISA, accepts_rows_window, prepare_gemm, run_rows_window);
#endif
