/* Forward convolution with stride 1 and few output channels, direct, AVX-512F.
 *
 * LeNet's layers (1 -> 6, 6 -> 16) and the backward-data passes run as forward convolutions
 * (16 -> 6) give the GEMM paths a handful of rows for an 8-row micro-kernel, and packing the
 * im2col panels costs as much as the products. Here each image's input planes are copied once
 * into a per-thread buffer on one row pitch Wp = out_w + (kw-1)·dw, zero-padded:
 *   x_pad[c][i·Wp + j] = x[c][i - pad_top][j - pad_left], 0 outside the image,
 * so that output pixel p = oh·Wp + ow of channel k is Σ_{c,r,s} w[k][c][r][s] · x_pad[c][p +
 * r·dh·Wp + s·dw]: every tap of 16 neighbouring pixels is one unaligned load, with no bounds.
 * A tile is OB output channels × PB vectors of 16 pixels, accumulated in registers over every
 * (c, r, s) with the weight broadcast from memory; the columns ow >= out_w of the wide plane are
 * computed and dropped when the tile is written out (with the bias and the activation).
 *
 * One task per (image, group): results do not depend on the thread count.
 * Compiled with -mavx512f (this file only). */
#include <immintrin.h>
#include <string.h>

#include "../core/activation.h"
#include "../core/avx512.h"
#include "conv2d_internal.h"

#define MAX_OB 8
#define MAX_PB 4

static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
static int64_t round_up(int64_t a, int64_t b) { return ceil_div(a, b) * b; }

typedef struct flat_layout {
    int64_t pitch;   /* Wp */
    int64_t x_plane; /* what the furthest tap of the last tile reads, rounded up to 16 */
    int64_t ob, pb;  /* tile: output channels × vectors of 16 pixels */
} flat_layout;

/* OB·PB accumulators, PB inputs and one broadcast weight within the 32 vector registers; the
 * block of output channels that pads the fewest, of equals the larger. */
static flat_layout layout_of(const hc_conv2d* plan) {
    const hc_conv2d_desc* d = &plan->desc;
    const int64_t k_per_group = d->out_channels / d->groups;
    int64_t ob = k_per_group < MAX_OB ? k_per_group : MAX_OB;
    for (int64_t b = ob; b >= 1 && b >= ob - 3; b--)
        if (round_up(k_per_group, b) < round_up(k_per_group, ob)) ob = b;
    int64_t pb = 31 / (ob + 1);
    if (pb > MAX_PB) pb = MAX_PB;
    flat_layout l = {.ob = ob, .pb = pb};
    l.pitch = plan->out_width + (d->kernel_width - 1) * d->dilation_width;
    /* The last tile starts before out_h·Wp and reads at most MAX_PB vectors past its start. */
    l.x_plane = round_up(plan->out_height * l.pitch + 16 * MAX_PB + (d->kernel_height - 1) * d->dilation_height * l.pitch +
                             (d->kernel_width - 1) * d->dilation_width,
                         16);
    return l;
}

static int64_t scratch_floats(const hc_conv2d* plan, const flat_layout* l) {
    return hc_saturating_product(plan->desc.in_channels / plan->desc.groups, l->x_plane, 1, 1);
}

/* Stride 1, one group of at most 16 output channels from 4 or more input channels, and one
 * image's padded input small enough to stay in the L2 while its tiles run. With 1 to 3 input
 * channels the GEMM's rows-window path is as fast (its panels are short), so it keeps those. */
static bool accepts_flat(const hc_conv2d* plan) {
    const hc_conv2d_desc* d = &plan->desc;
    if (d->stride_height != 1 || d->stride_width != 1) return false;
    if (d->groups != 1 || d->out_channels > 16 || d->in_channels < 4) return false;
    /* Rows and pitch of the padded image, bounded before their product is formed. */
    const int64_t bound = INT64_C(1) << 24;
    if (plan->out_height + (d->kernel_height - 1) * d->dilation_height >= bound ||
        plan->out_width + (d->kernel_width - 1) * d->dilation_width >= bound)
        return false;
    const flat_layout l = layout_of(plan);
    /* In floats: the product saturates for absurd paddings, and bytes would overflow. */
    return scratch_floats(plan, &l) <= hc_l2_cache_bytes() / (int64_t)sizeof(float);
}

/* One tile at wide pixel p0 for output channels k0 .. k0+OB-1; OB and PB are constants once inlined. */
static inline __attribute__((always_inline)) void tile(const int OB, const int PB, const hc_conv2d* plan, const flat_layout* l,
                                                       const float* x_pad, int64_t p0, int64_t k0, float* output_image) {
    const hc_conv2d_desc* d = &plan->desc;
    const int64_t c_per_group = d->in_channels / d->groups, kh = d->kernel_height, kw = d->kernel_width;
    const int64_t taps = c_per_group * kh * kw;
    __m512 acc[MAX_OB * MAX_PB];
#pragma GCC unroll 32
    for (int o = 0; o < OB; o++) {
        const __m512 b = _mm512_set1_ps(plan->base.bias != NULL ? plan->base.bias[k0 + o] : 0.0f);
#pragma GCC unroll 4
        for (int j = 0; j < PB; j++) acc[o * PB + j] = b;
    }
    const float* w = plan->base.weights + k0 * taps;
    for (int64_t c = 0; c < c_per_group; c++)
        for (int64_t r = 0; r < kh; r++) {
            const float* row = x_pad + c * l->x_plane + r * d->dilation_height * l->pitch + p0;
            for (int64_t s = 0; s < kw; s++) {
                const float* in = row + s * d->dilation_width;
                __m512 xv[MAX_PB];
#pragma GCC unroll 4
                for (int j = 0; j < PB; j++) xv[j] = _mm512_loadu_ps(in + 16 * j);
                const int64_t tap = (c * kh + r) * kw + s;
#pragma GCC unroll 8
                for (int o = 0; o < OB; o++) {
                    const __m512 wv = _mm512_set1_ps(w[o * taps + tap]);
#pragma GCC unroll 4
                    for (int j = 0; j < PB; j++) acc[o * PB + j] = _mm512_fmadd_ps(wv, xv[j], acc[o * PB + j]);
                }
            }
        }
    /* Write the pixels that exist: wide pixel p is (p / Wp, p % Wp), kept while p % Wp < out_w. */
    const int64_t out_plane = plan->out_height * plan->out_width;
    const int64_t end = p0 + 16 * PB < plan->out_height * l->pitch ? p0 + 16 * PB : plan->out_height * l->pitch;
#pragma GCC unroll 8
    for (int o = 0; o < OB; o++) {
        float values[MAX_PB * 16];
#pragma GCC unroll 4
        for (int j = 0; j < PB; j++)
            _mm512_storeu_ps(values + 16 * j, hc_activation_forward16(d->activation, d->activation_alpha, acc[o * PB + j]));
        float* out = output_image + (k0 + o) * out_plane;
        for (int64_t p = p0; p < end;) {
            const int64_t oh = p / l->pitch, ow = p % l->pitch;
            const int64_t run = end - p < l->pitch - ow ? end - p : l->pitch - ow;
            const int64_t valid = ow >= plan->out_width ? 0 : (run < plan->out_width - ow ? run : plan->out_width - ow);
            if (valid > 0) memcpy(out + oh * plan->out_width + ow, values + (p - p0), (size_t)valid * sizeof(float));
            p += run;
        }
    }
}

#define FLAT_CASE(ob, pb) \
    case (ob) * 8 + (pb): tile(ob, pb, plan, l, x_pad, p0, k0, output_image); break;

static void run_tile(int64_t ob, int64_t pb, const hc_conv2d* plan, const flat_layout* l, const float* x_pad, int64_t p0, int64_t k0,
                     float* output_image) {
    /* Every (ob, pb) layout_of can choose: pb = min(4, 31 / (ob + 1)). */
    switch (ob * 8 + pb) {
        FLAT_CASE(1, 4) FLAT_CASE(2, 4) FLAT_CASE(3, 4) FLAT_CASE(4, 4) FLAT_CASE(5, 4) FLAT_CASE(6, 4)
        FLAT_CASE(7, 3) FLAT_CASE(8, 3)
        default: break;
    }
}

static hc_status run_flat(const hc_conv2d* plan, const float* input, float* output) {
    const hc_conv2d_desc* d = &plan->desc;
    const flat_layout layout = layout_of(plan);
    const flat_layout* l = &layout;
    const int64_t k_per_group = d->out_channels / d->groups, scratch = scratch_floats(plan, l);
    const int64_t in_image = d->in_channels * d->in_height * d->in_width, out_image = d->out_channels * plan->out_height * plan->out_width;
    const double flops = (double)plan->output_length * 2.0 * (double)(d->in_channels / d->groups * d->kernel_height * d->kernel_width);
    const int threads = hc_threads_for_flops(flops, plan->base.num_threads);
    bool failed = false;
    int finished = 0;
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
        float* x_pad = hc_aligned_alloc((size_t)scratch * sizeof(float));
        if (x_pad == NULL) {
#pragma omp atomic write
            failed = true;
        }
#pragma omp for schedule(dynamic, 1) nowait
        for (int64_t n = 0; n < d->batch; n++) {
            if (x_pad == NULL) continue;
            hc_conv2d_copy_pitched(plan, input + n * in_image, d->in_channels, l->pitch, l->x_plane, x_pad);
            /* Output channels past the group's last are computed in a block of their own size. */
            for (int64_t k0 = 0; k0 < k_per_group; k0 += l->ob) {
                const int64_t ob = k_per_group - k0 < l->ob ? k_per_group - k0 : l->ob;
                const int64_t pb = 31 / (ob + 1) < MAX_PB ? 31 / (ob + 1) : MAX_PB;
                for (int64_t p0 = 0; p0 < plan->out_height * l->pitch; p0 += 16 * pb)
                    run_tile(ob, pb, plan, l, x_pad, p0, k0, output + n * out_image);
            }
        }
        hc_aligned_free(x_pad);
        hc_parallel_join(&finished);
    }
    return failed ? HC_STATUS_OUT_OF_MEMORY : HC_STATUS_OK;
}

HC_CONV2D_FORWARD_ALGORITHM(hc_conv2d_direct_flat_avx512, "direct_flat_avx512", HC_ISA_AVX512, accepts_flat, hc_conv2d_no_pack, run_flat);
