/* Pooling kernels for AVX2: the separable template (pool2d_separable.inc.c) with 8-wide
 * vectors, and a dedicated 2x2 stride-2 kernel. Compiled with -mavx2 -mfma (this file only). */
#include <immintrin.h>

#include "pool2d_internal.h"

#define VEC __m256
#define VEC_WIDTH 8
#define vec_load _mm256_loadu_ps
#define vec_store _mm256_storeu_ps
#define vec_set1 _mm256_set1_ps
#define vec_max hc_max_nan8
#define vec_add _mm256_add_ps
#define vec_mul _mm256_mul_ps
#define vec_div _mm256_div_ps

/* Output tails go through a small array: AVX2's vmaskmov is slow on AMD (it made pooling 40% slower). */
static inline __m256 vec_load_tail(const float* p, int64_t n) {
    float lanes[8] = {0};
    for (int64_t i = 0; i < n; i++) lanes[i] = p[i];
    return _mm256_loadu_ps(lanes);
}

static inline void vec_store_tail(float* p, __m256 v, int64_t n) {
    float lanes[8];
    _mm256_storeu_ps(lanes, v);
    for (int64_t i = 0; i < n; i++) p[i] = lanes[i];
}

/* even[i] = row[2i], odd[i] = row[2i+1] for i < half. */
static void split_even_odd(const float* row, int64_t half, float* even, float* odd) {
    int64_t i = 0;
    for (; i + 8 <= half; i += 8) {
        const __m256 lo = _mm256_loadu_ps(row + 2 * i), hi = _mm256_loadu_ps(row + 2 * i + 8);
        const __m256 e = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0)); /* lanes 0 2 8 10 | 4 6 12 14 */
        const __m256 o = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(3, 1, 3, 1));
        _mm256_storeu_ps(even + i, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), _MM_SHUFFLE(3, 1, 2, 0))));
        _mm256_storeu_ps(odd + i, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(o), _MM_SHUFFLE(3, 1, 2, 0))));
    }
    for (; i < half; i++) {
        even[i] = row[2 * i];
        odd[i] = row[2 * i + 1];
    }
}

#define SEPARABLE hc_pool2d_separable_avx2
#define SEPARABLE_NAME "separable_avx2"
#define SEPARABLE_ISA HC_ISA_AVX2
#define SEPARABLE_MASKED_TAILS 0     /* a tail through a small array stalls store forwarding */
#define SEPARABLE_UNIT_STRIDE_ONLY 0
#include "pool2d_separable.inc.c"

/* 2x2 windows, stride 2, no padding (the common downsampling): per 8 outputs, four loads, two
 * vertical combines, then even/odd lanes split with shuffles and combined. */
static bool accepts_2x2s2(const hc_pool2d* plan) {
    const hc_pool2d_desc* d = &plan->desc;
    return d->kernel_height == 2 && d->kernel_width == 2 && d->stride_height == 2 && d->stride_width == 2 &&
           d->pad_top == 0 && d->pad_bottom == 0 && d->pad_left == 0 && d->pad_right == 0 && d->in_width < (INT64_C(1) << 24);
}

static inline __m256 pairs8(__m256 lo, __m256 hi, bool is_max) {
    const __m256 even = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0));
    const __m256 odd = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(3, 1, 3, 1));
    const __m256 v = combine(even, odd, is_max); /* lanes: 0 1 4 5 | 2 3 6 7 */
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(v), _MM_SHUFFLE(3, 1, 2, 0)));
}

static inline __attribute__((always_inline)) void pool_plane_2x2s2_of(const hc_pool2d* plan, const float* x, float* y, const bool is_max) {
    const int64_t width = plan->desc.in_width, out_w = plan->out_width;
    const __m256 quarter = _mm256_set1_ps(0.25f);
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    for (int64_t oh = 0; oh < plan->out_height; oh++) {
        const float* top = x + 2 * oh * width;
        const float* bottom = top + width;
        float* out = y + oh * out_w;
        for (int64_t ow = 0; ow < out_w; ow += 8) {
            const int64_t lanes = out_w - ow;
            __m256 lo, hi;
            if (lanes >= 8) {
                lo = combine(_mm256_loadu_ps(top + 2 * ow), _mm256_loadu_ps(bottom + 2 * ow), is_max);
                hi = combine(_mm256_loadu_ps(top + 2 * ow + 8), _mm256_loadu_ps(bottom + 2 * ow + 8), is_max);
            } else {
                /* Tail: only the 2*lanes columns that exist are read; the other lanes are discarded. */
                const __m256i mask_lo = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(2 * lanes)), iota);
                const __m256i mask_hi = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(2 * lanes - 8)), iota);
                lo = combine(_mm256_maskload_ps(top + 2 * ow, mask_lo), _mm256_maskload_ps(bottom + 2 * ow, mask_lo), is_max);
                hi = combine(_mm256_maskload_ps(top + 2 * ow + 8, mask_hi), _mm256_maskload_ps(bottom + 2 * ow + 8, mask_hi), is_max);
            }
            __m256 v = pairs8(lo, hi, is_max);
            if (!is_max) v = _mm256_mul_ps(v, quarter); /* exact: a power of two */
            if (lanes >= 8) {
                _mm256_storeu_ps(out + ow, v);
            } else {
                _mm256_maskstore_ps(out + ow, _mm256_cmpgt_epi32(_mm256_set1_epi32((int)lanes), iota), v);
            }
        }
    }
}

/* One copy for max and one for the average, so the loop does not test which it is. */
static void pool_plane_2x2s2(const hc_pool2d* plan, const float* x, float* y, float* unused) {
    (void)unused;
    if (plan->desc.algorithm == HC_POOL_MAX)
        pool_plane_2x2s2_of(plan, x, y, true);
    else
        pool_plane_2x2s2_of(plan, x, y, false);
}

static hc_status run_2x2s2(const hc_pool2d* plan, const float* input, float* output) {
    return hc_pool2d_run_planes(plan, input, output, 0, pool_plane_2x2s2);
}

HC_POOL2D_FORWARD_ALGORITHM(hc_pool2d_2x2s2_avx2, "2x2s2_avx2", HC_ISA_AVX2, accepts_2x2s2, run_2x2s2);
