/* Pooling as two passes per output row, vectorised along the width (AVX2):
 *   1. rows: combine the window's input rows (clipped to the image) into one padded row;
 *   2. columns: combine kernel_width shifted copies of that row. With stride 2 the row is first
 *      split into even and odd columns so every shifted copy is a contiguous vector load.
 * Max uses -inf and averages use 0 for the padding; averages divide by the window size or by
 * the number of elements inside the image. Any other width stride combines columns one by one.
 * One task per (image, channel) plane, so results do not depend on the thread count.
 * Compiled with -mavx2 -mfma (this file only). */
#include <immintrin.h>
#include <math.h>

#include "pool2d_internal.h"

static bool accepts_separable(const hc_pool2d* plan) {
    const hc_pool2d_desc* d = &plan->desc;
    return d->in_width + 2 * d->pad_width + d->kernel_width < (INT64_C(1) << 24);
}

static inline __m256 combine(__m256 a, __m256 b, bool is_max) { return is_max ? _mm256_max_ps(a, b) : _mm256_add_ps(a, b); }
static inline float combine1(float a, float b, bool is_max) { return is_max ? fmaxf(a, b) : a + b; }

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

static void pool_plane(const hc_pool2d* plan, const float* x, float* y, float* scratch) {
    const hc_pool2d_desc* d = &plan->desc;
    const bool is_max = d->algorithm == HC_POOL_MAX;
    const float pad_value = is_max ? -INFINITY : 0.0f;
    const int64_t width = d->in_width, out_w = plan->out_width, kw = d->kernel_width, sw = d->stride_width;
    /* padded row: pad_width pad values, the row, then enough pad values for every window and vector. */
    const int64_t padded_length = out_w * sw + kw + 16;
    float* padded = scratch;
    float* even = padded + padded_length + 8;
    float* odd = even + padded_length / 2 + 8;
    float* column_count = odd + padded_length / 2 + 8;

    for (int64_t i = 0; i < padded_length; i++) padded[i] = pad_value;
    for (int64_t ow = 0; ow < out_w; ow++) {
        const int64_t left = ow * sw - d->pad_width;
        const int64_t w0 = left < 0 ? 0 : left, w1 = left + kw < width ? left + kw : width;
        column_count[ow] = (float)(w1 - w0);
    }

    float* row = padded + d->pad_width;
    for (int64_t oh = 0; oh < plan->out_height; oh++) {
        const int64_t top = oh * d->stride_height - d->pad_height;
        const int64_t h0 = top < 0 ? 0 : top, h1 = top + d->kernel_height < d->in_height ? top + d->kernel_height : d->in_height;
        /* Pass 1: rows h0..h1 into row[0..width). */
        int64_t w = 0;
        for (; w + 8 <= width; w += 8) {
            __m256 v = _mm256_loadu_ps(x + h0 * width + w);
            for (int64_t h = h0 + 1; h < h1; h++) v = combine(v, _mm256_loadu_ps(x + h * width + w), is_max);
            _mm256_storeu_ps(row + w, v);
        }
        for (; w < width; w++) {
            float v = x[h0 * width + w];
            for (int64_t h = h0 + 1; h < h1; h++) v = combine1(v, x[h * width + w], is_max);
            row[w] = v;
        }
        /* Pass 2: kernel_width shifted copies. */
        float* out = y + oh * out_w;
        const float* source = padded;
        int64_t source_stride = sw;
        if (sw == 2) {
            split_even_odd(padded, padded_length / 2, even, odd);
            source_stride = 1;
        }
        if (source_stride == 1) {
            int64_t ow = 0;
            for (; ow < out_w; ow += 8) {
                __m256 v = _mm256_set1_ps(pad_value);
                for (int64_t s = 0; s < kw; s++) {
                    const float* shifted = sw == 2 ? (s % 2 == 0 ? even : odd) + s / 2 : source + s;
                    v = s == 0 ? _mm256_loadu_ps(shifted + ow) : combine(v, _mm256_loadu_ps(shifted + ow), is_max);
                }
                if (!is_max) {
                    const __m256 count = d->algorithm == HC_POOL_AVERAGE_INCLUDE_PADDING
                                             ? _mm256_set1_ps((float)(d->kernel_height * kw))
                                             : _mm256_mul_ps(_mm256_set1_ps((float)(h1 - h0)), _mm256_loadu_ps(column_count + ow));
                    v = _mm256_div_ps(v, count);
                }
                if (ow + 8 <= out_w) {
                    _mm256_storeu_ps(out + ow, v);
                } else {
                    float tail[8];
                    _mm256_storeu_ps(tail, v);
                    for (int64_t i = 0; ow + i < out_w; i++) out[ow + i] = tail[i];
                }
            }
        } else {
            for (int64_t ow = 0; ow < out_w; ow++) {
                float v = source[ow * sw];
                for (int64_t s = 1; s < kw; s++) v = combine1(v, source[ow * sw + s], is_max);
                if (!is_max)
                    v /= d->algorithm == HC_POOL_AVERAGE_INCLUDE_PADDING ? (float)(d->kernel_height * kw)
                                                                         : (float)(h1 - h0) * column_count[ow];
                out[ow] = v;
            }
        }
    }
}

static hc_status run_separable(const hc_pool2d* plan, const float* input, float* output) {
    const hc_pool2d_desc* d = &plan->desc;
    const int64_t planes = d->batch * d->channels;
    const int64_t in_plane = d->in_height * d->in_width, out_plane = plan->out_height * plan->out_width;
    const int64_t padded_length = plan->out_width * d->stride_width + d->kernel_width + 16;
    /* padded row + even + odd halves + per-column counts (+ vector slack). */
    const size_t scratch_bytes = (size_t)(2 * padded_length + plan->out_width + 64) * sizeof(float);
    const int threads = (double)planes * (double)in_plane < 32768.0 ? 1 : plan->num_threads;
    int failed = 0;
#pragma omp parallel for schedule(dynamic, hc_dynamic_chunk(planes, threads)) num_threads(threads) if (threads > 1)
    for (int64_t p = 0; p < planes; p++) {
        float* scratch = hc_thread_workspace(scratch_bytes);
        if (scratch == NULL) {
#pragma omp atomic write
            failed = 1;
            continue;
        }
        pool_plane(plan, input + p * in_plane, output + p * out_plane, scratch);
    }
    return failed ? hc_fail(HC_STATUS_OUT_OF_MEMORY, "out of memory for a pooling buffer") : HC_STATUS_OK;
}

/* 2x2 windows, stride 2, no padding (the common downsampling): per 8 outputs, four loads, two
 * vertical combines, then even/odd lanes split with shuffles and combined. */
static bool accepts_2x2s2(const hc_pool2d* plan) {
    const hc_pool2d_desc* d = &plan->desc;
    return d->kernel_height == 2 && d->kernel_width == 2 && d->stride_height == 2 && d->stride_width == 2 &&
           d->pad_height == 0 && d->pad_width == 0 && d->in_width < (INT64_C(1) << 24);
}

static inline __m256 pairs8(__m256 lo, __m256 hi, bool is_max) {
    const __m256 even = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0));
    const __m256 odd = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(3, 1, 3, 1));
    const __m256 v = combine(even, odd, is_max); /* lanes: 0 1 4 5 | 2 3 6 7 */
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(v), _MM_SHUFFLE(3, 1, 2, 0)));
}

static void pool_plane_2x2s2(const hc_pool2d* plan, const float* x, float* y) {
    const bool is_max = plan->desc.algorithm == HC_POOL_MAX;
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

static hc_status run_2x2s2(const hc_pool2d* plan, const float* input, float* output) {
    const hc_pool2d_desc* d = &plan->desc;
    const int64_t planes = d->batch * d->channels;
    const int64_t in_plane = d->in_height * d->in_width, out_plane = plan->out_height * plan->out_width;
    const int threads = (double)planes * (double)in_plane < 32768.0 ? 1 : plan->num_threads;
#pragma omp parallel for schedule(dynamic, hc_dynamic_chunk(planes, threads)) num_threads(threads) if (threads > 1)
    for (int64_t p = 0; p < planes; p++) pool_plane_2x2s2(plan, input + p * in_plane, output + p * out_plane);
    return HC_STATUS_OK;
}

const hc_pool2d_algorithm hc_pool2d_2x2s2_avx2 = {
    .name = "2x2s2_avx2",
    .isa = HC_ISA_AVX2,
    .accepts = accepts_2x2s2,
    .run = run_2x2s2,
};

const hc_pool2d_algorithm hc_pool2d_separable_avx2 = {
    .name = "separable_avx2",
    .isa = HC_ISA_AVX2,
    .accepts = accepts_separable,
    .run = run_separable,
};
