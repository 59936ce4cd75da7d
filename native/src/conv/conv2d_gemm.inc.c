/* Convolution as a packed GEMM per (image, group): Y[M x P] = A[M x KK] · B[KK x P], with
 * M = out channels per group, KK = in channels per group · kh · kw, P = out_h · out_w, run by the
 * batched GEMM driver (gemm/gemm.h: partition, workspace, loop over micro-kernels) with this file
 * as B's source.
 *
 * A (the weights) is packed once at plan creation into MR-row panels. B is packed per block of
 * KC x NC, row-major, by the thread that consumes it, straight from the NCHW input: for 1x1
 * stride-1 convolutions B *is* the input, so packing is a copy; for any other shape each work
 * item first copies the input rows its columns read into a zero-padded window, and B rows are
 * gathered from it through the (c, r, s) -> (ih, iw) map (implicit im2col: only one block ever
 * exists).
 *
 * This file is a template compiled once per instruction set (conv2d_gemm_avx2.c,
 * conv2d_gemm_avx512.c); the including file defines GEMM_KERNEL (the hc_sgemm_kernel the driver
 * picks for GEMM_ISA, whose panel width blocks are rounded to),
 *   copy_run(dst, src, count): dst[0..count) = src[0..count), reading and writing up to one
 *                              vector past count,
 * and the macros GEMM_ISA, GEMM_1X1 / GEMM_1X1_NAME and GEMM_IMPLICIT / GEMM_IMPLICIT_NAME: the
 * instruction set, and the symbols and names of the two algorithms this file then defines.
 * Where the kernel reads B in place (run_rows) it also defines GEMM_ROWS, copy_run_exact(dst,
 * src, count) (no over-read or over-write), and GEMM_ROWS_WINDOW / GEMM_ROWS_WINDOW_NAME, the
 * algorithm that does so. */
#include <stdlib.h>

#include "../gemm/gemm.h"
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

/* What B's source knows of a call: the plan, the tensors, and the sizes per group. GEMM b of the
 * batch is image b / groups, group b % groups: its input channels start at input + b *
 * in_per_group * plane and its output channels at output + b * m * p. */
typedef struct conv_source {
    const hc_conv2d* plan;
    const float* input;
    float* output;
    int64_t in_per_group, plane, m, p;
} conv_source;

static inline const float* image_of(const conv_source* c, int64_t gemm) { return c->input + gemm * c->in_per_group * c->plane; }

static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

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

/* A panels per group (hc_gemm_pack_a), one group after another. */
static hc_status prepare_gemm(hc_conv2d* plan) {
    const hc_conv2d_desc* d = &plan->desc;
    const int64_t groups = d->groups, m = d->out_channels / groups, kk = reduction_length(d);
    const int64_t a_floats = hc_gemm_packed_a_floats(GEMM_ISA, m, kk);
    if (hc_plan_packed(&plan->base, (size_t)(groups * a_floats) * sizeof(float)) == NULL)
        return hc_fail(HC_STATUS_OUT_OF_MEMORY, "out of memory packing the weights");
    for (int64_t g = 0; g < groups; g++)
        hc_gemm_pack_a(GEMM_ISA, (hc_gemm_matrix){.data = plan->base.weights + g * m * kk, .ld = kk}, m, kk,
                       plan->base.packed + g * a_floats);
    return HC_STATUS_OK;
}

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
static void pack_b_1x1(const void* context, const hc_gemm_item* item, const float* scratch, int64_t k0, int64_t kc, float* bp,
                       int64_t ldb) {
    (void)scratch;
    const conv_source* source = context;
    const float* x = image_of(source, item->gemm) + item->j0;
    const int64_t jn = item->columns;
    for (int64_t k = 0; k < kc; k++) {
        const float* row = x + (k0 + k) * source->plane;
        float* dst = bp + k * ldb;
        for (int64_t t = 0; t < jn; t += 16) copy_masked(row, t, jn, min64(16, jn - t), dst + t);
        for (int64_t t = jn; t < ldb; t++) dst[t] = 0.0f;
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
static void pack_b_implicit(const void* context, const hc_gemm_item* item, const float* window, int64_t k0, int64_t kc, float* bp,
                            int64_t ldb) {
    const conv_source* source = context;
    const hc_conv2d* plan = source->plan;
    const hc_conv2d_desc* d = &plan->desc;
    const int64_t taps = d->kernel_height * d->kernel_width, out_w = plan->out_width, jn = item->columns;
    const window_geometry g = window_shape(plan, item->j0, jn);
    for (int64_t k = 0; k < kc; k++) {
        const int64_t kk = k0 + k, c = kk / taps, r = kk % taps / d->kernel_width, s = kk % d->kernel_width;
        const int64_t column = s * d->dilation_width;
        const float* channel = window + c * g.rows * g.pitch + column % d->stride_width * g.phase_length + column / d->stride_width;
        float* line = bp + k * ldb;
        int64_t oh = item->j0 / out_w, ow = item->j0 % out_w;
        for (int64_t t = 0; t < jn;) {
            const int64_t run = min64(out_w - ow, jn - t);
            copy_run(line + t, channel + ((oh - g.first_out_row) * d->stride_height + r * d->dilation_height) * g.pitch + ow, run);
            t += run;
            ow = 0;
            oh++;
        }
        for (int64_t t = jn; t < ldb; t++) line[t] = 0.0f;
    }
}

/* The implicit path's scratch: the largest window any block needs (a block starting mid-row spans
 * one more output row), a vector of slack for copy_run's reads, and the scratch row fill_window
 * splits phases from. */
static size_t implicit_scratch_floats(const void* context, int64_t block_columns) {
    const conv_source* source = context;
    const window_geometry largest = window_shape(source->plan, source->plan->out_width - 1, block_columns);
    return (size_t)(source->in_per_group * largest.rows * largest.pitch + 32 + largest.pitch + 32);
}

static void prepare_implicit(const void* context, const hc_gemm_item* item, float* window, int32_t* offsets) {
    (void)offsets;
    const conv_source* source = context;
    const window_geometry g = window_shape(source->plan, item->j0, item->columns);
    fill_window(source->plan, image_of(source, item->gemm), source->in_per_group, g, window, window + source->in_per_group * g.rows * g.pitch + 32);
}

static conv_source conv_source_of(const hc_conv2d* plan, const float* input, float* output) {
    const hc_conv2d_desc* d = &plan->desc;
    return (conv_source){
        .plan = plan,
        .input = input,
        .output = output,
        .in_per_group = d->in_channels / d->groups,
        .plane = d->in_height * d->in_width,
        .m = d->out_channels / d->groups,
        .p = plan->out_height * plan->out_width,
    };
}

/* The batched GEMM over the convolution's images and groups, B from `source`, whose context is
 * `conv` (gemm.h). */
static hc_status run_batched(const conv_source* conv, hc_gemm_source source) {
    const hc_conv2d* plan = conv->plan;
    const hc_conv2d_desc* d = &plan->desc;
    source.context = conv;
    const hc_gemm_batched_args args = {
        .batch = d->batch * d->groups,
        .groups = d->groups,
        .m = conv->m,
        .n = conv->p,
        .k = reduction_length(d),
        .packed_a = plan->base.packed,
        .c = conv->output,
        .ldc = conv->p,
        .c_stride = conv->m * conv->p,
        .row_bias = plan->base.bias,
        .activation = d->activation,
        .alpha = d->activation_alpha,
        .source = source,
    };
    return hc_gemm_batched(&args, GEMM_ISA, plan->base.num_threads);
}

static bool accepts_1x1(const hc_conv2d* plan) {
    const hc_conv2d_desc* d = &plan->desc;
    return d->kernel_height == 1 && d->kernel_width == 1 && d->stride_height == 1 && d->stride_width == 1 &&
           d->pad_top == 0 && d->pad_bottom == 0 && d->pad_left == 0 && d->pad_right == 0 && fits_int32_lanes(plan);
}

static hc_status run_1x1(const hc_conv2d* plan, const float* input, float* output) {
    const conv_source conv = conv_source_of(plan, input, output);
    return run_batched(&conv, (hc_gemm_source){.units = conv.p, .unit_columns = 1, .last_unit_columns = 1, .granule = GEMM_KERNEL.nr,
                                               .nc_max = NC_MAX, .pack = pack_b_1x1});
}

static hc_status run_implicit(const hc_conv2d* plan, const float* input, float* output) {
    const conv_source conv = conv_source_of(plan, input, output);
    return run_batched(&conv, (hc_gemm_source){.units = conv.p, .unit_columns = 1, .last_unit_columns = 1, .granule = GEMM_KERNEL.nr,
                                               .nc_max = NC_MAX_IMPLICIT, .scratch_floats = implicit_scratch_floats,
                                               .prepare = prepare_implicit, .pack = pack_b_implicit});
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
           phase_window_floats(plan, block_rows) <= WINDOW_MAX_BYTES / (int64_t)sizeof(float) &&
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

static size_t rows_window_scratch_floats(const void* context, int64_t block_rows) {
    return (size_t)phase_window_floats(((const conv_source*)context)->plan, block_rows);
}

/* The item's window, and the offset of each B row in it. */
static void prepare_rows_window(const void* context, const hc_gemm_item* item, float* window, int32_t* offsets) {
    const conv_source* source = context;
    const hc_conv2d* plan = source->plan;
    const hc_conv2d_desc* d = &plan->desc;
    const int64_t sh = d->stride_height, sw = d->stride_width, plane_rows = phase_rows(plan, item->units), pitch = phase_pitch(plan);
    fill_phase_window(plan, image_of(source, item->gemm), source->in_per_group, item->first_unit, plane_rows, pitch, window);
    const int64_t taps = d->kernel_height * d->kernel_width, kk = reduction_length(d);
    for (int64_t k = 0; k < kk; k++) {
        const int64_t channel = k / taps, row = k % taps / d->kernel_width * d->dilation_height;
        const int64_t column = k % d->kernel_width * d->dilation_width;
        const int64_t plane_index = (channel * sh + row % sh) * sw + column % sw;
        offsets[k] = (int32_t)((plane_index * plane_rows + row / sh) * pitch + column / sw);
    }
}

/* Drops the padding columns: each virtual row's first out_w columns are an output row. */
static void store_rows_window(const void* context, const hc_gemm_item* item, const float* block, int64_t ldc) {
    const conv_source* source = context;
    const int64_t out_w = source->plan->out_width, pitch = phase_pitch(source->plan);
    float* y = source->output + item->gemm * source->m * source->p + item->first_unit * out_w;
    for (int64_t row = item->row_begin; row < item->row_end; row++) {
        const float* from = block + (row - item->row_begin) * ldc;
        for (int64_t i = 0; i < item->units; i++) copy_run_exact(y + row * source->p + i * out_w, from + i * pitch, out_w);
    }
}

static hc_prefetch_cursor rows_window_lookahead(const void* context, const hc_gemm_item* item) {
    const conv_source* source = context;
    return hc_prefetch_input_rows(source->plan, image_of(source, item->gemm), source->in_per_group, item->first_unit, item->units);
}

static hc_status run_rows_window(const hc_conv2d* plan, const float* input, float* output) {
    const conv_source conv = conv_source_of(plan, input, output);
    return run_batched(&conv, (hc_gemm_source){.units = plan->out_height, .unit_columns = phase_pitch(plan),
                                               .last_unit_columns = plan->out_width, .granule = 1, .nc_max = NC_MAX_IN_PLACE,
                                               .scratch_floats = rows_window_scratch_floats, .prepare = prepare_rows_window,
                                               .store = store_rows_window, .lookahead = rows_window_lookahead});
}

HC_CONV2D_FORWARD_ALGORITHM(GEMM_ROWS_WINDOW, GEMM_ROWS_WINDOW_NAME, GEMM_ISA, accepts_rows_window, prepare_gemm, run_rows_window);
#endif
