/* Weights gradient of a depthwise convolution (multiplier 1), direct, AVX-512F.
 *
 *   dL/dw[c][r][s] = sum over images n and outputs (oh, ow) of dz[n][c][oh][ow] · x_padded[n][c][oh·sh + r·dh][ow·sw + s·dw]
 *
 * The general paths treat each channel as a group of one and reach a few GFLOP/s. Here one task
 * owns a channel, and every tap keeps a 16-lane accumulator in a register over all images and
 * outputs: per 16 outputs one dz load, and a load and an FMA per tap. At stride 1 the taps read
 * the image in place, masked to its columns; at other strides each image's plane is first copied
 * into the forward kernel's zero-padded, phase-split layout (hc_conv2d_padded_plane), where a
 * tap's inputs for 16 neighbouring outputs are one plain load. The lanes are added in a fixed
 * order at the end. Lanes past a row's last output load nothing (masked), so an infinite input
 * there never meets the zero dz of a missing output; padding is zeros multiplied like any input
 * (the NaN rule in hpccnn.h).
 *
 * Determinism: every weight is summed by one task in image, row and column order, then its
 * lanes in a fixed order: the same bits at any thread count. Compiled with -mavx512f (this file
 * only). */
#include <immintrin.h>

#include "../core/avx512.h"
#include "conv2d_internal.h"

/* Taps up to 5x5; 3x3 at stride 1 has its own kernel, the rest goes through the padded plane. */
#define MAX_TAPS 25

static int64_t taps_of(const hc_conv2d_desc* d) { return d->kernel_height * d->kernel_width; }

static bool accepts_depthwise_weights(const hc_plan* base) {
    const hc_conv2d* plan = hc_conv(base);
    return taps_of(&plan->desc) <= MAX_TAPS && hc_conv2d_depthwise_plane_fits(plan);
}

/* acc[t] += dz · tap t's inputs over one padded plane (strides above 1); TAPS constant once
 * inlined. The accumulators are loaded and stored once per plane: kept in memory across the
 * plane copy's call, GCC 12 otherwise stored them at every step. */
static inline __attribute__((always_inline)) void accumulate_padded(const hc_conv2d* plan, hc_conv2d_padded_plane shape, const float* padded,
                                                                    const int64_t* tap_offsets, const float* dz, __m512* sums, const int TAPS) {
    const hc_conv2d_desc* d = &plan->desc;
    const int64_t out_w = plan->out_width;
    __m512 acc[TAPS];
#pragma GCC unroll 25
    for (int t = 0; t < TAPS; t++) acc[t] = sums[t];
    for (int64_t oh = 0; oh < plan->out_height; oh++) {
        const float* row = padded + oh * d->stride_height * shape.row_length;
        const float* g = dz + oh * out_w;
        for (int64_t ow = 0; ow < out_w; ow += 16) {
            /* One code path for whole and partial vectors: a mask register costs a load nothing. */
            const __mmask16 lanes = hc_first_lanes16(out_w - ow);
            const __m512 z = _mm512_maskz_loadu_ps(lanes, g + ow);
#pragma GCC unroll 25
            for (int t = 0; t < TAPS; t++) acc[t] = _mm512_fmadd_ps(z, _mm512_maskz_loadu_ps(lanes, row + tap_offsets[t] + ow), acc[t]);
        }
    }
#pragma GCC unroll 25
    for (int t = 0; t < TAPS; t++) sums[t] = acc[t];
}

/* 3x3 at stride 1 (row dilation 1) straight from the image, no copy, input row by input row:
 * row ih's three column taps (one load each, masked to the image's columns and to the outputs)
 * meet the dz rows oh = ih + pad_top - r of kernel rows r = 0, 1, 2, kept in registers as they
 * roll down, so each input row and each dz row is loaded once per column block. Kernel rows over
 * the padding above and below the image multiply zeros (the NaN rule). The nine accumulators
 * are named variables (an array sized by a parameter stayed in memory with GCC 12: a load and
 * a store per FMA, measured). */
#define TAP_ROW(z, a0, a1, a2)                                                                              \
    do {                                                                                                    \
        a0 = _mm512_fmadd_ps(z, x0, a0), a1 = _mm512_fmadd_ps(z, x1, a1), a2 = _mm512_fmadd_ps(z, x2, a2); \
    } while (0)

static bool is_3x3_unit(const hc_conv2d_desc* d) {
    return d->kernel_height == 3 && d->kernel_width == 3 && d->stride_height == 1 && d->stride_width == 1 && d->dilation_height == 1;
}

static void channel_gradient_3x3_unit(const hc_conv2d* plan, const float* input, const float* diff, int64_t c, float* dw_c) {
    const hc_conv2d_desc* d = &plan->desc;
    const int64_t out_w = plan->out_width, out_h = plan->out_height, in_w = d->in_width, in_h = d->in_height;
    const int64_t dw = d->dilation_width, pt = d->pad_top, in_plane = in_h * in_w, out_plane = out_h * out_w;
    const __m512 zero = _mm512_setzero_ps();
    __m512 a00 = zero, a01 = zero, a02 = zero, a10 = zero, a11 = zero, a12 = zero, a20 = zero, a21 = zero, a22 = zero;
    for (int64_t ow = 0; ow < out_w; ow += 16) {
        /* The block's masks stay in registers over every image and row. */
        const __mmask16 lanes = hc_first_lanes16(out_w - ow);
        const int64_t iw = ow - d->pad_left;
        const __mmask16 m0 = (__mmask16)(lanes & hc_first_lanes16(in_w - iw) & ~hc_first_lanes16(-iw));
        const __mmask16 m1 = (__mmask16)(lanes & hc_first_lanes16(in_w - iw - dw) & ~hc_first_lanes16(-iw - dw));
        const __mmask16 m2 = (__mmask16)(lanes & hc_first_lanes16(in_w - iw - 2 * dw) & ~hc_first_lanes16(-iw - 2 * dw));
        for (int64_t n = 0; n < d->batch; n++) {
            const float* x = input + (n * d->in_channels + c) * in_plane + iw;
            const float* dz = diff + (n * d->in_channels + c) * out_plane + ow;
            /* z_r: the dz row of output oh = ih + pt - r, zero while that row does not exist; before
             * row 0 rolls in, z0 and z1 hold outputs pt - 1 and pt - 2. */
            __m512 z0 = zero, z1 = zero, z2 = zero;
            if (pt >= 1 && pt - 1 < out_h) z0 = _mm512_maskz_loadu_ps(lanes, dz + (pt - 1) * out_w);
            if (pt >= 2 && pt - 2 < out_h) z1 = _mm512_maskz_loadu_ps(lanes, dz + (pt - 2) * out_w);
            for (int64_t ih = 0; ih < in_h; ih++) {
                const int64_t oh = ih + pt;
                z2 = z1, z1 = z0;
                z0 = oh < out_h ? _mm512_maskz_loadu_ps(lanes, dz + oh * out_w) : zero;
                const float* row = x + ih * in_w;
                const __m512 x0 = _mm512_maskz_loadu_ps(m0, row), x1 = _mm512_maskz_loadu_ps(m1, row + dw), x2 = _mm512_maskz_loadu_ps(m2, row + 2 * dw);
                /* A row with no output (z zero) adds x * 0: nothing unless x is infinite or NaN,
                 * which only outputs that exist may meet. */
                if (oh < out_h) TAP_ROW(z0, a00, a01, a02);
                if (oh - 1 >= 0 && oh - 1 < out_h) TAP_ROW(z1, a10, a11, a12);
                if (oh - 2 >= 0 && oh - 2 < out_h) TAP_ROW(z2, a20, a21, a22);
            }
            /* Kernel rows over the padding: output rows oh whose row r lies above or below the image. */
            for (int64_t oh = 0; oh < out_h; oh++) {
                const int64_t top = oh - pt;
                if (top >= 0 && top + 2 < in_h) continue;
                const __m512 z = _mm512_maskz_loadu_ps(lanes, dz + oh * out_w);
                const __m512 x0 = zero, x1 = zero, x2 = zero;
                if (top < 0 || top >= in_h) TAP_ROW(z, a00, a01, a02);
                if (top + 1 < 0 || top + 1 >= in_h) TAP_ROW(z, a10, a11, a12);
                if (top + 2 < 0 || top + 2 >= in_h) TAP_ROW(z, a20, a21, a22);
            }
        }
    }
    const __m512 sums[9] = {a00, a01, a02, a10, a11, a12, a20, a21, a22};
    for (int t = 0; t < 9; t++) dw_c[t] = _mm512_reduce_add_ps(sums[t]);
}
#undef TAP_ROW

/* Channel c's weights gradient over every image through the padded plane (`padded` holds one
 * plane and its scratch row); TAPS constant once inlined. */
static inline __attribute__((always_inline)) void channel_gradient(const hc_conv2d* plan, hc_conv2d_padded_plane shape, const float* x,
                                                                   const float* dz, const int64_t* tap_offsets, int64_t c, float* padded,
                                                                   float* dw, const int TAPS) {
    const hc_conv2d_desc* d = &plan->desc;
    const int64_t in_plane = d->in_height * d->in_width, out_plane = plan->out_height * plan->out_width;
    __m512 acc[TAPS];
#pragma GCC unroll 25
    for (int t = 0; t < TAPS; t++) acc[t] = _mm512_setzero_ps();
    float* scratch = padded + shape.rows * shape.row_length + 32;
    for (int64_t n = 0; n < d->batch; n++) {
        const int64_t p = n * d->in_channels + c;
        hc_conv2d_depthwise_fill_plane(plan, shape, x + p * in_plane, padded, scratch);
        accumulate_padded(plan, shape, padded, tap_offsets, dz + p * out_plane, acc, TAPS);
    }
#pragma GCC unroll 25
    for (int t = 0; t < TAPS; t++) dw[c * TAPS + t] = _mm512_reduce_add_ps(acc[t]);
}

static void channel_gradient_any(const hc_conv2d* plan, hc_conv2d_padded_plane shape, const float* x, const float* dz,
                                 const int64_t* tap_offsets, int64_t c, float* padded, float* dw) {
    const hc_conv2d_desc* d = &plan->desc;
    if (is_3x3_unit(d)) {
        channel_gradient_3x3_unit(plan, x, dz, c, dw + c * 9);
    } else if (d->kernel_height == 3 && d->kernel_width == 3) {
        channel_gradient(plan, shape, x, dz, tap_offsets, c, padded, dw, 9);
    } else {
        channel_gradient(plan, shape, x, dz, tap_offsets, c, padded, dw, MAX_TAPS);
    }
}

static hc_status run_depthwise_weights(const hc_plan* base, const hc_args* args) {
    const hc_conv2d* plan = hc_conv(base);
    const hc_conv2d_desc* d = &plan->desc;
    hc_conv2d_weights_gradient g;
    if (hc_conv2d_weights_gradient_of(plan, args, &g) != HC_STATUS_OK) return HC_STATUS_OUT_OF_MEMORY;
    const float *dz = g.dz, *x = g.x;
    float* dw = g.dw;
    const int threads = g.threads;
    const int64_t taps = taps_of(d);
    if (g.db != NULL) hc_conv2d_bias_gradient(plan, dz, g.db, threads);
    const hc_conv2d_padded_plane shape = hc_conv2d_depthwise_plane_shape(plan);
    /* Where tap (r, s) starts in the padded plane, relative to its output row's first input; the
     * taps past the kernel's (the generic instance's) read tap 0 and land in a discarded row. */
    int64_t tap_offsets[MAX_TAPS];
    for (int64_t t = 0; t < MAX_TAPS; t++) {
        const int64_t r = t < taps ? t / d->kernel_width : 0, column = t < taps ? t % d->kernel_width * d->dilation_width : 0;
        tap_offsets[t] = r * d->dilation_height * shape.row_length + column % d->stride_width * shape.phase_width + column / d->stride_width;
    }
    const bool generic = !(d->kernel_height == 3 && d->kernel_width == 3);
    float* gradient = dw;
    if (generic) {
        gradient = hc_thread_columns((size_t)(d->out_channels * MAX_TAPS) * sizeof(float));
        if (gradient == NULL) return hc_fail(HC_STATUS_OUT_OF_MEMORY, "out of memory for the depthwise weights gradient");
    }
    const size_t workspace_bytes = (size_t)(shape.rows * shape.row_length + 32 + 2 * shape.phase_width + 64) * sizeof(float);
    int failed = 0, finished = 0;
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
#pragma omp for schedule(dynamic, hc_dynamic_chunk(d->out_channels, threads)) nowait
        for (int64_t c = 0; c < d->out_channels; c++) {
            float* padded = hc_item_workspace(workspace_bytes, &failed);
            if (padded == NULL) continue;
            channel_gradient_any(plan, shape, x, dz, tap_offsets, c, padded, gradient);
        }
        hc_parallel_join(&finished);
    }
    if (failed) return hc_fail(HC_STATUS_OUT_OF_MEMORY, "out of memory for a depthwise workspace");
    if (generic)
        for (int64_t c = 0; c < d->out_channels; c++)
            for (int64_t t = 0; t < taps; t++) dw[c * taps + t] = gradient[c * MAX_TAPS + t];
    return HC_STATUS_OK;
}

const hc_algorithm hc_conv2d_backward_weights_depthwise_avx512 = {
    .name = "depthwise_direct_avx512", .isa = HC_ISA_AVX512, .accepts = accepts_depthwise_weights, .pack = NULL, .run = run_depthwise_weights};
