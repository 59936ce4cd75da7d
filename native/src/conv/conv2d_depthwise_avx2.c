/* Depthwise convolution (groups = in = out channels), direct, AVX2 + FMA3.
 *
 * Each output row is computed 32 columns at a time in four independent accumulators (one FMA
 * chain per 8 columns would be latency-bound); every tap is one unaligned load of the input row,
 * masked where the window reaches into the padding. Rows of the kernel that fall into the
 * padding multiply a zero vector instead of loading (a NaN or infinite weight there gives NaN, as
 * hpccnn.h says padding does). One task per (image, channel) plane, so results
 * do not depend on the thread count. Compiled with -mavx2 -mfma (this file only). */
#include <immintrin.h>

#include "conv2d_internal.h"

#define MAX_TAPS 64
#define VECTORS 4

/* Depthwise, multiplier 1, unit width stride, 32-bit lane indices. */
static bool accepts_depthwise_avx2(const hc_conv2d* plan) {
    const hc_conv2d_desc* d = &plan->desc;
    return d->groups == d->in_channels && d->groups == d->out_channels && d->stride_width == 1 &&
           d->kernel_height * d->kernel_width <= MAX_TAPS &&
           d->in_width + (d->pad_left + d->pad_right) + d->dilation_width * d->kernel_width < (INT64_C(1) << 28);
}

static inline __m256 load_row(const float* row, int64_t column, int64_t width) {
    if (column >= 0 && column + 8 <= width) return _mm256_loadu_ps(row + column);
    const __m256i index = _mm256_add_epi32(_mm256_set1_epi32((int)column), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    const __m256i inside = _mm256_and_si256(_mm256_cmpgt_epi32(index, _mm256_set1_epi32(-1)),
                                            _mm256_cmpgt_epi32(_mm256_set1_epi32((int)width), index));
    return _mm256_maskload_ps(row + column, inside);
}

static void depthwise_plane(const hc_conv2d* plan, const float* x, const float* w, float bias, float* y) {
    const hc_conv2d_desc* d = &plan->desc;
    const int64_t out_w = plan->out_width;
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    __m256 taps[MAX_TAPS];
    for (int64_t t = 0; t < d->kernel_height * d->kernel_width; t++) taps[t] = _mm256_set1_ps(w[t]);

    for (int64_t oh = 0; oh < plan->out_height; oh++) {
        const int64_t top = oh * d->stride_height - d->pad_top;
        int64_t r_begin = 0, r_end = d->kernel_height;
        while (r_begin < r_end && top + r_begin * d->dilation_height < 0) r_begin++;
        while (r_end > r_begin && top + (r_end - 1) * d->dilation_height >= d->in_height) r_end--;
        float* out = y + oh * out_w;
        for (int64_t ow0 = 0; ow0 < out_w; ow0 += 8 * VECTORS) {
            __m256 acc[VECTORS];
            for (int v = 0; v < VECTORS; v++) acc[v] = _mm256_set1_ps(bias);
            for (int64_t r = 0; r < d->kernel_height; r++) {
                if (r >= r_begin && r < r_end) continue; /* inside the image: loaded below */
                for (int64_t s = 0; s < d->kernel_width; s++)
                    for (int v = 0; v < VECTORS; v++) acc[v] = _mm256_fmadd_ps(taps[r * d->kernel_width + s], _mm256_setzero_ps(), acc[v]);
            }
            for (int64_t r = r_begin; r < r_end; r++) {
                const float* row = x + (top + r * d->dilation_height) * d->in_width;
                for (int64_t s = 0; s < d->kernel_width; s++) {
                    const int64_t column = ow0 - d->pad_left + s * d->dilation_width;
                    const __m256 tap = taps[r * d->kernel_width + s];
#pragma GCC unroll 4
                    for (int v = 0; v < VECTORS; v++)
                        acc[v] = _mm256_fmadd_ps(tap, load_row(row, column + 8 * v, d->in_width), acc[v]);
                }
            }
#pragma GCC unroll 4
            for (int v = 0; v < VECTORS; v++) {
                const int64_t first = ow0 + 8 * v, lanes = out_w - first;
                if (lanes <= 0) break;
                const __m256 value = hc_activation_forward8(d->activation, d->activation_alpha, acc[v]);
                if (lanes >= 8) {
                    _mm256_storeu_ps(out + first, value);
                } else {
                    _mm256_maskstore_ps(out + first, _mm256_cmpgt_epi32(_mm256_set1_epi32((int)lanes), iota), value);
                }
            }
        }
    }
}

static hc_status run_depthwise(const hc_conv2d* plan, const float* input, float* output) {
    const hc_conv2d_desc* d = &plan->desc;
    const int64_t planes = d->batch * d->in_channels, taps = d->kernel_height * d->kernel_width;
    const int64_t in_plane = d->in_height * d->in_width, out_plane = plan->out_height * plan->out_width;
    const double multiply_adds = (double)planes * (double)out_plane * (double)taps;
    const int threads = multiply_adds < 200000.0 ? 1 : hc_threads_for(hc_flops_ns(2.0 * multiply_adds), plan->base.num_threads);
    int finished = 0;
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
#pragma omp for schedule(dynamic, hc_dynamic_chunk(planes, threads)) nowait
        for (int64_t p = 0; p < planes; p++) {
            const int64_t c = p % d->in_channels;
            depthwise_plane(plan, input + p * in_plane, plan->base.weights + c * taps,
                            plan->base.bias != NULL ? plan->base.bias[c] : 0.0f, output + p * out_plane);
        }
        hc_parallel_join(&finished);
    }
    return HC_STATUS_OK;
}

HC_CONV2D_FORWARD_ALGORITHM(hc_conv2d_depthwise_avx2, "depthwise_direct_avx2", HC_ISA_AVX2, accepts_depthwise_avx2, hc_conv2d_no_pack, run_depthwise);
