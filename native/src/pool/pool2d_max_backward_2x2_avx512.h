/* AVX-512 max pooling gradients for 2x2 windows at stride 2 without padding (pool2d_training.inc.c
 * includes this when compiled with -mavx512f): narrow rows on planes the windows tile exactly,
 * and any plane row pair by row pair. */
#ifndef HPCCNN_POOL_POOL2D_MAX_BACKWARD_2X2_AVX512_H
#define HPCCNN_POOL_POOL2D_MAX_BACKWARD_2X2_AVX512_H

#include "../core/avx512.h"

/* dx of planes [0, planes) for 2x2 windows at stride 2 without padding: the windows do not
 * overlap, so each input element receives at most its own window's dy, at the position the argmax
 * names (0 + dy, as the scatter adds it; an index outside its window is ignored). Written row pair
 * by row pair with no separate zeroing pass: per 16 outputs, four masked copies of dy interleaved
 * back into even and odd columns; the masks and lane patterns are fixed for the whole run
 * (rebuilt per plane and per row they were half the time on LeNet's 14- and 5-wide rows,
 * measured). */
static inline __attribute__((always_inline)) void max_backward_2x2s2_block(const float* dy, const int32_t* argmax, float* r0, float* r1,
                                                                          __m512i base, __m512i below, __mmask16 valid, __mmask16 lo,
                                                                          __mmask16 hi, const bool spill) {
    const __m512i low = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i high = _mm512_add_epi32(low, _mm512_set1_epi32(8)), right = _mm512_set1_epi32(1);
    const __m512 zero = _mm512_setzero_ps();
    const __m512 g = _mm512_maskz_loadu_ps(valid, dy);
    const __m512i at = _mm512_maskz_loadu_epi32(valid, argmax);
    const __m512i base_below = _mm512_add_epi32(base, below);
    const __m512 v00 = _mm512_maskz_add_ps(_mm512_mask_cmpeq_epi32_mask(valid, at, base), zero, g);
    const __m512 v01 = _mm512_maskz_add_ps(_mm512_mask_cmpeq_epi32_mask(valid, at, _mm512_add_epi32(base, right)), zero, g);
    const __m512 v10 = _mm512_maskz_add_ps(_mm512_mask_cmpeq_epi32_mask(valid, at, base_below), zero, g);
    const __m512 v11 = _mm512_maskz_add_ps(_mm512_mask_cmpeq_epi32_mask(valid, at, _mm512_add_epi32(base_below, right)), zero, g);
    if (spill) {
        /* Whole vectors in address order: what runs past a row is written again by the next store. */
        _mm512_storeu_ps(r0, _mm512_permutex2var_ps(v00, low, v01));
        if (hi != 0) _mm512_storeu_ps(r0 + 16, _mm512_permutex2var_ps(v00, high, v01));
        _mm512_storeu_ps(r1, _mm512_permutex2var_ps(v10, low, v11));
        if (hi != 0) _mm512_storeu_ps(r1 + 16, _mm512_permutex2var_ps(v10, high, v11));
        return;
    }
    _mm512_mask_storeu_ps(r0, lo, _mm512_permutex2var_ps(v00, low, v01));
    _mm512_mask_storeu_ps(r0 + 16, hi, _mm512_permutex2var_ps(v00, high, v01));
    _mm512_mask_storeu_ps(r1, lo, _mm512_permutex2var_ps(v10, low, v11));
    _mm512_mask_storeu_ps(r1 + 16, hi, _mm512_permutex2var_ps(v10, high, v11));
}

/* Rows of fewer than 16 outputs on planes the windows tile exactly (LeNet's 28x28 and 10x10):
 * one block per output row, and a row pair's 2 * in_w floats follow the previous pair's, plane
 * after plane, so whole-vector stores that run past a row land where the next stores write
 * again; the last rows, whose whole vectors would run past the end of the run (into another
 * run's, or past the buffer), are stored with masks. One loop over every row of the run. */
static bool max_backward_2x2s2_narrow_fits(const hc_pool2d* pool) {
    return pool->out_width < 16 && pool->desc.in_width == 2 * pool->out_width && pool->desc.in_height == 2 * pool->out_height;
}

static void max_backward_2x2s2_narrow(const hc_pool2d* pool, const float* dy, const int32_t* argmax, float* dx, int64_t planes) {
    const int64_t in_w = pool->desc.in_width, out_w = pool->out_width, out_h = pool->out_height, rows = planes * out_h;
    const __m512i first = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i below = _mm512_set1_epi32((int32_t)in_w), next_row = _mm512_set1_epi32((int32_t)(2 * in_w));
    const __mmask16 valid = hc_first_lanes16(out_w), lo = hc_first_lanes16(2 * out_w), hi = hc_first_lanes16(2 * out_w - 16);
    /* A row's whole vectors reach from its start to in_w + 16 floats (32 with a second vector) on. */
    const int64_t reach = in_w + (hi != 0 ? 32 : 16), whole_rows = rows * 2 * in_w >= reach ? (rows * 2 * in_w - reach) / (2 * in_w) + 1 : 0;
    __m512i base = first; /* the argmax a window's top-left element has, per lane */
    int64_t oh = 0;
    for (int64_t row = 0; row < rows; row++) {
        float* r0 = dx + row * 2 * in_w;
        if (row < whole_rows) {
            max_backward_2x2s2_block(dy + row * out_w, argmax + row * out_w, r0, r0 + in_w, base, below, valid, lo, hi, true);
        } else {
            max_backward_2x2s2_block(dy + row * out_w, argmax + row * out_w, r0, r0 + in_w, base, below, valid, lo, hi, false);
        }
        base = ++oh == out_h ? (oh = 0, first) : _mm512_add_epi32(base, next_row);
    }
}

static void max_backward_2x2s2_planes(const hc_pool2d* pool, const float* dy, const int32_t* argmax, float* dx, int64_t planes) {
    const int64_t in_w = pool->desc.in_width, in_h = pool->desc.in_height, out_w = pool->out_width, out_h = pool->out_height;
    const int64_t whole = out_w / 16 * 16, in_plane = in_h * in_w;
    const __m512i first = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i below = _mm512_set1_epi32((int32_t)in_w), next_row = _mm512_set1_epi32((int32_t)(2 * in_w)), next_block = _mm512_set1_epi32(32);
    const int64_t tail = out_w - whole;
    const __mmask16 valid = hc_first_lanes16(tail), lo = hc_first_lanes16(2 * tail), hi = hc_first_lanes16(2 * tail - 16);
    for (int64_t p = 0; p < planes; p++) {
        __m512i row_base = first; /* the argmax a window's top-left element has, per lane */
        float* plane = dx + p * in_plane;
        for (int64_t oh = 0; oh < out_h; oh++, row_base = _mm512_add_epi32(row_base, next_row)) {
            const int64_t row = p * out_h + oh;
            float* r0 = plane + 2 * oh * in_w;
            __m512i base = row_base;
            int64_t ow = 0;
            for (; ow < whole; ow += 16, base = _mm512_add_epi32(base, next_block))
                max_backward_2x2s2_block(dy + row * out_w + ow, argmax + row * out_w + ow, r0 + 2 * ow, r0 + in_w + 2 * ow, base, below, 0xFFFF,
                                         0xFFFF, 0xFFFF, false);
            if (tail > 0)
                max_backward_2x2s2_block(dy + row * out_w + ow, argmax + row * out_w + ow, r0 + 2 * ow, r0 + in_w + 2 * ow, base, below, valid, lo, hi,
                                         false);
            for (int64_t c = 2 * out_w; c < in_w; c++) r0[c] = r0[in_w + c] = 0.0f; /* a last odd column no window reaches */
        }
        for (int64_t i = 2 * out_h * in_w; i < in_plane; i++) plane[i] = 0.0f; /* a last odd row */
    }
}

#endif
