/* 3x3 windows with stride 2 and left padding 0 or 1 (ResNet-style downsampling), AVX-512F.
 * Per output row: the window's input rows are combined into one row (16-wide, masked tail),
 * stored between pad values; then for 16 outputs the three taps 2ow-p+{0,1,2} are the even,
 * odd and shifted-even lanes of two pairs of loads, picked with vpermt2ps. One task per
 * (image, channel) plane, so results do not depend on the thread count.
 * Compiled with -mavx512f (this file only). */
#include <immintrin.h>
#include <math.h>

#include "../core/avx512.h"
#include "pool2d_internal.h"

static bool accepts_3x3s2(const hc_pool2d* plan) {
    const hc_pool2d_desc* d = &plan->desc;
    /* The combined row keeps one pad value before column 0; rows, and columns on the right, take any padding. */
    return d->kernel_height == 3 && d->kernel_width == 3 && d->stride_height == 2 && d->stride_width == 2 && d->pad_left <= 1 &&
           d->in_width < (INT64_C(1) << 24);
}

static inline __m512 combine(__m512 a, __m512 b, bool is_max) { return is_max ? hc_max_nan16(a, b) : _mm512_add_ps(a, b); }

static inline __attribute__((always_inline)) void pool_plane(const hc_pool2d* plan, const float* x, float* y, float* scratch, const bool is_max) {
    const hc_pool2d_desc* d = &plan->desc;
    const float pad_value = is_max ? -INFINITY : 0.0f;
    const int64_t width = d->in_width, out_w = plan->out_width;
    const int64_t row_length = 1 + width + 2 * out_w + 64;
    float* row = scratch;                      /* row[1 + w] = combined input column w */
    float* column_count = scratch + row_length; /* elements of each output's window inside the image */
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);

    for (int64_t i = 0; i < row_length; i += 16) _mm512_storeu_ps(row + i, _mm512_set1_ps(pad_value));
    for (int64_t ow = 0; ow < out_w; ow++) {
        const int64_t left = 2 * ow - d->pad_left;
        column_count[ow] = (float)((left + 3 < width ? left + 3 : width) - (left < 0 ? 0 : left));
    }
    /* The last vector divides unused lanes too: give them 1, not leftover bits (a denormal
     * divisor costs a microcode assist per lane). */
    for (int64_t ow = out_w; ow < out_w + 16; ow++) column_count[ow] = 1.0f;
    const float* taps = row + 1 - d->pad_left; /* taps[2ow + s] is window column s of output ow */
    for (int64_t oh = 0; oh < plan->out_height; oh++) {
        const int64_t top = 2 * oh - d->pad_top;
        const int64_t h0 = top < 0 ? 0 : top, h1 = top + 3 < d->in_height ? top + 3 : d->in_height;
        for (int64_t w = 0; w < width; w += 16) {
            const __mmask16 lanes = hc_first_lanes16(width - w);
            __m512 v = _mm512_maskz_loadu_ps(lanes, x + h0 * width + w);
            for (int64_t h = h0 + 1; h < h1; h++) v = combine(v, _mm512_maskz_loadu_ps(lanes, x + h * width + w), is_max);
            _mm512_mask_storeu_ps(row + 1 + w, lanes, v);
        }
        float* out = y + oh * out_w;
        for (int64_t ow = 0; ow < out_w; ow += 16) {
            const float* t = taps + 2 * ow;
            const __m512 lo = _mm512_loadu_ps(t), hi = _mm512_loadu_ps(t + 16);
            const __m512 lo2 = _mm512_loadu_ps(t + 2), hi2 = _mm512_loadu_ps(t + 18);
            __m512 v = combine(combine(_mm512_permutex2var_ps(lo, even, hi), _mm512_permutex2var_ps(lo, odd, hi), is_max),
                               _mm512_permutex2var_ps(lo2, even, hi2), is_max);
            if (!is_max) {
                const __m512 count = d->algorithm == HC_POOL_AVERAGE_INCLUDE_PADDING
                                         ? _mm512_set1_ps(9.0f)
                                         : _mm512_mul_ps(_mm512_set1_ps((float)(h1 - h0)), _mm512_loadu_ps(column_count + ow));
                v = _mm512_div_ps(v, count);
            }
            _mm512_mask_storeu_ps(out + ow, hc_first_lanes16(out_w - ow), v);
        }
    }
}

/* One copy per algorithm, so neither inner loop tests which it is. */
static void pool_plane_3x3s2(const hc_pool2d* plan, const float* x, float* y, float* scratch) {
    if (plan->desc.algorithm == HC_POOL_MAX)
        pool_plane(plan, x, y, scratch, true);
    else
        pool_plane(plan, x, y, scratch, false);
}

static hc_status run_3x3s2(const hc_pool2d* plan, const float* input, float* output) {
    /* the padded row, then per-column counts (+ a vector of slack for the last load) */
    const size_t scratch_bytes = (size_t)(1 + plan->desc.in_width + 3 * plan->out_width + 64 + 32) * sizeof(float);
    return hc_pool2d_run_planes(plan, input, output, scratch_bytes, pool_plane_3x3s2);
}

HC_POOL2D_FORWARD_ALGORITHM(hc_pool2d_3x3s2_avx512, "3x3s2_avx512", HC_ISA_AVX512, accepts_3x3s2, run_3x3s2);
