/* Forward convolution with few channels, 16 images to a vector, AVX-512F.
 *
 * With LeNet's channel counts (1 -> 6 and 6 -> 16, 5x5) the GEMM's panels are a handful of rows
 * and the pixel-vector kernels compute padding and the columns between rows; backward data run as
 * a forward convolution (as_forward) over dL/dy padded by the kernel's reach multiplies more
 * padding zeros than values when the reach is nearly as wide as the plane. Here a vector's lanes
 * are images:
 *   X[c][u][v][m]   = x[n0 + m][c][u - pad_top][v - pad_left], zero outside the image,
 *   y[k][oh][ow][m] = f(b[k] + Σ_c Σ_r Σ_s w[k][c][r][s] · X[c][oh·sh + r·dh][ow·sw + s·dw][m]),
 * a tile of KB output channels by QB pixels of a row in registers (per tap QB loads, KB
 * broadcasts). With finite weights, kernel rows that land in padding are skipped for the whole
 * row and kernel columns for the whole tile (padding times a finite weight adds nothing); an
 * infinite or NaN weight times padding is NaN (hpccnn.h), so then every tap runs. Images go into
 * the lanes 16 at a time through in-register transposes and come back out the same way
 * (conv2d_lanes_avx512.h).
 *
 * Determinism: each output is summed by one tile, bias first, in (c, r, s) order; each block of
 * 16 images is one task: the same bits at any thread count. */
#include <immintrin.h>
#include <string.h>

#include "conv2d_internal.h"
#include "conv2d_lanes_avx512.h"

#define KB 6 /* output channels per tile */
#define QB 4 /* pixels per tile */
#define IMAGES HC_LANE_IMAGES

static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
static int64_t round_up(int64_t a, int64_t b) { return ceil_div(a, b) * b; }
static int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
static int64_t ceil_div_signed(int64_t a, int64_t b) { return -floor_div(-a, b); }
static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

typedef struct lanes_layout {
    int64_t rows, columns; /* X: the input rows and columns the outputs reach, padding included */
    int64_t out_columns;   /* out_w rounded up to QB */
    int64_t k_padded;      /* output channels rounded up to KB */
    int64_t x_floats, y_floats;
} lanes_layout;

static lanes_layout layout_of(const hc_conv2d* plan) {
    const hc_conv2d_desc* d = &plan->desc;
    lanes_layout l;
    l.out_columns = round_up(plan->out_width, QB);
    l.rows = (plan->out_height - 1) * d->stride_height + (d->kernel_height - 1) * d->dilation_height + 1;
    l.columns = (l.out_columns - 1) * d->stride_width + (d->kernel_width - 1) * d->dilation_width + 1;
    l.k_padded = round_up(d->out_channels, KB);
    l.x_floats = hc_saturating_product(d->in_channels, l.rows, l.columns, IMAGES);
    l.y_floats = hc_saturating_product(l.k_padded, plan->out_height, l.out_columns, IMAGES);
    return l;
}

/* 16 images or more, fewer than 32 output channels (from 32 on the direct 6x64 kernels are
 * faster), up to 64 input channels, one block's layouts within the L2; and up to 8 input channels,
 * or a reach that would make the pixel-row kernels compute 1.25 or more outputs (rows widened by
 * it) per input pixel. The last is backward data run as a forward convolution over dL/dy padded by
 * the kernel's reach (as_forward), LeNet's second layer's 5x5 on 10x10 among them. Measured (Zen 5,
 * 1 thread): 2.1x as_forward's flat kernel there; 3x3 with padding 1 on 14x14 (1.14) 3-14 % slower. */
static bool accepts_lanes(const hc_conv2d* plan) {
    const hc_conv2d_desc* d = &plan->desc;
    if (d->groups != 1 || d->batch < IMAGES || d->in_channels > 64 || d->out_channels >= 32) return false;
    if (d->kernel_height > 16 || d->kernel_width > 16 || d->pad_top >= (INT64_C(1) << 24) || d->pad_left >= (INT64_C(1) << 24)) return false;
    const double widened_outputs = (double)plan->out_height * (double)(plan->out_width + (d->kernel_width - 1) * d->dilation_width);
    if (d->in_channels > 8 && widened_outputs < 1.25 * (double)d->in_height * (double)d->in_width) return false;
    const lanes_layout l = layout_of(plan);
    const int64_t budget = hc_l2_cache_bytes() / (int64_t)sizeof(float);
    return l.x_floats <= budget && l.y_floats <= budget;
}

/* packed[((kb·C + c)·taps + t)·KB + kk] = w[kb·KB + kk][c][t], zero past the last output channel;
 * then the bias, k_padded floats (zero without one); then 1 when every weight is finite, else 0. */
static hc_status pack_lanes(hc_conv2d* plan) {
    const hc_conv2d_desc* d = &plan->desc;
    const int64_t taps = d->kernel_height * d->kernel_width, c_count = d->in_channels, k_padded = round_up(d->out_channels, KB);
    float* packed = hc_plan_packed(&plan->base, (size_t)(k_padded * c_count * taps + k_padded + 1) * sizeof(float));
    if (packed == NULL) return hc_fail(HC_STATUS_OUT_OF_MEMORY, "out of memory packing the weights");
    for (int64_t kb = 0; kb < k_padded / KB; kb++)
        for (int64_t c = 0; c < c_count; c++)
            for (int64_t t = 0; t < taps; t++)
                for (int64_t kk = 0; kk < KB; kk++) {
                    const int64_t k = kb * KB + kk;
                    packed[((kb * c_count + c) * taps + t) * KB + kk] = k < d->out_channels ? plan->base.weights[(k * c_count + c) * taps + t] : 0.0f;
                }
    float* bias = packed + k_padded * c_count * taps;
    for (int64_t k = 0; k < k_padded; k++) bias[k] = plan->base.bias != NULL && k < d->out_channels ? plan->base.bias[k] : 0.0f;
    bias[k_padded] = hc_any_non_finite(plan->base.weights, d->out_channels * c_count * taps) ? 0.0f : 1.0f;
    return HC_STATUS_OK;
}

/* One tile: output channels kb·KB .. +KB, row oh, pixels ow0 .. ow0+QB-1, into the lanes of y. */
static inline __attribute__((always_inline)) void tile(const hc_conv2d* plan, const lanes_layout* l, const float* x, const float* w_block,
                                                       const float* bias, bool skip_padding, int64_t oh, int64_t ow0, float* out) {
    const hc_conv2d_desc* d = &plan->desc;
    const int64_t kh = d->kernel_height, kw = d->kernel_width, taps = kh * kw, sw = d->stride_width, dh = d->dilation_height, dw = d->dilation_width;
    /* Kernel rows whose input row is inside the image, kernel columns inside it for some pixel. */
    const int64_t top = d->pad_top - oh * d->stride_height;
    const int64_t r_lo = skip_padding ? max64(0, ceil_div_signed(top, dh)) : 0;
    const int64_t r_hi = skip_padding ? min64(kh, ceil_div_signed(top + d->in_height, dh)) : kh;
    const int64_t s_lo = skip_padding ? max64(0, ceil_div_signed(d->pad_left - (ow0 + QB - 1) * sw, dw)) : 0;
    const int64_t s_hi = skip_padding ? min64(kw, ceil_div_signed(d->pad_left - ow0 * sw + d->in_width, dw)) : kw;
    __m512 acc[KB][QB];
    for (int kk = 0; kk < KB; kk++)
        for (int q = 0; q < QB; q++) acc[kk][q] = _mm512_set1_ps(bias[kk]);
    const int64_t plane = l->rows * l->columns * IMAGES, row0 = oh * d->stride_height;
    for (int64_t c = 0; c < d->in_channels; c++)
        for (int64_t r = r_lo; r < r_hi; r++) {
            const float* row = x + c * plane + ((row0 + r * dh) * l->columns + ow0 * sw) * IMAGES;
            const float* wr = w_block + (c * taps + r * kw) * KB;
            for (int64_t s = s_lo; s < s_hi; s++) {
                const float* in = row + s * dw * IMAGES;
                __m512 xv[QB];
                for (int q = 0; q < QB; q++) xv[q] = _mm512_load_ps(in + q * sw * IMAGES);
                for (int kk = 0; kk < KB; kk++) {
                    const __m512 wv = _mm512_set1_ps(wr[s * KB + kk]);
                    for (int q = 0; q < QB; q++) acc[kk][q] = _mm512_fmadd_ps(wv, xv[q], acc[kk][q]);
                }
            }
        }
    const int64_t y_plane = plan->out_height * l->out_columns * IMAGES;
    for (int kk = 0; kk < KB; kk++)
        for (int q = 0; q < QB; q++)
            _mm512_store_ps(out + kk * y_plane + q * IMAGES, hc_activation_forward16(d->activation, d->activation_alpha, acc[kk][q]));
}

/* One task per block of 16 images: its inputs into their lanes, every tile, the outputs back
 * out. (Splitting each block's tiles between the threads instead costs two barriers a call,
 * which took longer than the tiles gained at two threads: threads wait asleep, hpccnn.h.) */
static hc_status run_lanes(const hc_conv2d* plan, const float* input, float* output) {
    const hc_conv2d_desc* d = &plan->desc;
    const lanes_layout layout = layout_of(plan);
    const int64_t taps = d->kernel_height * d->kernel_width, blocks = ceil_div(d->batch, IMAGES), out_h = plan->out_height;
    const float* bias = plan->base.packed + layout.k_padded * d->in_channels * taps;
    const bool skip_padding = bias[layout.k_padded] != 0.0f;
    const double flops = (double)plan->output_length * 2.0 * (double)(d->in_channels * taps);
    const int threads = (int)min64(blocks, hc_threads_for_flops(flops, plan->base.num_threads));
    int failed = 0, finished = 0;
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
#pragma omp for schedule(dynamic, 1) nowait
        for (int64_t b = 0; b < blocks; b++) {
            float* x = hc_item_workspace((size_t)(layout.x_floats + layout.y_floats) * sizeof(float), &failed);
            if (x == NULL) continue;
            float* y = x + layout.x_floats;
            const int64_t n0 = b * IMAGES, count = min64(IMAGES, d->batch - n0);
            memset(x, 0, (size_t)layout.x_floats * sizeof(float));
            const hc_lanes_place place = {.to = x, .rows = layout.rows, .columns = layout.columns, .top = d->pad_top, .left = d->pad_left};
            hc_lanes_fill(input, NULL, HC_ACTIVATION_NONE, 0.0f, d->in_channels * d->in_height * d->in_width, d->in_channels, d->in_height,
                          d->in_width, n0, count, place);
            for (int64_t kb = 0; kb < layout.k_padded / KB; kb++) {
                const float* w_block = plan->base.packed + kb * KB * d->in_channels * taps;
                for (int64_t oh = 0; oh < out_h; oh++)
                    for (int64_t ow0 = 0; ow0 < layout.out_columns; ow0 += QB)
                        tile(plan, &layout, x, w_block, bias + kb * KB, skip_padding, oh, ow0,
                             y + ((kb * KB * out_h + oh) * layout.out_columns + ow0) * IMAGES);
            }
            hc_lanes_drain(y, out_h, layout.out_columns, d->out_channels * out_h * plan->out_width, d->out_channels, out_h, plan->out_width, n0,
                           count, output);
        }
        hc_parallel_join(&finished);
    }
    return failed ? hc_fail(HC_STATUS_OUT_OF_MEMORY, "out of memory for the images' lanes") : HC_STATUS_OK;
}

HC_CONV2D_FORWARD_ALGORITHM(hc_conv2d_lanes_6x4_avx512, "lanes_6x4_avx512", HC_ISA_AVX512, accepts_lanes, pack_lanes, run_lanes);
