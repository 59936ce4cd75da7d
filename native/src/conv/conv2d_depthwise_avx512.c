/* Depthwise convolution (groups = in = out channels), direct, AVX-512F.
 *
 * Each output row is computed 64 columns at a time in four independent 16-wide accumulators;
 * every tap is one load of the input row whose lanes outside the image are masked off, with the
 * masks computed once per run (AVX-512 masks cost nothing extra, unlike AVX2's vmaskmov).
 * Kernel rows in the padding are skipped.
 * One task per (image, channel) plane, so results do not depend on the thread count.
 * Compiled with -mavx512f (this file only). */
#include <immintrin.h>

#include "conv2d_internal.h"

#define VECTORS 4
/* Masks are precomputed per plane for up to this many 64-column blocks and kernel columns. */
#define MAX_BLOCKS 8
#define MAX_KERNEL_WIDTH 8
#define MAX_KERNEL_HEIGHT 8

bool hc_conv2d_depthwise_accepts(const hc_conv2d* plan);

static bool accepts_depthwise_avx512(const hc_conv2d* plan) {
    return hc_conv2d_depthwise_accepts(plan) && plan->desc.kernel_width <= MAX_KERNEL_WIDTH &&
           plan->desc.kernel_height <= MAX_KERNEL_HEIGHT &&
           plan->out_width <= MAX_BLOCKS * 16 * VECTORS;
}

/* masks[block][s][v]: lanes of the v-th 16-wide load of kernel column s inside the image. */
typedef __mmask16 tap_masks[MAX_BLOCKS][MAX_KERNEL_WIDTH][VECTORS];

/* Lanes l of a 16-wide load at `column` with 0 <= column + l < width. */
static inline __mmask16 inside_mask(int64_t column, int64_t width) {
    const int64_t lo = column < 0 ? -column : 0, hi = width - column < 16 ? width - column : 16;
    if (hi <= lo) return 0;
    return (__mmask16)(((1u << hi) - 1u) & ~((1u << lo) - 1u));
}

static inline __m512 activate16(__m512 v, hc_activation activation, float alpha) {
    if (activation == HC_ACTIVATION_RELU) return _mm512_max_ps(v, _mm512_setzero_ps());
    if (activation == HC_ACTIVATION_LEAKY_RELU) {
        const __mmask16 positive = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_GT_OQ);
        return _mm512_mask_blend_ps(positive, _mm512_mul_ps(v, _mm512_set1_ps(alpha)), v);
    }
    return v;
}

/* One row block. With constant kernel sizes (kh_c, kw_c > 0, dense) the tap loops unroll fully
 * and the taps stay in registers; 0 means "read the sizes from the plan". */
static inline __attribute__((always_inline)) void depthwise_block(const hc_conv2d* plan, const float* x, const __m512* taps,
                                                                  float bias, float* out, int64_t top, int64_t r_begin,
                                                                  int64_t r_end, int64_t ow0, const __mmask16 (*masks)[VECTORS],
                                                                  const int vectors, const int kh_c, const int kw_c) {
    const hc_conv2d_desc* d = &plan->desc;
    const int64_t kw = kw_c > 0 ? kw_c : d->kernel_width;
    const int64_t dh = kh_c > 0 ? 1 : d->dilation_height, dw = kw_c > 0 ? 1 : d->dilation_width;
    __m512 acc[VECTORS];
    for (int v = 0; v < vectors; v++) acc[v] = _mm512_set1_ps(bias);
    const int64_t column0 = ow0 - d->pad_width;
    for (int64_t r = r_begin; r < r_end; r++) {
        const float* row = x + (top + r * dh) * d->in_width + column0;
#pragma GCC unroll 8
        for (int64_t s = 0; s < kw; s++) {
            const __m512 tap = taps[r * kw + s];
            const float* in = row + s * dw;
#pragma GCC unroll 4
            for (int v = 0; v < vectors; v++)
                acc[v] = _mm512_fmadd_ps(tap, _mm512_maskz_loadu_ps(masks[s][v], in + 16 * v), acc[v]);
        }
    }
#pragma GCC unroll 4
    for (int v = 0; v < vectors; v++) {
        const int64_t first = ow0 + 16 * v, lanes = plan->out_width - first;
        const __mmask16 mask = (__mmask16)(lanes >= 16 ? 0xFFFF : (1u << lanes) - 1u);
        _mm512_mask_storeu_ps(out + first, mask, activate16(acc[v], d->activation, d->activation_alpha));
    }
}

/* All rows of one plane; kh_c/kw_c as in depthwise_block. */
static inline __attribute__((always_inline)) void depthwise_rows(const hc_conv2d* plan, const tap_masks* masks, const float* x,
                                                                 const __m512* taps, float bias, float* y,
                                                                 const int kh_c, const int kw_c) {
    const hc_conv2d_desc* d = &plan->desc;
    const int64_t out_w = plan->out_width, kh = kh_c > 0 ? kh_c : d->kernel_height;
    const int64_t dh = kh_c > 0 ? 1 : d->dilation_height;
    for (int64_t oh = 0; oh < plan->out_height; oh++) {
        const int64_t top = oh * d->stride_height - d->pad_height;
        int64_t r_begin = 0, r_end = kh;
        while (r_begin < r_end && top + r_begin * dh < 0) r_begin++;
        while (r_end > r_begin && top + (r_end - 1) * dh >= d->in_height) r_end--;
        float* out = y + oh * out_w;
        for (int64_t ow0 = 0, b = 0; ow0 < out_w; ow0 += 16 * VECTORS, b++) {
            const __mmask16 (*m)[VECTORS] = (*masks)[b];
            switch ((out_w - ow0 + 15) / 16) {
            case 1: depthwise_block(plan, x, taps, bias, out, top, r_begin, r_end, ow0, m, 1, kh_c, kw_c); break;
            case 2: depthwise_block(plan, x, taps, bias, out, top, r_begin, r_end, ow0, m, 2, kh_c, kw_c); break;
            case 3: depthwise_block(plan, x, taps, bias, out, top, r_begin, r_end, ow0, m, 3, kh_c, kw_c); break;
            default: depthwise_block(plan, x, taps, bias, out, top, r_begin, r_end, ow0, m, VECTORS, kh_c, kw_c); break;
            }
        }
    }
}

static void depthwise_plane(const hc_conv2d* plan, const tap_masks* masks, const float* x, const float* w, float bias, float* y) {
    const hc_conv2d_desc* d = &plan->desc;
    __m512 taps[MAX_KERNEL_WIDTH * MAX_KERNEL_HEIGHT];
    for (int64_t t = 0; t < d->kernel_height * d->kernel_width; t++) taps[t] = _mm512_set1_ps(w[t]);
    if (d->kernel_height == 3 && d->kernel_width == 3 && d->dilation_height == 1 && d->dilation_width == 1) {
        depthwise_rows(plan, masks, x, taps, bias, y, 3, 3); /* the common case, fully unrolled */
    } else {
        depthwise_rows(plan, masks, x, taps, bias, y, 0, 0);
    }
}

static hc_status run_depthwise(const hc_conv2d* plan, const float* input, float* output) {
    const hc_conv2d_desc* d = &plan->desc;
    const int64_t planes = d->batch * d->in_channels, taps = d->kernel_height * d->kernel_width;
    const int64_t in_plane = d->in_height * d->in_width, out_plane = plan->out_height * plan->out_width;
    const int threads = (double)planes * (double)out_plane * (double)taps < 200000.0 ? 1 : plan->num_threads;
    tap_masks masks;
    for (int64_t b = 0; b * 16 * VECTORS < plan->out_width; b++)
        for (int64_t s = 0; s < d->kernel_width; s++)
            for (int v = 0; v < VECTORS; v++)
                masks[b][s][v] = inside_mask(b * 16 * VECTORS + 16 * v - d->pad_width + s * d->dilation_width, d->in_width);
#pragma omp parallel for schedule(dynamic, hc_dynamic_chunk(planes, threads)) num_threads(threads) if (threads > 1)
    for (int64_t p = 0; p < planes; p++) {
        const int64_t c = p % d->in_channels;
        depthwise_plane(plan, &masks, input + p * in_plane, plan->weights + c * taps, plan->bias != NULL ? plan->bias[c] : 0.0f,
                        output + p * out_plane);
    }
    return HC_STATUS_OK;
}

const hc_conv2d_algorithm hc_conv2d_depthwise_avx512 = {
    .name = "depthwise_direct_avx512",
    .isa = HC_ISA_AVX512,
    .accepts = accepts_depthwise_avx512,
    .prepare = NULL,
    .run = run_depthwise,
};
