/* Images in the vector lanes, for the convolution kernels that put 16 images in a vector (files
 * compiled with -mavx512f only): planes of 16 images transposed into lanes and back. A layout
 * holds, for each channel, its rows of columns of 16 floats: one vector per pixel. */
#ifndef HPCCNN_CONV_CONV2D_LANES_AVX512_H
#define HPCCNN_CONV_CONV2D_LANES_AVX512_H

#include "../core/activation.h"
#include "../core/avx512.h"

#define HC_LANE_IMAGES 16

/* Where a plane lands in a lanes layout: element (row, col) of channel ch goes to
 * to[((ch · rows + top + row) · columns + left + col) · 16 + image]; what falls outside
 * [0, rows) x [0, columns) is left out (the layout's zeros are the caller's). */
typedef struct hc_lanes_place {
    float* to;
    int64_t rows, columns, top, left;
} hc_lanes_place;

/* Channels [0, channels) of images [n0, n0 + count) of `from` (each image `image` floats, each
 * plane height x width) into their lanes, lanes past `count` zero; with y (not NULL), each value
 * dL/dy times the activation's derivative at y, as hc_eltwise_pre_activation computes it. */
static inline void hc_lanes_fill(const float* from, const float* y, hc_activation activation, float alpha, int64_t image, int64_t channels,
                                 int64_t height, int64_t width, int64_t n0, int64_t count, hc_lanes_place place) {
    const int64_t first_col = place.left < 0 ? -place.left : 0;
    const int64_t end_col = width < place.columns - place.left ? width : place.columns - place.left;
    for (int64_t ch = 0; ch < channels; ch++)
        for (int64_t row = 0; row < height; row++) {
            const int64_t u = place.top + row;
            if (u < 0 || u >= place.rows) continue;
            for (int64_t col = first_col; col < end_col; col += 16) {
                const __mmask16 inside = hc_first_lanes16(end_col - col);
                const int64_t at = (ch * height + row) * width + col;
                __m512 v[16];
                for (int64_t m = 0; m < 16; m++) {
                    if (m >= count) {
                        v[m] = _mm512_setzero_ps();
                        continue;
                    }
                    const __m512 g = _mm512_maskz_loadu_ps(inside, from + (n0 + m) * image + at);
                    v[m] = y == NULL ? g : hc_activation_backward16(activation, alpha, _mm512_maskz_loadu_ps(inside, y + (n0 + m) * image + at), g);
                }
                hc_transpose16x16(v);
                float* to = place.to + ((ch * place.rows + u) * place.columns + place.left + col) * HC_LANE_IMAGES;
                const int64_t columns = end_col - col < 16 ? end_col - col : 16;
                for (int64_t t = 0; t < columns; t++) _mm512_store_ps(to + t * HC_LANE_IMAGES, v[t]);
            }
        }
}

/* The reverse: channels [0, channels) of a lanes layout of `rows` x `columns` planes (from its
 * top left corner) back to images [n0, n0 + count) of `to`, height x width each. */
static inline void hc_lanes_drain(const float* from, int64_t rows, int64_t columns, int64_t image, int64_t channels, int64_t height,
                                  int64_t width, int64_t n0, int64_t count, float* to) {
    for (int64_t ch = 0; ch < channels; ch++)
        for (int64_t row = 0; row < height; row++)
            for (int64_t col = 0; col < width; col += 16) {
                const int64_t used = width - col < 16 ? width - col : 16;
                const float* lane = from + ((ch * rows + row) * columns + col) * HC_LANE_IMAGES;
                __m512 v[16];
                for (int64_t t = 0; t < 16; t++) v[t] = t < used ? _mm512_load_ps(lane + t * HC_LANE_IMAGES) : _mm512_setzero_ps();
                hc_transpose16x16(v);
                const __mmask16 inside = hc_first_lanes16(used);
                for (int64_t m = 0; m < count; m++) _mm512_mask_storeu_ps(to + (n0 + m) * image + (ch * height + row) * width + col, inside, v[m]);
            }
}

#endif
