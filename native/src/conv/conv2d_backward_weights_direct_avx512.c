/* Weights gradient of a stride-1 convolution with few channels, direct, AVX-512F.
 *
 * For LeNet's layers (1 -> 6 and 6 -> 16 channels, 5x5) the im2col GEMM's shapes are a few rows
 * by a few dozen columns, so the micro-kernel idles and packing dominates. Here every image is
 * first laid out on one row pitch Wp =
 * out_w + (kw-1)·dw:
 *   dz_wide[n][k][oh·Wp + ow] = dL/dz[n][k][oh][ow] for ow < out_w, else 0;
 *   x_pad[n][c][i·Wp + j]     = x[n][c][i - pad_top][j - pad_left], 0 outside the image;
 * so that dL/dw[k][c][r][s] = Σ_n Σ_p dz_wide[n][k][p] · x_pad[n][c][p + r·dh·Wp + s·dw] over
 * the whole flattened plane: a correlation of two contiguous rows with no bounds, no masks and no
 * tail (planes are padded to whole vectors). One task owns (group, c, r, block of KB output
 * channels) and keeps KB × kw accumulators of 16 lanes in registers over every image and pixel:
 * per vector step kw + KB loads and KB·kw FMAs (KB·kw + kw + 1 <= 32 registers).
 *
 * Determinism: every weight is summed by one task, in image and pixel order, in 16 fixed lanes
 * added by one reduction at the end; the layout is filled before any task starts. The same bits
 * at any thread count. Compiled with -mavx512f (this file only). */
#include <immintrin.h>
#include <string.h>

#include "../core/avx512.h"
#include "conv2d_internal.h"

#define MAX_ACCUMULATORS 32

static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
static int64_t round_up(int64_t a, int64_t b) { return ceil_div(a, b) * b; }

typedef struct direct_layout {
    int64_t pitch;       /* Wp */
    int64_t z_plane;     /* out_h · Wp rounded up to 16 */
    int64_t x_plane;     /* what the furthest tap reads past z_plane, rounded up to 16 */
    int64_t block;       /* KB: output channels per task */
    int64_t k_padded;    /* output channels per group rounded up to KB (the extra planes stay zero) */
    int64_t floats;      /* the whole layout */
} direct_layout;

static direct_layout layout_of(const hc_conv2d* plan) {
    const hc_conv2d_desc* d = &plan->desc;
    direct_layout l;
    l.pitch = plan->out_width + (d->kernel_width - 1) * d->dilation_width;
    l.z_plane = round_up(plan->out_height * l.pitch, 16);
    l.x_plane = round_up(l.z_plane + (d->kernel_height - 1) * d->dilation_height * l.pitch + (d->kernel_width - 1) * d->dilation_width, 16);
    l.block = hc_conv2d_weights_block(d->out_channels / d->groups, d->kernel_width);
    l.k_padded = round_up(d->out_channels / d->groups, l.block);
    l.floats = d->batch * (d->groups * l.k_padded * l.z_plane + d->in_channels * l.x_plane);
    return l;
}

/* Stride 1, a kernel row that fits the accumulators, a layout of at most 64 Mi floats, and few
 * channels (hc_conv2d_weights_few_channels; with 16 or more input and 32 output channels the
 * GEMM wins: the commit that added this says by how much). */
static bool accepts_direct(const hc_plan* base) {
    const hc_conv2d* plan = hc_conv(base);
    const hc_conv2d_desc* d = &plan->desc;
    if (d->stride_height != 1 || d->stride_width != 1 || !hc_conv2d_weights_few_channels(d)) return false;
    return layout_of(plan).floats <= (INT64_C(1) << 26);
}

/* Image n's planes in the layout: dz rows re-pitched with zero columns, x zero-padded. */
static void fill_image(const hc_conv2d* plan, const direct_layout* l, const float* dz, const float* x, int64_t n, float* z_wide,
                       float* x_pad) {
    const hc_conv2d_desc* d = &plan->desc;
    const int64_t k_per_group = d->out_channels / d->groups, out_plane = plan->out_height * plan->out_width;
    for (int64_t g = 0; g < d->groups; g++)
        for (int64_t kk = 0; kk < l->k_padded; kk++) {
            float* row = z_wide + ((n * d->groups + g) * l->k_padded + kk) * l->z_plane;
            memset(row, 0, (size_t)l->z_plane * sizeof(float));
            if (kk >= k_per_group) continue;
            const float* source = dz + (n * d->out_channels + g * k_per_group + kk) * out_plane;
            for (int64_t oh = 0; oh < plan->out_height; oh++)
                memcpy(row + oh * l->pitch, source + oh * plan->out_width, (size_t)plan->out_width * sizeof(float));
        }
    hc_conv2d_copy_pitched(plan, x + n * d->in_channels * d->in_height * d->in_width, d->in_channels, l->pitch, l->x_plane,
                           x_pad + n * d->in_channels * l->x_plane);
}

/* One task: acc[kk][s] over every image and vector step; KB and KW are constants once inlined. */
static inline __attribute__((always_inline)) void task_tile(const int KB, const int KW, const direct_layout* l, int64_t batch,
                                                            const float* z_first, int64_t z_image_stride, const float* x_first,
                                                            int64_t x_image_stride, int64_t dilation_w, float sums[MAX_ACCUMULATORS]) {
    __m512 acc[MAX_ACCUMULATORS];
#pragma GCC unroll 32
    for (int a = 0; a < KB * KW; a++) acc[a] = _mm512_setzero_ps();
    for (int64_t n = 0; n < batch; n++) {
        const float* z = z_first + n * z_image_stride;
        const float* xs = x_first + n * x_image_stride;
        for (int64_t p = 0; p < l->z_plane; p += 16) {
            __m512 xv[HC_CONV2D_WEIGHTS_MAX_WIDTH];
#pragma GCC unroll 8
            for (int s = 0; s < KW; s++) xv[s] = _mm512_loadu_ps(xs + p + s * dilation_w);
#pragma GCC unroll 8
            for (int kk = 0; kk < KB; kk++) {
                const __m512 zv = _mm512_load_ps(z + kk * l->z_plane + p);
#pragma GCC unroll 8
                for (int s = 0; s < KW; s++) acc[kk * KW + s] = _mm512_fmadd_ps(zv, xv[s], acc[kk * KW + s]);
            }
        }
    }
#pragma GCC unroll 32
    for (int a = 0; a < KB * KW; a++) sums[a] = _mm512_reduce_add_ps(acc[a]);
}

#define TILE_CASE(kb, kw) \
    case (kb) * 16 + (kw): task_tile(kb, kw, l, batch, z_first, z_stride, x_first, x_stride, dilation_w, sums); break;

static void run_task(const direct_layout* l, int64_t kb, int64_t kw, int64_t batch, const float* z_first, int64_t z_stride,
                     const float* x_first, int64_t x_stride, int64_t dilation_w, float sums[MAX_ACCUMULATORS]) {
    switch (kb * 16 + kw) {
        HC_CONV2D_WEIGHTS_BLOCKS(TILE_CASE)
        default: break;
    }
}

static hc_status run_direct(const hc_plan* base, const hc_args* args) {
    const hc_conv2d* plan = hc_conv(base);
    const hc_conv2d_desc* d = &plan->desc;
    hc_conv2d_weights_gradient gradient;
    if (hc_conv2d_weights_gradient_of(plan, args, &gradient) != HC_STATUS_OK) return HC_STATUS_OUT_OF_MEMORY;
    const float *dz = gradient.dz, *x = gradient.x;
    /* The flat correlations multiply the zeros between re-pitched rows with every input column: an
     * infinite or NaN input would leave NaN where the definition has none; such runs take the plain path. */
    if (hc_any_non_finite(x, d->batch * d->in_channels * d->in_height * d->in_width)) return hc_conv2d_backward_weights_generic.run(base, args);
    float *dw = gradient.dw, *db = gradient.db;
    const direct_layout layout = layout_of(plan);
    const direct_layout* l = &layout;
    float* z_wide = hc_aligned_alloc((size_t)l->floats * sizeof(float));
    if (z_wide == NULL) return HC_STATUS_OUT_OF_MEMORY;
    float* x_pad = z_wide + d->batch * d->groups * l->k_padded * l->z_plane;

    const int64_t k_per_group = d->out_channels / d->groups, c_per_group = d->in_channels / d->groups;
    const int64_t kh = d->kernel_height, kw = d->kernel_width, blocks = l->k_padded / l->block;
    const int64_t tasks = d->groups * c_per_group * kh * blocks;
    const int threads = gradient.threads;
    int finished = 0;
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
#pragma omp for schedule(dynamic, 1)
        for (int64_t n = 0; n < d->batch; n++) fill_image(plan, l, dz, x, n, z_wide, x_pad);
        /* (the loop's barrier: every image is laid out before any task reads it) */
#pragma omp for schedule(dynamic, 1) nowait
        for (int64_t t = 0; t < tasks; t++) {
            const int64_t block = t % blocks, r = t / blocks % kh, c = t / (blocks * kh) % c_per_group, g = t / (blocks * kh * c_per_group);
            const float* z_first = z_wide + (g * l->k_padded + block * l->block) * l->z_plane;
            const float* x_first = x_pad + (g * c_per_group + c) * l->x_plane + r * d->dilation_height * l->pitch;
            float sums[MAX_ACCUMULATORS];
            run_task(l, l->block, kw, d->batch, z_first, d->groups * l->k_padded * l->z_plane, x_first, d->in_channels * l->x_plane,
                     d->dilation_width, sums);
            for (int64_t kk = 0; kk < l->block; kk++) {
                const int64_t k = block * l->block + kk;
                if (k >= k_per_group) break;
                for (int64_t s = 0; s < kw; s++)
                    dw[(((g * k_per_group + k) * c_per_group + c) * kh + r) * kw + s] = sums[kk * kw + s];
            }
        }
        if (db != NULL) {
#pragma omp for schedule(dynamic, 1) nowait
            for (int64_t k = 0; k < d->out_channels; k++) {
                const int64_t g = k / k_per_group, kk = k % k_per_group;
                __m512 sum = _mm512_setzero_ps();
                for (int64_t n = 0; n < d->batch; n++) {
                    const float* z = z_wide + ((n * d->groups + g) * l->k_padded + kk) * l->z_plane;
                    for (int64_t p = 0; p < l->z_plane; p += 16) sum = _mm512_add_ps(sum, _mm512_load_ps(z + p));
                }
                db[k] = _mm512_reduce_add_ps(sum);
            }
        }
        hc_parallel_join(&finished);
    }
    hc_aligned_free(z_wide);
    hc_conv2d_weights_gradient_nan_over_padding(plan, dz, dw);
    return HC_STATUS_OK;
}

const hc_algorithm hc_conv2d_backward_weights_direct_avx512 = {
    .name = "direct_few_channels_avx512", .isa = HC_ISA_AVX512, .accepts = accepts_direct, .pack = NULL, .run = run_direct};
