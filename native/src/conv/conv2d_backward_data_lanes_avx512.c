/* Backward data of a stride-1 convolution with few channels on small planes, 16 images to a
 * vector, AVX-512F.
 *
 * Run as a forward convolution over dL/dz padded by the kernel's reach (as_forward), LeNet's
 * second layer (16 -> 6 channels, 5x5 on 10x10 outputs) multiplies more padding zeros than
 * values: the reach is nearly as wide as the plane. Here a vector's lanes are images, not pixels:
 *   z[k][u][v][m]  = dL/dz[n0 + m][k][u - top][v - left], zero outside the plane,
 *   dx[c][i][j][m] = Σ_k Σ_r Σ_s w[k][c][r][s] · z[k][i + (kh-1)·dh - r·dh][j + (kw-1)·dw - s·dw][m],
 * where kernel rows that land outside dL/dz are skipped for the whole row (exact) and kernel
 * columns for a whole tile, so padding is multiplied only at the ends of rows. A tile is CB input
 * channels by QB pixels of a row: CB·QB accumulators, per tap QB loads and CB broadcasts. Images
 * go into the lanes 16 at a time through in-register transposes (the activation's derivative
 * taken on the way in, with no separate pass over dL/dy) and come back out the same way.
 *
 * Determinism: each dL/dx element is summed by one tile in (k, r, s) order and each block of 16
 * images is one task: the same bits at any thread count. Compiled with -mavx512f (this file only). */
#include <immintrin.h>
#include <string.h>

#include "conv2d_internal.h"
#include "conv2d_lanes_avx512.h"

#define CB 6 /* input channels per tile */
#define QB 4 /* pixels per tile */
#define IMAGES HC_LANE_IMAGES

static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
static int64_t round_up(int64_t a, int64_t b) { return ceil_div(a, b) * b; }
static int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

typedef struct lanes_layout {
    int64_t rows, columns; /* U, V: z's rows and columns */
    int64_t top, left;     /* where dL/dz starts in z */
    int64_t row_pixels;    /* in_w rounded up to QB: dx's columns in the transposed layout */
    int64_t c_padded;      /* input channels rounded up to CB */
    int64_t z_floats, dx_floats;
} lanes_layout;

static lanes_layout layout_of(const hc_conv2d* plan) {
    const hc_conv2d_desc* d = &plan->desc;
    lanes_layout l;
    l.row_pixels = round_up(d->in_width, QB);
    l.rows = d->in_height + (d->kernel_height - 1) * d->dilation_height;
    l.columns = l.row_pixels + (d->kernel_width - 1) * d->dilation_width;
    l.top = (d->kernel_height - 1) * d->dilation_height - d->pad_top;
    l.left = (d->kernel_width - 1) * d->dilation_width - d->pad_left;
    l.c_padded = round_up(d->in_channels, CB);
    l.z_floats = hc_saturating_product(d->out_channels, l.rows, l.columns, IMAGES);
    l.dx_floats = hc_saturating_product(l.c_padded, d->in_height, l.row_pixels, IMAGES);
    return l;
}

/* Plain stride-1 convolutions whose padding the kernel's reach covers (as for as_forward) with 16
 * images or more, fewer than 32 input channels (from 32 on, as_forward's blocked kernel is faster)
 * and planes of up to 256 pixels, where as_forward computes at least 1.25 outputs (its rows
 * widened by the reach, padding rows included) per dL/dz element; and z within the L2. Measured
 * (Zen 5, 1 thread): 5x5 on 10x10 dL/dz 2.1x as fast, 3x3 with padding 1 on 14x14 (1.14) 3-14 %
 * slower, 28x28 planes 20-26 % slower. */
static bool accepts_lanes(const hc_plan* base) {
    const hc_conv2d* plan = hc_conv(base);
    const hc_conv2d_desc* d = &plan->desc;
    if (d->groups != 1 || d->stride_height != 1 || d->stride_width != 1 || d->batch < IMAGES || d->in_channels > 32) return false;
    if (d->pad_top > d->dilation_height * (d->kernel_height - 1) || d->pad_bottom > d->dilation_height * (d->kernel_height - 1) ||
        d->pad_left > d->dilation_width * (d->kernel_width - 1) || d->pad_right > d->dilation_width * (d->kernel_width - 1))
        return false;
    if (d->kernel_height > 16 || d->kernel_width > 16) return false;
    const double as_forward_outputs = (double)d->in_height * (double)(d->in_width + (d->kernel_width - 1) * d->dilation_width);
    if (as_forward_outputs < 1.25 * (double)plan->out_height * (double)plan->out_width) return false;
    const lanes_layout l = layout_of(plan);
    return l.z_floats <= hc_l2_cache_bytes() / (int64_t)sizeof(float) && l.dx_floats <= hc_l2_cache_bytes() / (int64_t)sizeof(float);
}

/* packed[((cb·K + k)·taps + t)·CB + c] = w[k][cb·CB + c][t], zero past the last channel. */
static hc_status pack_lanes(hc_plan* base) {
    const hc_conv2d* plan = hc_conv(base);
    const hc_conv2d_desc* d = &plan->desc;
    const int64_t taps = d->kernel_height * d->kernel_width, k_count = d->out_channels, c_padded = round_up(d->in_channels, CB);
    float* packed = hc_plan_packed(base, (size_t)(c_padded * k_count * taps) * sizeof(float));
    if (packed == NULL) return hc_fail(HC_STATUS_OUT_OF_MEMORY, "out of memory packing the weights");
    for (int64_t cb = 0; cb < c_padded / CB; cb++)
        for (int64_t k = 0; k < k_count; k++)
            for (int64_t t = 0; t < taps; t++)
                for (int64_t c = 0; c < CB; c++) {
                    const int64_t channel = cb * CB + c;
                    packed[((cb * k_count + k) * taps + t) * CB + c] =
                        channel < d->in_channels ? base->weights[(k * d->in_channels + channel) * taps + t] : 0.0f;
                }
    return HC_STATUS_OK;
}

/* The transposed dL/dx of channels [0, in_channels) back to images [n0, n0 + count). */
static void drain_lanes(const hc_conv2d* plan, const lanes_layout* l, const float* lanes, int64_t n0, int64_t count, float* dx) {
    const hc_conv2d_desc* d = &plan->desc;
    const int64_t in_w = d->in_width, in_plane = d->in_height * in_w, image = d->in_channels * in_plane;
    for (int64_t c = 0; c < d->in_channels; c++)
        for (int64_t i = 0; i < d->in_height; i++)
            for (int64_t col = 0; col < in_w; col += 16) {
                const int64_t columns = min64(16, in_w - col);
                const float* from = lanes + ((c * d->in_height + i) * l->row_pixels + col) * IMAGES;
                __m512 v[16];
                for (int64_t t = 0; t < 16; t++) v[t] = t < columns ? _mm512_load_ps(from + t * IMAGES) : _mm512_setzero_ps();
                hc_transpose16x16(v);
                const __mmask16 inside = hc_first_lanes16(columns);
                for (int64_t m = 0; m < count; m++) _mm512_mask_storeu_ps(dx + (n0 + m) * image + c * in_plane + i * in_w + col, inside, v[m]);
            }
}

/* One tile: channels cb·CB .. +CB, row i, pixels j0 .. j0+QB-1, into the transposed dL/dx. */
static inline __attribute__((always_inline)) void tile(const hc_conv2d* plan, const lanes_layout* l, const float* z, const float* w_block,
                                                       int64_t i, int64_t j0, int64_t r_lo, int64_t r_hi, float* out) {
    const hc_conv2d_desc* d = &plan->desc;
    const int64_t kw = d->kernel_width, dh = d->dilation_height, dw = d->dilation_width, taps = d->kernel_height * kw;
    /* Kernel columns that reach dL/dz for some pixel of the tile. */
    const int64_t s_lo = max64(0, floor_div(j0 + d->pad_left - plan->out_width, dw) + 1);
    const int64_t s_hi = min64(kw, floor_div(j0 + QB - 1 + d->pad_left, dw) + 1);
    __m512 acc[CB][QB];
    for (int c = 0; c < CB; c++)
        for (int q = 0; q < QB; q++) acc[c][q] = _mm512_setzero_ps();
    const int64_t u0 = i + (d->kernel_height - 1) * dh, v0 = j0 + (kw - 1) * dw;
    for (int64_t k = 0; k < d->out_channels; k++) {
        const float* zk = z + k * l->rows * l->columns * IMAGES;
        const float* wk = w_block + k * taps * CB;
        for (int64_t r = r_lo; r < r_hi; r++) {
            const float* row = zk + ((u0 - r * dh) * l->columns + v0) * IMAGES;
            const float* wr = wk + r * kw * CB;
            for (int64_t s = s_lo; s < s_hi; s++) {
                const float* in = row - s * dw * IMAGES;
                __m512 x[QB];
                for (int q = 0; q < QB; q++) x[q] = _mm512_load_ps(in + q * IMAGES);
                for (int c = 0; c < CB; c++) {
                    const __m512 wv = _mm512_set1_ps(wr[s * CB + c]);
                    for (int q = 0; q < QB; q++) acc[c][q] = _mm512_fmadd_ps(wv, x[q], acc[c][q]);
                }
            }
        }
    }
    for (int c = 0; c < CB; c++)
        for (int q = 0; q < QB; q++) _mm512_store_ps(out + (c * d->in_height * l->row_pixels + q) * IMAGES, acc[c][q]);
}

static void block_of_images(const hc_conv2d* plan, const lanes_layout* l, const float* z, float* lanes) {
    const hc_conv2d_desc* d = &plan->desc;
    const int64_t taps = d->kernel_height * d->kernel_width, dh = d->dilation_height;
    for (int64_t cb = 0; cb < l->c_padded / CB; cb++) {
        const float* w_block = plan->base.packed + cb * d->out_channels * taps * CB;
        for (int64_t i = 0; i < d->in_height; i++) {
            /* Kernel rows whose dL/dz row exists: i + pad_top - out_h < r·dh <= i + pad_top. */
            const int64_t r_lo = max64(0, floor_div(i + d->pad_top - plan->out_height, dh) + 1);
            const int64_t r_hi = min64(d->kernel_height, floor_div(i + d->pad_top, dh) + 1);
            for (int64_t j0 = 0; j0 < l->row_pixels; j0 += QB)
                tile(plan, l, z, w_block, i, j0, r_lo, r_hi, lanes + ((cb * CB * d->in_height + i) * l->row_pixels + j0) * IMAGES);
        }
    }
}

static hc_status run_lanes(const hc_plan* base, const hc_args* args) {
    const hc_conv2d* plan = hc_conv(base);
    const hc_conv2d_desc* d = &plan->desc;
    const lanes_layout layout = layout_of(plan);
    const float* dy = hc_arg_in(args, HC_ARG_DIFF_DST);
    const float* y = d->activation != HC_ACTIVATION_NONE ? hc_arg_in(args, HC_ARG_DST) : NULL;
    float* dx = hc_arg_out(args, HC_ARG_DIFF_SRC);
    const int64_t blocks = ceil_div(d->batch, IMAGES);
    const int threads = (int)min64(blocks, hc_conv2d_backward_threads(plan));
    int failed = 0, finished = 0;
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
        float* z = hc_thread_workspace((size_t)(layout.z_floats + layout.dx_floats) * sizeof(float));
        if (z == NULL) {
#pragma omp atomic write
            failed = 1;
        } else {
            memset(z, 0, (size_t)layout.z_floats * sizeof(float));
        }
#pragma omp for schedule(dynamic, 1) nowait
        for (int64_t b = 0; b < blocks; b++) {
            if (z == NULL) continue;
            const int64_t n0 = b * IMAGES, count = min64(IMAGES, d->batch - n0);
            float* lanes = z + layout.z_floats;
            const hc_lanes_place place = {.to = z, .rows = layout.rows, .columns = layout.columns, .top = layout.top, .left = layout.left};
            hc_lanes_fill(dy, y, d->activation, d->activation_alpha, d->out_channels * plan->out_height * plan->out_width, d->out_channels,
                          plan->out_height, plan->out_width, n0, count, place);
            block_of_images(plan, &layout, z, lanes);
            drain_lanes(plan, &layout, lanes, n0, count, dx);
        }
        hc_parallel_join(&finished);
    }
    if (failed) return hc_fail(HC_STATUS_OUT_OF_MEMORY, "out of memory for the images' lanes");
    return hc_conv2d_backward_data_fix_nan(plan, args, dx);
}

const hc_algorithm hc_conv2d_backward_data_lanes_avx512 = {
    .name = "lanes_6x4_avx512", .isa = HC_ISA_AVX512, .accepts = accepts_lanes, .pack = pack_lanes, .run = run_lanes};
