/* AVX-512 plane kernels of pooling for training (pool2d_training.inc.c includes this when
 * compiled with -mavx512f): max pooling forward with argmax (2x2 stride 2, and column strides 1
 * and 2 in general) and the averages' backward for column strides that divide 16. */
#ifndef HPCCNN_POOL_POOL2D_TRAINING_PLANES_AVX512_H
#define HPCCNN_POOL_POOL2D_TRAINING_PLANES_AVX512_H

#include "../core/avx512.h"

/* 2x2 windows, stride 2, no padding (most CNNs' pooling), 16 outputs per step: each row's 32
 * inputs split into even and odd columns, then the four candidates compared in row-major order
 * exactly as the plain loop does (a later element wins when greater, or NaN over a number). */
static bool is_2x2_stride2(const hc_pool2d* pool) {
    const hc_pool2d_desc* d = &pool->desc;
    return d->kernel_height == 2 && d->kernel_width == 2 && d->stride_height == 2 && d->stride_width == 2 && d->pad_top == 0 &&
           d->pad_left == 0 && d->pad_bottom == 0 && d->pad_right == 0;
}

static inline __attribute__((always_inline)) void max_argmax_2x2s2_block(const float* r0, const float* r1, float* y, int32_t* argmax,
                                                                        __m512i base, int32_t in_w, __mmask16 out_mask, __mmask16 lo,
                                                                        __mmask16 hi) {
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
    const __m512 a0 = _mm512_maskz_loadu_ps(lo, r0), a1 = _mm512_maskz_loadu_ps(hi, r0 + 16);
    const __m512 b0 = _mm512_maskz_loadu_ps(lo, r1), b1 = _mm512_maskz_loadu_ps(hi, r1 + 16);
    __m512 best = _mm512_permutex2var_ps(a0, even, a1);
    __m512i index = base;
    const __m512 candidates[3] = {_mm512_permutex2var_ps(a0, odd, a1), _mm512_permutex2var_ps(b0, even, b1), _mm512_permutex2var_ps(b0, odd, b1)};
    const int32_t offsets[3] = {1, in_w, in_w + 1};
    for (int i = 0; i < 3; i++) {
        /* !(v <= best) is v > best or either NaN; a NaN best keeps its place. */
        const __mmask16 greater = _mm512_mask_cmp_ps_mask(_mm512_cmp_ps_mask(best, best, _CMP_ORD_Q), candidates[i], best, _CMP_NLE_UQ);
        best = _mm512_mask_mov_ps(best, greater, candidates[i]);
        index = _mm512_mask_mov_epi32(index, greater, _mm512_add_epi32(base, _mm512_set1_epi32(offsets[i])));
    }
    _mm512_mask_storeu_ps(y, out_mask, best);
    _mm512_mask_storeu_epi32(argmax, out_mask, index);
}

/* One plane; each block's masks fixed for the plane (rebuilt per row they cost LeNet's short rows
 * as much as the comparisons). */
static void max_argmax_2x2s2_plane(const hc_pool2d* pool, const float* x, float* y, int32_t* argmax) {
    const int64_t in_w = pool->desc.in_width, out_w = pool->out_width, whole = out_w / 16 * 16, tail = out_w - whole;
    const __m512i twice_lane = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __mmask16 out_mask = hc_first_lanes16(tail), lo = hc_first_lanes16(2 * tail), hi = hc_first_lanes16(2 * tail - 16);
    for (int64_t oh = 0; oh < pool->out_height; oh++) {
        const float* r0 = x + 2 * oh * in_w;
        const float* r1 = r0 + in_w;
        __m512i base = _mm512_add_epi32(_mm512_set1_epi32((int32_t)(2 * oh * in_w)), twice_lane);
        int64_t ow = 0;
        for (; ow < whole; ow += 16, base = _mm512_add_epi32(base, _mm512_set1_epi32(32)))
            max_argmax_2x2s2_block(r0 + 2 * ow, r1 + 2 * ow, y + oh * out_w + ow, argmax + oh * out_w + ow, base, (int32_t)in_w, 0xFFFF, 0xFFFF,
                                   0xFFFF);
        if (tail > 0)
            max_argmax_2x2s2_block(r0 + 2 * ow, r1 + 2 * ow, y + oh * out_w + ow, argmax + oh * out_w + ow, base, (int32_t)in_w, out_mask, lo, hi);
    }
}

/* Max pooling with argmax for column strides 1 and 2 and kernels up to 16 wide, any padding: 16
 * outputs at a time, each window's elements visited in row-major order as the plain loop does
 * (a later element wins when greater, or NaN over a number; padding is no candidate). Tap s of
 * 16 outputs is one load masked to the image's columns (stride 2: 32 loaded, the even lanes
 * kept); `have` marks the lanes that met their window's first element. */
#define ARGMAX_TAPS_MAX 16

static bool max_argmax_vector_fits(const hc_pool2d* pool) {
    return (pool->desc.stride_width == 1 || pool->desc.stride_width == 2) && pool->desc.kernel_width <= ARGMAX_TAPS_MAX;
}

/* The lanes where candidate v (present in `lanes`) replaces the best so far: no best yet, or v
 * greater (!(v <= best): greater or NaN) while the best is not NaN. In mask registers: through
 * general registers the chain from one candidate to the next was twice as long. */
static inline __mmask16 later_wins(__m512 best, __mmask16 have, __m512 v, __mmask16 lanes) {
    const __mmask16 greater = _mm512_mask_cmp_ps_mask(_mm512_cmp_ps_mask(best, best, _CMP_ORD_Q), v, best, _CMP_NLE_UQ);
    return _kandn_mask16(_kandn_mask16(greater, have), lanes);
}

static void max_argmax_plane_avx512(const hc_pool2d* pool, const float* x, float* y, int32_t* argmax) {
    const hc_pool2d_desc* d = &pool->desc;
    const int64_t in_w = d->in_width, out_w = pool->out_width, sw = d->stride_width, kw = d->kernel_width;
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    for (int64_t ow = 0; ow < out_w; ow += 16) {
        /* Per tap, which of the 16 outputs it reaches inside the image, and the loads' masks. */
        const __mmask16 outputs = hc_first_lanes16(out_w - ow);
        __mmask16 reach[ARGMAX_TAPS_MAX], load_lo[ARGMAX_TAPS_MAX], load_hi[ARGMAX_TAPS_MAX];
        for (int64_t s = 0; s < kw; s++) {
            const int64_t first = ow * sw - d->pad_left + s; /* input column of lane 0 */
            __mmask16 m = 0;
            for (int j = 0; j < 16; j++) {
                const int64_t column = first + j * sw;
                if (column >= 0 && column < in_w && ((outputs >> j) & 1)) m |= (__mmask16)(1u << j);
            }
            reach[s] = m;
            load_lo[s] = (__mmask16)(hc_first_lanes16(in_w - first) & ~hc_first_lanes16(-first));
            load_hi[s] = (__mmask16)(hc_first_lanes16(in_w - first - 16) & ~hc_first_lanes16(-first - 16));
        }
        const __m512i columns = _mm512_add_epi32(_mm512_set1_epi32((int32_t)(ow * sw - d->pad_left)), sw == 2 ? even : lane);
        for (int64_t oh = 0; oh < pool->out_height; oh++) {
            const hc_pool_window w = hc_pool_window_at(pool, oh, 0); /* rows h0 .. h1 for every column */
            __m512 best = _mm512_setzero_ps();
            __m512i index = _mm512_setzero_si512();
            __mmask16 have = 0;
            for (int64_t h = w.h0; h < w.h1; h++) {
                const char* row = (const char*)(x + h * in_w);
                const __m512i row_index = _mm512_add_epi32(columns, _mm512_set1_epi32((int32_t)(h * in_w)));
                for (int64_t s = 0; s < kw; s++) {
                    if (reach[s] == 0) continue;
                    const int64_t first = ow * sw - d->pad_left + s;
                    __m512 v;
                    if (sw == 1) {
                        v = _mm512_maskz_loadu_ps(load_lo[s], row + first * (int64_t)sizeof(float));
                    } else {
                        const __m512 a = _mm512_maskz_loadu_ps(load_lo[s], row + first * (int64_t)sizeof(float));
                        const __m512 b = _mm512_maskz_loadu_ps(load_hi[s], row + (first + 16) * (int64_t)sizeof(float));
                        v = _mm512_permutex2var_ps(a, even, b);
                    }
                    const __mmask16 take = later_wins(best, have, v, reach[s]);
                    best = _mm512_mask_mov_ps(best, take, v);
                    index = _mm512_mask_mov_epi32(index, take, _mm512_add_epi32(row_index, _mm512_set1_epi32((int32_t)s)));
                    have = _kor_mask16(have, reach[s]);
                }
            }
            _mm512_mask_storeu_ps(y + oh * out_w + ow, outputs, best);
            _mm512_mask_storeu_epi32(argmax + oh * out_w + ow, outputs, index);
        }
    }
}

/* The averages' backward in strips of 16 input columns, each strip from the top row down with the
 * last output rows' window rows in registers:
 *   row[oh][w] = rh[oh] · sum over taps t, from the last to the first, of dy[oh][ow] · rw[ow]
 *                for the ow whose window covers w at tap t (ow·sw - pl + t = w),
 *   dx[h][w]   = row[first_row[h]][w] + ... + row[last_row[h]][w],
 * rw and rh one over the window's width and height inside the image (average excluding padding)
 * or over the kernel's (including). At column stride 1 tap t is a load of dy shifted by t; at a
 * stride that divides 16, which lane takes which dy at tap t is the same in every block: a
 * permutation of 32 consecutive dy and a lane mask (the lanes t reaches). Nothing goes through
 * memory but dy and dx: window rows kept in a ring in memory, or a strip's rows stored for a
 * second pass, ran 2x slower (store-to-load waits), measured. */
#define AVERAGE_TAPS_MAX 16
#define AVERAGE_ROWS_MAX 4

typedef struct average_lanes {
    __m512i index[AVERAGE_TAPS_MAX];
    __mmask16 reach[AVERAGE_TAPS_MAX];
    int64_t low;   /* the first dy a block at column c loads is column c / sw + low */
    int rows;      /* the most output rows an input row gathers */
} average_lanes;

static int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

/* Whether this kernel takes the problem: the column stride divides 16, one block's dy span at
 * most 32 lanes, and each input row gathers at most AVERAGE_ROWS_MAX output rows. */
static bool average_lanes_fit(const hc_pool2d* pool) {
    const hc_pool2d_desc* d = &pool->desc;
    const int64_t sw = d->stride_width, kw = d->kernel_width, pl = d->pad_left;
    return 16 % sw == 0 && kw <= AVERAGE_TAPS_MAX && floor_div(15 + pl, sw) - floor_div(pl - kw + 1, sw) <= 31 &&
           (d->kernel_height + d->stride_height - 1) / d->stride_height <= AVERAGE_ROWS_MAX;
}

static average_lanes average_lanes_of(const hc_pool2d* pool) {
    const hc_pool2d_desc* d = &pool->desc;
    const int64_t sw = d->stride_width, pl = d->pad_left;
    average_lanes l;
    l.low = floor_div(pl - d->kernel_width + 1, sw);
    l.rows = (int)((d->kernel_height + d->stride_height - 1) / d->stride_height);
    for (int64_t t = 0; t < d->kernel_width; t++) {
        int32_t index[16];
        __mmask16 reach = 0;
        for (int lane = 0; lane < 16; lane++) {
            const int64_t at = lane + pl - t, ow = floor_div(at, sw);
            index[lane] = (int32_t)(ow - l.low);
            if (ow * sw == at) reach |= (__mmask16)(1u << lane);
        }
        l.index[t] = _mm512_loadu_si512(index);
        l.reach[t] = reach;
    }
    return l;
}

/* The lanes of 16 dy from column `first` on that lie in [0, out_w), and those 16 loaded (zero elsewhere). */
static inline __mmask16 inside16(int64_t first, int64_t out_w) {
    return (__mmask16)(hc_first_lanes16(out_w - first) & ~hc_first_lanes16(-first));
}
static inline __m512 load16(__mmask16 inside, const float* row, int64_t first) {
    return _mm512_maskz_loadu_ps(inside, (const char*)row + first * (int64_t)sizeof(float));
}

/* Columns of 16 dy: for unit column stride and kernels up to 3 wide, one per tap (the dy tap
 * t reads start at column first - t); otherwise the two 16-lane halves the permutations pick
 * from (starting at first and first + 16). Three at most, so they stay in registers. */
#define UNIT_TAPS_MAX 3

typedef struct strip_taps {
    __mmask16 inside[UNIT_TAPS_MAX];
    __m512 weight[UNIT_TAPS_MAX];
    int64_t first;
} strip_taps;

static inline __attribute__((always_inline)) strip_taps strip_taps_of(const hc_pool2d* pool, const average_lanes* l, const float* rw,
                                                                      int64_t c, const int64_t kw, const bool unit) {
    const int64_t out_w = pool->out_width;
    strip_taps s;
    s.first = unit ? c + pool->desc.pad_left : c / pool->desc.stride_width + l->low;
    for (int64_t i = 0; i < (unit ? kw : 2); i++) {
        const int64_t at = unit ? s.first - i : s.first + 16 * i;
        s.inside[i] = inside16(at, out_w);
        s.weight[i] = load16(s.inside[i], rw, at);
    }
    return s;
}

/* Output row oh's window row over the strip. */
static inline __attribute__((always_inline)) __m512 window_row(const average_lanes* l, const strip_taps* s, const float* g, float rh,
                                                               const int64_t kw, const bool unit, const bool full) {
    __m512 v = _mm512_setzero_ps();
    if (unit && full) {
        for (int64_t t = kw - 1; t >= 0; t--) v = _mm512_fmadd_ps(_mm512_loadu_ps(g + s->first - t), s->weight[t], v);
    } else if (unit) {
        for (int64_t t = kw - 1; t >= 0; t--) v = _mm512_fmadd_ps(load16(s->inside[t], g, s->first - t), s->weight[t], v);
    } else {
        const __m512 low = _mm512_mul_ps(load16(s->inside[0], g, s->first), s->weight[0]);
        const __m512 high = _mm512_mul_ps(load16(s->inside[1], g, s->first + 16), s->weight[1]);
        for (int64_t t = kw - 1; t >= 0; t--) v = _mm512_mask_add_ps(v, l->reach[t], v, _mm512_permutex2var_ps(low, l->index[t], high));
    }
    return _mm512_mul_ps(v, _mm512_set1_ps(rh));
}

/* The sum of the newest `count` of ROWS window rows in registers (oldest first; the newest is
 * r3 with ROWS 4, r2 with 3, ...); zero for none. */
static inline __attribute__((always_inline)) __m512 newest_rows(int64_t count, const int ROWS, __m512 r0, __m512 r1, __m512 r2, __m512 r3) {
    if (count <= 0) return _mm512_setzero_ps();
    /* Renamed so that q3 is always the newest. */
    const __m512 q3 = ROWS == 4 ? r3 : ROWS == 3 ? r2 : ROWS == 2 ? r1 : r0;
    const __m512 q2 = ROWS == 4 ? r2 : ROWS == 3 ? r1 : r0;
    const __m512 q1 = ROWS == 4 ? r1 : r0;
    const __m512 q0 = r0;
    if (count == 1) return q3;
    if (count == 2) return _mm512_add_ps(q2, q3);
    if (count == 3) return _mm512_add_ps(_mm512_add_ps(q1, q2), q3);
    return _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(q0, q1), q2), q3);
}

#define SHIFT_IN(next)                                          \
    do {                                                        \
        if (ROWS == 1) r0 = (next);                             \
        if (ROWS == 2) r0 = r1, r1 = (next);                    \
        if (ROWS == 3) r0 = r1, r1 = r2, r2 = (next);           \
        if (ROWS == 4) r0 = r1, r1 = r2, r2 = r3, r3 = (next);  \
    } while (0)

/* Down a strip with the last ROWS window rows in registers. At row stride 1 (ROWS = kh) input
 * row h's window rows are h + pad_top - kh + 1 .. h + pad_top: one new window row per input row
 * (zero past the last), then the sum of all ROWS. At longer strides, output row by output row: the new window row, then every input row
 * whose last window row it is (last_row[h] == oh). Zero where no window covers a row. (A
 * data-dependent inner loop at stride 1 cost half the speed, measured.) */
/* One strip of 16 columns; FULL when every tap's 16 dy lie inside the row (no masks). */
static inline __attribute__((always_inline)) void average_strip(const hc_pool2d* pool, const average_lanes* l, const strip_taps* s, const float* dy,
                                                                const float* rh, const int32_t* first_row, const int32_t* last_row, float* dx,
                                                                __mmask16 columns, const int64_t kw, const bool unit, const bool full,
                                                                const int ROWS) {
    const hc_pool2d_desc* d = &pool->desc;
    const int64_t in_w = d->in_width, out_w = pool->out_width, out_h = pool->out_height, pt = d->pad_top;
    __m512 r0 = _mm512_setzero_ps(), r1 = r0, r2 = r0, r3 = r0;
    if (d->stride_height == 1) {
        /* Rows above the first and below the last output row are zeros in the registers
         * (adding zero changes nothing but the sign of a zero sum). */
        for (int64_t oh = 0; oh < pt && oh < out_h; oh++) SHIFT_IN(window_row(l, s, dy + oh * out_w, rh[oh], kw, unit, full));
        for (int64_t h = 0; h < d->in_height; h++) {
            SHIFT_IN(h + pt < out_h ? window_row(l, s, dy + (h + pt) * out_w, rh[h + pt], kw, unit, full) : _mm512_setzero_ps());
            _mm512_mask_storeu_ps(dx + h * in_w, columns, newest_rows(ROWS, ROWS, r0, r1, r2, r3));
        }
    } else {
        int64_t h = 0;
        for (int64_t oh = 0; oh < out_h; oh++) {
            SHIFT_IN(window_row(l, s, dy + oh * out_w, rh[oh], kw, unit, full));
            for (; h < d->in_height && last_row[h] == oh; h++)
                _mm512_mask_storeu_ps(dx + h * in_w, columns, newest_rows(oh - first_row[h] + 1, ROWS, r0, r1, r2, r3));
        }
    }
}

static inline __attribute__((always_inline)) void average_strips(const hc_pool2d* pool, const average_lanes* l, const float* dy, const float* rw,
                                                                 const float* rh, const int32_t* first_row, const int32_t* last_row, float* dx,
                                                                 const int64_t kw, const bool unit, const int ROWS) {
    const int64_t in_w = pool->desc.in_width;
    for (int64_t c = 0; c < in_w; c += 16) {
        const strip_taps s = strip_taps_of(pool, l, rw, c, kw, unit);
        bool full = unit;
        for (int64_t t = 0; t < (unit ? kw : 0); t++) full = full && s.inside[t] == 0xFFFF;
        if (full) {
            average_strip(pool, l, &s, dy, rh, first_row, last_row, dx + c, hc_first_lanes16(in_w - c), kw, unit, true, ROWS);
        } else {
            average_strip(pool, l, &s, dy, rh, first_row, last_row, dx + c, hc_first_lanes16(in_w - c), kw, unit, false, ROWS);
        }
    }
}
#undef SHIFT_IN

#define AVERAGE_STRIPS_ROWS(kw, unit)                                                                        \
    switch (l->rows) {                                                                                       \
        case 1: average_strips(pool, l, dy, rw, rh, first_row, last_row, dx, kw, unit, 1); break;            \
        case 2: average_strips(pool, l, dy, rw, rh, first_row, last_row, dx, kw, unit, 2); break;            \
        case 3: average_strips(pool, l, dy, rw, rh, first_row, last_row, dx, kw, unit, 3); break;            \
        default: average_strips(pool, l, dy, rw, rh, first_row, last_row, dx, kw, unit, 4); break;           \
    }

/* dx of one plane for the averages; rw: out_w column weights, rh: out_h row weights. */
static void average_backward_plane_avx512(const hc_pool2d* pool, const average_lanes* l, const float* dy, const float* rw, const float* rh,
                                          const int32_t* first_row, const int32_t* last_row, float* dx) {
    const int64_t kw = pool->desc.kernel_width;
    if (pool->desc.stride_width == 1 && kw == 3) {
        AVERAGE_STRIPS_ROWS(3, true)
    } else if (pool->desc.stride_width == 1 && kw == 2) {
        AVERAGE_STRIPS_ROWS(2, true)
    } else {
        AVERAGE_STRIPS_ROWS(kw, false)
    }
}

#endif
