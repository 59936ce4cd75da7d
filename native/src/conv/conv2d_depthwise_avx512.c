/* Depthwise convolution (groups = in = out channels), direct, AVX-512F.
 *
 * Each plane is first copied into a per-thread zero-padded buffer whose rows are split by column
 * stride phase (padded column X at (X % sw) * phase_width + X / sw), with slack past the last
 * vector. Then the 16 inputs of one tap for 16 neighbouring outputs are one plain unaligned load
 * for any stride, padding and dilation, and every tap is a single FMA with a memory operand:
 * no masks, no bounds checks. Output rows are computed 64 columns at a time in four independent
 * accumulators; the taps stay in registers. The 3x3 undilated case (MobileNet's) is unrolled
 * for strides 1 and 2.
 *
 * The earlier version loaded each tap with a mask kept in memory: a mask load, a kmov, a masked
 * load and the FMA per tap, so it ran at 45-48 GFLOP/s whatever the problem size (front-end
 * bound, not memory bound). The copy costs one pass over a plane that is then reused by 9 taps.
 * One task per (image, channel) plane, so results do not depend on the thread count.
 * Compiled with -mavx512f (this file only). */
#include <immintrin.h>

#include "../core/avx512.h"
#include "conv2d_internal.h"

#define VECTORS 4
#define MAX_TAPS 64

static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

typedef hc_conv2d_padded_plane padded_plane;

hc_conv2d_padded_plane hc_conv2d_depthwise_plane_shape(const hc_conv2d* plan) {
    const hc_conv2d_desc* d = &plan->desc;
    /* Whole vectors per phase, so the stride-2 split never writes one phase's vector into the next. */
    const int64_t phase_width =
        ceil_div(ceil_div(plan->out_width, 16) * 16 + (d->kernel_width - 1) * d->dilation_width / d->stride_width, 16) * 16;
    return (padded_plane){
        .rows = (plan->out_height - 1) * d->stride_height + (d->kernel_height - 1) * d->dilation_height + 1,
        .phase_width = phase_width,
        .row_length = ceil_div(phase_width * d->stride_width, 16) * 16,
    };
}

/* Depthwise with multiplier 1, any stride, padding and dilation; the padded plane must stay a
 * workspace, not a copy of a huge image, and a row holds every stride phase, so the stride must
 * not outgrow the kernel (hc_conv2d_stride_within_kernel); the plane's size is a checked
 * product, never a wrapped one. */
bool hc_conv2d_depthwise_plane_fits(const hc_conv2d* plan) {
    const hc_conv2d_desc* d = &plan->desc;
    if (d->groups != d->in_channels || d->groups != d->out_channels || !hc_conv2d_stride_within_kernel(d)) return false;
    const padded_plane shape = hc_conv2d_depthwise_plane_shape(plan);
    return hc_saturating_product(shape.rows, shape.row_length, 1, 1) < (INT64_C(1) << 24);
}

static bool accepts_depthwise_avx512(const hc_conv2d* plan) {
    return plan->desc.kernel_height * plan->desc.kernel_width <= MAX_TAPS && hc_conv2d_depthwise_plane_fits(plan);
}

/* dst[0 .. length) = the input row shifted right by `lead` zeros, zeros past its end. Whole
 * vectors throughout (this copy was 30% of the run when its edges went a float at a time): zero
 * the lead, then the row over it, then zero from the row's end on. A store may run up to 15
 * floats past its part into the next one, which is written after it, or past `length` (callers
 * leave that much slack). */
static void pad_row(const float* in, int64_t width, int64_t lead, int64_t length, float* dst) {
    const int64_t count = width < length - lead ? width : length - lead;
    for (int64_t j = 0; j < lead; j += 16) _mm512_storeu_ps(dst + j, _mm512_setzero_ps());
    float* body = dst + lead;
    int64_t j = 0;
    for (; j + 16 <= count; j += 16) _mm512_storeu_ps(body + j, _mm512_loadu_ps(in + j));
    if (j < count) {
        const __mmask16 tail = hc_first_lanes16(count - j);
        _mm512_mask_storeu_ps(body + j, tail, _mm512_maskz_loadu_ps(tail, in + j));
    }
    for (j = lead + (count > 0 ? count : 0); j < length; j += 16) _mm512_storeu_ps(dst + j, _mm512_setzero_ps());
}

/* Copies one plane into the padded, phase-split layout. `scratch` holds one unsplit padded row
 * (2 * phase_width + 64 floats) for stride 2, split into even and odd columns with two permutes
 * per 32 floats. */
void hc_conv2d_depthwise_fill_plane(const hc_conv2d* plan, padded_plane shape, const float* x, float* dst, float* scratch) {
    const hc_conv2d_desc* d = &plan->desc;
    const int64_t sw = d->stride_width, width = d->in_width;
    const __m512i evens = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odds = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    for (int64_t i = 0; i < shape.rows; i++) {
        float* row = dst + i * shape.row_length;
        const int64_t ih = i - d->pad_top;
        if (ih < 0 || ih >= d->in_height) {
            for (int64_t j = 0; j < shape.row_length; j += 16) _mm512_storeu_ps(row + j, _mm512_setzero_ps());
            continue;
        }
        const float* in = x + ih * width;
        if (sw == 1) {
            pad_row(in, width, d->pad_left, shape.row_length, row);
            continue;
        }
        if (sw == 2) {
            const int64_t pw = shape.phase_width;
            pad_row(in, width, d->pad_left, 2 * pw + 32, scratch); /* the loop below reads up to 2*pw + 31 */
            for (int64_t j = 0; j < pw; j += 16) {
                const __m512 a = _mm512_loadu_ps(scratch + 2 * j), b = _mm512_loadu_ps(scratch + 2 * j + 16);
                _mm512_storeu_ps(row + j, _mm512_permutex2var_ps(a, evens, b));
                _mm512_storeu_ps(row + pw + j, _mm512_permutex2var_ps(a, odds, b));
            }
        } else {
            for (int64_t q = 0; q < sw; q++)
                for (int64_t j = 0; j < shape.phase_width; j++) {
                    const int64_t column = j * sw + q - d->pad_left;
                    row[q * shape.phase_width + j] = column >= 0 && column < width ? in[column] : 0.0f;
                }
        }
        for (int64_t j = sw * shape.phase_width; j < shape.row_length; j += 16) _mm512_storeu_ps(row + j, _mm512_setzero_ps());
    }
}

/* `vectors` x 16 outputs of `rows` (1 or 2) neighbouring output rows from the padded plane. Two
 * rows give 8 independent FMA chains: with 4, each chain of kh*kw dependent FMAs at 4 cycles'
 * latency is what limits (3x3 ran at ~55 GFLOP/s that way), and the rows share input loads where
 * their windows overlap. With constant sizes (kh_c, kw_c, sw_c, sh_c > 0, undilated) the tap
 * loops unroll fully and shared loads are merged; 0 means "read them from the plan". */
static inline __attribute__((always_inline)) void depthwise_block(const hc_conv2d* plan, padded_plane shape, const float* base,
                                                                  const int64_t* tap_offsets, const __m512* taps, float bias,
                                                                  float* out, int64_t ow0, const int vectors, const int rows,
                                                                  const int kh_c, const int kw_c, const int sw_c,
                                                                  const int sh_c) {
    const hc_conv2d_desc* d = &plan->desc;
    const int64_t kh = kh_c > 0 ? kh_c : d->kernel_height, kw = kw_c > 0 ? kw_c : d->kernel_width;
    const int64_t sw = sw_c, sh = sh_c > 0 ? sh_c : d->stride_height;
    __m512 acc[2][VECTORS];
    for (int i = 0; i < rows; i++)
        for (int v = 0; v < vectors; v++) acc[i][v] = _mm512_set1_ps(bias);
#pragma GCC unroll 8
    for (int64_t r = 0; r < kh; r++) {
#pragma GCC unroll 8
        for (int64_t s = 0; s < kw; s++) {
            /* Constant sizes: the offset folds to a constant; otherwise it comes from the table. */
            const int64_t offset = kh_c > 0 ? r * shape.row_length + s % sw * shape.phase_width + s / sw : tap_offsets[r * kw + s];
            const __m512 tap = taps[r * kw + s];
#pragma GCC unroll 2
            for (int i = 0; i < rows; i++) {
                const float* in = base + i * sh * shape.row_length + offset + ow0;
#pragma GCC unroll 4
                for (int v = 0; v < vectors; v++) acc[i][v] = _mm512_fmadd_ps(tap, _mm512_loadu_ps(in + 16 * v), acc[i][v]);
            }
        }
    }
#pragma GCC unroll 2
    for (int i = 0; i < rows; i++)
#pragma GCC unroll 4
        for (int v = 0; v < vectors; v++) {
            const int64_t first = ow0 + 16 * v, lanes = plan->out_width - first;
            const __mmask16 mask = hc_first_lanes16(lanes);
            _mm512_mask_storeu_ps(out + i * plan->out_width + first, mask, hc_activation_forward16(d->activation, d->activation_alpha, acc[i][v]));
        }
}

#define DEPTHWISE_BLOCK(vectors, rows) \
    depthwise_block(plan, shape, base, tap_offsets, taps, bias, out, ow0, vectors, rows, kh_c, kw_c, sw_c, sh_c)

static inline __attribute__((always_inline)) void depthwise_rows(const hc_conv2d* plan, padded_plane shape, const float* padded,
                                                                 const int64_t* tap_offsets, const __m512* taps, float bias,
                                                                 float* y, const int kh_c, const int kw_c, const int sw_c,
                                                                 const int sh_c) {
    const hc_conv2d_desc* d = &plan->desc;
    const int64_t out_w = plan->out_width;
    for (int64_t oh = 0; oh < plan->out_height; oh += 2) {
        const float* base = padded + oh * d->stride_height * shape.row_length;
        float* out = y + oh * out_w;
        const bool pair = oh + 1 < plan->out_height;
        for (int64_t ow0 = 0; ow0 < out_w; ow0 += 16 * VECTORS) {
            switch ((out_w - ow0 + 15) / 16 * 2 + (pair ? 1 : 0)) {
            case 2: DEPTHWISE_BLOCK(1, 1); break;
            case 3: DEPTHWISE_BLOCK(1, 2); break;
            case 4: DEPTHWISE_BLOCK(2, 1); break;
            case 5: DEPTHWISE_BLOCK(2, 2); break;
            case 6: DEPTHWISE_BLOCK(3, 1); break;
            case 7: DEPTHWISE_BLOCK(3, 2); break;
            default:
                if (pair) {
                    DEPTHWISE_BLOCK(VECTORS, 2);
                } else {
                    DEPTHWISE_BLOCK(VECTORS, 1);
                }
                break;
            }
        }
    }
}

static void depthwise_plane(const hc_conv2d* plan, padded_plane shape, const float* padded, const int64_t* tap_offsets,
                            const float* w, float bias, float* y) {
    const hc_conv2d_desc* d = &plan->desc;
    __m512 taps[MAX_TAPS];
    for (int64_t t = 0; t < d->kernel_height * d->kernel_width; t++) taps[t] = _mm512_set1_ps(w[t]);
    const bool dense_3x3 = d->kernel_height == 3 && d->kernel_width == 3 && d->dilation_height == 1 && d->dilation_width == 1;
    if (dense_3x3 && d->stride_width == 1 && d->stride_height == 1) {
        depthwise_rows(plan, shape, padded, tap_offsets, taps, bias, y, 3, 3, 1, 1);
    } else if (dense_3x3 && d->stride_width == 2 && d->stride_height == 2) {
        depthwise_rows(plan, shape, padded, tap_offsets, taps, bias, y, 3, 3, 2, 2);
    } else {
        depthwise_rows(plan, shape, padded, tap_offsets, taps, bias, y, 0, 0, 1, 0);
    }
}

/* 3x3, stride 1, undilated, column padding 0-2: MobileNet's depthwise layers.
 *
 * The plane is copied with image column 0 at offset 16 of each row (zeros before and after), so
 * the copy is aligned stores only and the right padding comes free with the masked loads. Each
 * input row is then read as aligned vectors once, and the three taps of a row come from two
 * neighbouring vectors by valignd (one shuffle) instead of three loads, two of them split across
 * cache lines. The general path above spent 37% of mobilenet_dw in its shifted copy (unaligned
 * stores) and ran its FMAs behind those split loads. */
#define ALIGNED_LEAD 16

typedef struct aligned_plane {
    int64_t rows, row_length, vectors;
} aligned_plane;

static bool is_dense_3x3_s1(const hc_conv2d_desc* d) {
    return d->kernel_height == 3 && d->kernel_width == 3 && d->dilation_height == 1 && d->dilation_width == 1 &&
           d->stride_height == 1 && d->stride_width == 1 && d->pad_left <= 2;
}

static aligned_plane aligned_shape(const hc_conv2d* plan) {
    const int64_t vectors = ceil_div(plan->out_width, 16);
    /* The last output vector reads the vector after its own; the image may reach one vector past it. */
    const int64_t body = ceil_div(plan->desc.in_width, 16) * 16;
    const int64_t row_length = ALIGNED_LEAD + (body > 16 * vectors + 16 ? body : 16 * vectors + 16);
    return (aligned_plane){.rows = plan->out_height + 2, .row_length = row_length, .vectors = vectors};
}

static void fill_aligned_plane(const hc_conv2d* plan, aligned_plane shape, const float* x, float* dst) {
    const hc_conv2d_desc* d = &plan->desc;
    const int64_t width = d->in_width;
    const __m512 zero = _mm512_setzero_ps();
    for (int64_t i = 0; i < shape.rows; i++) {
        float* row = dst + i * shape.row_length;
        const int64_t ih = i - d->pad_top;
        int64_t j = ALIGNED_LEAD;
        _mm512_store_ps(row, zero);
        if (ih >= 0 && ih < d->in_height) {
            const float* in = x + ih * width;
            for (int64_t t = 0; t < width; t += 16, j += 16) {
                const int64_t lanes = width - t;
                const __mmask16 mask = hc_first_lanes16(lanes);
                _mm512_store_ps(row + j, _mm512_maskz_loadu_ps(mask, in + t));
            }
        }
        for (; j < shape.row_length; j += 16) _mm512_store_ps(row + j, zero);
    }
}

/* Input columns ow + s - pad of a 16-output vector, from the row's aligned vectors before (a),
 * at (b) and after (c) it; `shift` = s - pad is a constant after inlining. */
static inline __attribute__((always_inline)) __m512 tap_vector(__m512 a, __m512 b, __m512 c, const int shift) {
    const __m512i ai = _mm512_castps_si512(a), bi = _mm512_castps_si512(b), ci = _mm512_castps_si512(c);
    switch (shift) {
    case -2: return _mm512_castsi512_ps(_mm512_alignr_epi32(bi, ai, 14));
    case -1: return _mm512_castsi512_ps(_mm512_alignr_epi32(bi, ai, 15));
    case 1: return _mm512_castsi512_ps(_mm512_alignr_epi32(ci, bi, 1));
    case 2: return _mm512_castsi512_ps(_mm512_alignr_epi32(ci, bi, 2));
    default: return b;
    }
}

/* The nine taps of a 3x3 kernel as named values: an array of them was kept in memory. */
typedef struct taps_3x3 {
    __m512 t0, t1, t2, t3, t4, t5, t6, t7, t8;
} taps_3x3;

static inline __attribute__((always_inline)) __m512 tap_at(const taps_3x3* k, const int index) {
    switch (index) {
    case 0: return k->t0;
    case 1: return k->t1;
    case 2: return k->t2;
    case 3: return k->t3;
    case 4: return k->t4;
    case 5: return k->t5;
    case 6: return k->t6;
    case 7: return k->t7;
    default: return k->t8;
    }
}

/* `vectors` x 16 outputs of `rows` (1 or 2) output rows from output vector v0; `rows_in` points
 * at the first output row's top input row in the aligned plane. The accumulators are named
 * variables (a<row>_<vector>): GCC 12 spilled an array of them to the stack in the tap loop. */
static inline __attribute__((always_inline)) void aligned_block(const hc_conv2d* plan, aligned_plane shape, const float* rows_in,
                                                                taps_3x3 k, float bias, float* out, int64_t v0,
                                                                const int vectors, const int rows, const int pad) {
    const hc_conv2d_desc* d = &plan->desc;
    const __m512 start = _mm512_set1_ps(bias);
    __m512 a0_0 = start, a0_1 = start, a0_2 = start, a0_3 = start;
    __m512 a1_0 = start, a1_1 = start, a1_2 = start, a1_3 = start;
#pragma GCC unroll 4
    for (int r = 0; r < rows + 2; r++) {
        const float* row = rows_in + r * shape.row_length + 16 * v0;
        __m512 before = _mm512_load_ps(row), at = _mm512_load_ps(row + ALIGNED_LEAD), after;
#define ROW_VECTOR(v)                                                                                      \
    if (vectors > v) {                                                                                     \
        after = _mm512_load_ps(row + ALIGNED_LEAD + 16 * (v + 1));                                         \
        _Pragma("GCC unroll 3") for (int s = 0; s < 3; s++) {                                              \
            const __m512 t = tap_vector(before, at, after, s - pad);                                      \
            if (r < 3) a0_##v = _mm512_fmadd_ps(tap_at(&k, r * 3 + s), t, a0_##v);                         \
            if (rows == 2 && r >= 1) a1_##v = _mm512_fmadd_ps(tap_at(&k, (r - 1) * 3 + s), t, a1_##v);     \
        }                                                                                                  \
        before = at;                                                                                       \
        at = after;                                                                                        \
    }
        ROW_VECTOR(0) ROW_VECTOR(1) ROW_VECTOR(2) ROW_VECTOR(3)
#undef ROW_VECTOR
    }
#define STORE_VECTOR(i, v)                                                                                                  \
    if (rows > i && vectors > v) {                                                                                          \
        const int64_t lanes = plan->out_width - 16 * (v0 + v);                                                              \
        const __mmask16 mask = hc_first_lanes16(lanes);                                      \
        _mm512_mask_storeu_ps(out + i * plan->out_width + 16 * (v0 + v), mask, hc_activation_forward16(d->activation, d->activation_alpha, a##i##_##v)); \
    }
    STORE_VECTOR(0, 0) STORE_VECTOR(0, 1) STORE_VECTOR(0, 2) STORE_VECTOR(0, 3)
    STORE_VECTOR(1, 0) STORE_VECTOR(1, 1) STORE_VECTOR(1, 2) STORE_VECTOR(1, 3)
#undef STORE_VECTOR
}

static inline __attribute__((always_inline)) void aligned_rows(const hc_conv2d* plan, aligned_plane shape, const float* padded,
                                                               taps_3x3 taps, float bias, float* y, const int pad) {
    for (int64_t oh = 0; oh < plan->out_height; oh += 2) {
        const float* rows_in = padded + oh * shape.row_length;
        float* out = y + oh * plan->out_width;
        const bool pair = oh + 1 < plan->out_height;
        for (int64_t v0 = 0; v0 < shape.vectors; v0 += VECTORS) {
            const int64_t left = shape.vectors - v0;
            switch ((left < VECTORS ? left : VECTORS) * 2 + (pair ? 1 : 0)) {
            case 2: aligned_block(plan, shape, rows_in, taps, bias, out, v0, 1, 1, pad); break;
            case 3: aligned_block(plan, shape, rows_in, taps, bias, out, v0, 1, 2, pad); break;
            case 4: aligned_block(plan, shape, rows_in, taps, bias, out, v0, 2, 1, pad); break;
            case 5: aligned_block(plan, shape, rows_in, taps, bias, out, v0, 2, 2, pad); break;
            case 6: aligned_block(plan, shape, rows_in, taps, bias, out, v0, 3, 1, pad); break;
            case 7: aligned_block(plan, shape, rows_in, taps, bias, out, v0, 3, 2, pad); break;
            case 8: aligned_block(plan, shape, rows_in, taps, bias, out, v0, 4, 1, pad); break;
            default: aligned_block(plan, shape, rows_in, taps, bias, out, v0, 4, 2, pad); break;
            }
        }
    }
}

static void depthwise_3x3s1_plane(const hc_conv2d* plan, aligned_plane shape, const float* padded, const float* w, float bias,
                                  float* y) {
    const taps_3x3 taps = {_mm512_set1_ps(w[0]), _mm512_set1_ps(w[1]), _mm512_set1_ps(w[2]),
                           _mm512_set1_ps(w[3]), _mm512_set1_ps(w[4]), _mm512_set1_ps(w[5]),
                           _mm512_set1_ps(w[6]), _mm512_set1_ps(w[7]), _mm512_set1_ps(w[8])};
    switch (plan->desc.pad_left) {
    case 0: aligned_rows(plan, shape, padded, taps, bias, y, 0); break;
    case 1: aligned_rows(plan, shape, padded, taps, bias, y, 1); break;
    default: aligned_rows(plan, shape, padded, taps, bias, y, 2); break;
    }
}

static hc_status run_depthwise(const hc_conv2d* plan, const float* input, float* output) {
    const hc_conv2d_desc* d = &plan->desc;
    const int64_t planes = d->batch * d->in_channels, taps = d->kernel_height * d->kernel_width;
    const int64_t in_plane = d->in_height * d->in_width, out_plane = plan->out_height * plan->out_width;
    const double multiply_adds = (double)planes * (double)out_plane * (double)taps;
    const int threads = multiply_adds < 200000.0 ? 1 : hc_threads_for(hc_flops_ns(2.0 * multiply_adds), plan->base.num_threads);
    const padded_plane shape = hc_conv2d_depthwise_plane_shape(plan);
    const bool aligned = is_dense_3x3_s1(d);
    const aligned_plane aligned_plane_shape = aligned_shape(plan);
    /* Slack: the last block's loads and the last row's zero stores may run up to 15 floats past
     * the plane; then one unsplit row for stride 2. */
    const size_t plane_floats = (size_t)(shape.rows * shape.row_length + 32);
    const size_t workspace_bytes = aligned ? (size_t)(aligned_plane_shape.rows * aligned_plane_shape.row_length) * sizeof(float)
                                           : (plane_floats + (size_t)(2 * shape.phase_width + 64)) * sizeof(float);
    /* Where tap (r, s) starts in the padded plane, relative to its output row's first input. */
    int64_t tap_offsets[MAX_TAPS];
    for (int64_t r = 0; r < d->kernel_height; r++)
        for (int64_t s = 0; s < d->kernel_width; s++) {
            const int64_t column = s * d->dilation_width;
            tap_offsets[r * d->kernel_width + s] =
                r * d->dilation_height * shape.row_length + column % d->stride_width * shape.phase_width + column / d->stride_width;
        }
    int failed = 0, finished = 0;
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
#pragma omp for schedule(dynamic, hc_dynamic_chunk(planes, threads)) nowait
        for (int64_t p = 0; p < planes; p++) {
            float* padded = hc_item_workspace(workspace_bytes, &failed);
            if (padded == NULL) continue;
            const int64_t c = p % d->in_channels;
            if (aligned) {
                fill_aligned_plane(plan, aligned_plane_shape, input + p * in_plane, padded);
                depthwise_3x3s1_plane(plan, aligned_plane_shape, padded, plan->base.weights + c * taps,
                                      plan->base.bias != NULL ? plan->base.bias[c] : 0.0f, output + p * out_plane);
                continue;
            }
            hc_conv2d_depthwise_fill_plane(plan, shape, input + p * in_plane, padded, padded + plane_floats);
            depthwise_plane(plan, shape, padded, tap_offsets, plan->base.weights + c * taps, plan->base.bias != NULL ? plan->base.bias[c] : 0.0f,
                            output + p * out_plane);
        }
        hc_parallel_join(&finished);
    }
    return failed ? hc_fail(HC_STATUS_OUT_OF_MEMORY, "out of memory for a depthwise workspace") : HC_STATUS_OK;
}

HC_CONV2D_FORWARD_ALGORITHM(hc_conv2d_depthwise_avx512, "depthwise_direct_avx512", HC_ISA_AVX512, accepts_depthwise_avx512, hc_conv2d_no_pack, run_depthwise);
