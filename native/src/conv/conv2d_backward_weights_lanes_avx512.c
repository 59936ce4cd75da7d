/* Weights gradient of a convolution with few channels, 16 images to a vector, AVX-512F.
 *
 * LeNet's layers (1 -> 6 and 6 -> 16 channels, 5x5) have too few channels for a GEMM; the direct
 * kernel (conv2d_backward_weights_direct_avx512.c) correlates whole planes re-pitched onto one row
 * width, which multiplies the zero columns between rows (a tenth to a third of its work) and reads
 * its input with unaligned loads. Here a vector's lanes are images:
 *   X[c][u][v][m]  = x[n0 + m][c][u - pad_top][v - pad_left], zero outside the image,
 *   Z[k][oh][ow][m] = dL/dz[n0 + m][k][oh][ow] (the activation's derivative taken on the way in),
 *   dL/dw[k][c][r][s] = Σ blocks Σ m Σ (oh, ow) Z[k][oh][ow][m] · X[c][oh·sh + r·dh][ow·sw + s·dw][m],
 * every load one aligned cache line and no work on anything but the outputs. One task owns
 * (group, c, r, block of KB output channels) of a block of images with KB·kw accumulators in
 * registers; at unit strides it slides a window of kw input vectors along the row, one load per
 * step. The bias sums Z.
 *
 * Determinism: each block of 16 images is one work item whose tasks sum in (oh, ow) order in 16
 * fixed lanes added by one reduction; the blocks' sums are then added in block order, the bias
 * likewise: the same bits at any thread count. */
#include <immintrin.h>
#include <string.h>

#include "conv2d_internal.h"
#include "conv2d_lanes_avx512.h"

#define IMAGES HC_LANE_IMAGES
#define MAX_ACCUMULATORS 32

static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
static int64_t round_up(int64_t a, int64_t b) { return ceil_div(a, b) * b; }
static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

typedef struct lanes_layout {
    int64_t rows, columns; /* X's rows and columns: what the outputs reach */
    int64_t block;         /* KB: output channels per task */
    int64_t k_padded;      /* output channels per group rounded up to KB (the extra planes stay zero) */
    int64_t x_floats, z_floats; /* one block of images */
    int64_t blocks;        /* blocks of 16 images */
} lanes_layout;

static lanes_layout layout_of(const hc_conv2d* plan) {
    const hc_conv2d_desc* d = &plan->desc;
    lanes_layout l;
    l.rows = (plan->out_height - 1) * d->stride_height + (d->kernel_height - 1) * d->dilation_height + 1;
    l.columns = (plan->out_width - 1) * d->stride_width + (d->kernel_width - 1) * d->dilation_width + 1;
    l.block = hc_conv2d_weights_block(d->out_channels / d->groups, d->kernel_width);
    l.k_padded = round_up(d->out_channels / d->groups, l.block);
    l.x_floats = hc_saturating_product(d->in_channels, l.rows, l.columns, IMAGES);
    l.z_floats = hc_saturating_product(d->groups * l.k_padded, plan->out_height, plan->out_width, IMAGES);
    l.blocks = ceil_div(d->batch, IMAGES);
    return l;
}

static int64_t block_floats(const lanes_layout* l) {
    return l->x_floats < INT64_MAX / 2 && l->z_floats < INT64_MAX / 2 ? l->x_floats + l->z_floats : INT64_MAX / 2;
}

/* 16 images or more, a kernel row that fits the accumulators, few channels
 * (hc_conv2d_weights_few_channels), a block's layout within the L2. */
static bool accepts_lanes(const hc_plan* base) {
    const hc_conv2d* plan = hc_conv(base);
    const hc_conv2d_desc* d = &plan->desc;
    if (d->batch < IMAGES || !hc_conv2d_weights_few_channels(d)) return false;
    if (d->pad_top >= (INT64_C(1) << 24) || d->pad_left >= (INT64_C(1) << 24)) return false;
    const lanes_layout l = layout_of(plan);
    return block_floats(&l) <= hc_l2_cache_bytes() / (int64_t)sizeof(float);
}

/* One task over one block: acc[kk][s] += Σ (oh, ow) Z[k0 + kk][oh][ow] · X[row r][ow·sw + s·dw];
 * KB, KW and SLIDE (unit column stride and dilation) are constants once inlined. */
static inline __attribute__((always_inline)) void task_block(const int KB, const int KW, const bool SLIDE, const hc_conv2d* plan,
                                                             const lanes_layout* l, const float* z, const float* x, __m512* acc) {
    const hc_conv2d_desc* d = &plan->desc;
    const int64_t out_w = plan->out_width, z_plane = plan->out_height * out_w * IMAGES;
    const int64_t row_step = d->stride_height * l->columns * IMAGES, sw = d->stride_width * IMAGES, dw = d->dilation_width * IMAGES;
    __m512 a[MAX_ACCUMULATORS];
#pragma GCC unroll 32
    for (int i = 0; i < KB * KW; i++) a[i] = acc[i];
    for (int64_t oh = 0; oh < plan->out_height; oh++) {
        const float* zr = z + oh * out_w * IMAGES;
        const float* xr = x + oh * row_step;
        __m512 xv[HC_CONV2D_WEIGHTS_MAX_WIDTH];
        if (SLIDE) {
#pragma GCC unroll 8
            for (int s = 0; s < KW - 1; s++) xv[s + 1] = _mm512_load_ps(xr + s * IMAGES);
        }
        for (int64_t ow = 0; ow < out_w; ow++) {
            if (SLIDE) {
#pragma GCC unroll 8
                for (int s = 0; s < KW - 1; s++) xv[s] = xv[s + 1];
                xv[KW - 1] = _mm512_load_ps(xr + (ow + KW - 1) * IMAGES);
            } else {
#pragma GCC unroll 8
                for (int s = 0; s < KW; s++) xv[s] = _mm512_load_ps(xr + ow * sw + s * dw);
            }
#pragma GCC unroll 8
            for (int kk = 0; kk < KB; kk++) {
                const __m512 zv = _mm512_load_ps(zr + kk * z_plane + ow * IMAGES);
#pragma GCC unroll 8
                for (int s = 0; s < KW; s++) a[kk * KW + s] = _mm512_fmadd_ps(zv, xv[s], a[kk * KW + s]);
            }
        }
    }
#pragma GCC unroll 32
    for (int i = 0; i < KB * KW; i++) acc[i] = a[i];
}

#define TASK_CASE(kb, kw)                                                   \
    case (kb) * 16 + (kw):                                                  \
        if (slide) task_block(kb, kw, true, plan, l, z, x, acc);            \
        else task_block(kb, kw, false, plan, l, z, x, acc);                 \
        break;
static void run_task_block(const hc_conv2d* plan, const lanes_layout* l, bool slide, const float* z, const float* x, __m512* acc) {
    switch (l->block * 16 + plan->desc.kernel_width) {
        HC_CONV2D_WEIGHTS_BLOCKS(TASK_CASE)
        default: break;
    }
}

/* Block b's X and Z (its zeros included) into x, and with `bias` its Z summed per output channel. */
static void fill_block(const hc_conv2d* plan, const lanes_layout* l, const hc_args* args, int64_t b, float* x, __m512* bias) {
    const hc_conv2d_desc* d = &plan->desc;
    const int64_t n0 = b * IMAGES, count = min64(IMAGES, d->batch - n0), k_per_group = d->out_channels / d->groups;
    const int64_t out_plane = plan->out_height * plan->out_width;
    float* z = x + l->x_floats;
    /* Zeros where nothing is copied: X's padding (all of X, the simplest), Z's padding planes. */
    memset(x, 0, (size_t)l->x_floats * sizeof(float));
    for (int64_t g = 0; g < d->groups; g++)
        memset(z + (g * l->k_padded + k_per_group) * out_plane * IMAGES, 0, (size_t)((l->k_padded - k_per_group) * out_plane * IMAGES) * sizeof(float));
    const hc_lanes_place x_place = {.to = x, .rows = l->rows, .columns = l->columns, .top = d->pad_top, .left = d->pad_left};
    hc_lanes_fill(hc_arg_in(args, HC_ARG_SRC), NULL, HC_ACTIVATION_NONE, 0.0f, d->in_channels * d->in_height * d->in_width, d->in_channels,
                  d->in_height, d->in_width, n0, count, x_place);
    const float* y = d->activation != HC_ACTIVATION_NONE ? hc_arg_in(args, HC_ARG_DST) : NULL;
    for (int64_t g = 0; g < d->groups; g++) {
        /* The group's channels, k_padded planes apart: its padding planes stay zero. */
        const hc_lanes_place z_place = {.to = z + g * l->k_padded * out_plane * IMAGES, .rows = plan->out_height, .columns = plan->out_width};
        const int64_t first = g * k_per_group * out_plane;
        hc_lanes_fill(hc_arg_in(args, HC_ARG_DIFF_DST) + first, y != NULL ? y + first : NULL, d->activation, d->activation_alpha,
                      d->out_channels * out_plane, k_per_group, plan->out_height, plan->out_width, n0, count, z_place);
    }
    if (bias == NULL) return;
    for (int64_t k = 0; k < d->groups * l->k_padded; k++) {
        __m512 sum = _mm512_setzero_ps();
        for (int64_t p = 0; p < out_plane; p++) sum = _mm512_add_ps(sum, _mm512_load_ps(z + (k * out_plane + p) * IMAGES));
        bias[k] = sum;
    }
}

/* One task per block of 16 images, with no barrier (threads wait asleep, hpccnn.h): its layout
 * filled in the thread's workspace, then every (channel, kernel row, output block) over it into
 * the block's partial sums. The calling thread then adds the blocks' partial sums in order. */
static hc_status run_lanes(const hc_plan* base, const hc_args* args) {
    const hc_conv2d* plan = hc_conv(base);
    const hc_conv2d_desc* d = &plan->desc;
    const lanes_layout layout = layout_of(plan);
    const lanes_layout* l = &layout;
    float* dw = hc_arg_out(args, HC_ARG_DIFF_WEIGHTS);
    float* db = hc_arg_out(args, HC_ARG_DIFF_BIAS);
    const int64_t k_per_group = d->out_channels / d->groups, c_per_group = d->in_channels / d->groups;
    const int64_t kh = d->kernel_height, kw = d->kernel_width, k_blocks = l->k_padded / l->block;
    const int64_t tasks = d->groups * c_per_group * kh * k_blocks, per_task = l->block * kw, channels = d->groups * l->k_padded;
    /* Per block: every task's sums, then every output channel's bias sum, each lanes reduced. */
    const int64_t partial_floats = tasks * per_task + channels;
    float* partials = hc_aligned_alloc((size_t)(l->blocks * partial_floats) * sizeof(float));
    if (partials == NULL) return hc_fail(HC_STATUS_OUT_OF_MEMORY, "out of memory for the blocks' partial sums");
    const bool slide = d->stride_width == 1 && d->dilation_width == 1;
    const int threads = (int)min64(l->blocks, hc_conv2d_backward_threads(plan));
    int failed = 0, finished = 0;
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
#pragma omp for schedule(dynamic, 1) nowait
        for (int64_t b = 0; b < l->blocks; b++) {
            /* The block's X and Z, then its bias sums per output channel. */
            float* x = hc_item_workspace((size_t)(l->x_floats + l->z_floats + channels * IMAGES) * sizeof(float), &failed);
            if (x == NULL) continue;
            float* partial = partials + b * partial_floats;
            __m512* bias = (__m512*)(x + l->x_floats + l->z_floats);
            fill_block(plan, l, args, b, x, db != NULL ? bias : NULL);
            if (db != NULL)
                for (int64_t k = 0; k < channels; k++) partial[tasks * per_task + k] = _mm512_reduce_add_ps(bias[k]);
            __m512 sums[MAX_ACCUMULATORS];
            for (int64_t t = 0; t < tasks; t++) {
                const int64_t kb = t % k_blocks, r = t / k_blocks % kh, c = t / (k_blocks * kh) % c_per_group, g = t / (k_blocks * kh * c_per_group);
                const float* z = x + l->x_floats + (g * l->k_padded + kb * l->block) * plan->out_height * plan->out_width * IMAGES;
                for (int64_t i = 0; i < per_task; i++) sums[i] = _mm512_setzero_ps();
                run_task_block(plan, l, slide, z, x + ((g * c_per_group + c) * l->rows + r * d->dilation_height) * l->columns * IMAGES, sums);
                for (int64_t i = 0; i < per_task; i++) partial[t * per_task + i] = _mm512_reduce_add_ps(sums[i]);
            }
        }
        hc_parallel_join(&finished);
    }
    if (failed) {
        hc_aligned_free(partials);
        return hc_fail(HC_STATUS_OUT_OF_MEMORY, "out of memory for the images' lanes");
    }
    for (int64_t t = 0; t < tasks; t++) {
        const int64_t kb = t % k_blocks, r = t / k_blocks % kh, c = t / (k_blocks * kh) % c_per_group, g = t / (k_blocks * kh * c_per_group);
        for (int64_t kk = 0; kk < l->block && kb * l->block + kk < k_per_group; kk++)
            for (int64_t s = 0; s < kw; s++) {
                float sum = 0.0f;
                for (int64_t b = 0; b < l->blocks; b++) sum += partials[b * partial_floats + t * per_task + kk * kw + s];
                dw[(((g * k_per_group + kb * l->block + kk) * c_per_group + c) * kh + r) * kw + s] = sum;
            }
    }
    if (db != NULL)
        for (int64_t k = 0; k < d->out_channels; k++) {
            const int64_t at = tasks * per_task + k / k_per_group * l->k_padded + k % k_per_group;
            float sum = 0.0f;
            for (int64_t b = 0; b < l->blocks; b++) sum += partials[b * partial_floats + at];
            db[k] = sum;
        }
    hc_aligned_free(partials);
    return HC_STATUS_OK;
}

const hc_algorithm hc_conv2d_backward_weights_lanes_avx512 = {
    .name = "lanes_few_channels_avx512", .isa = HC_ISA_AVX512, .accepts = accepts_lanes, .pack = NULL, .run = run_lanes};
