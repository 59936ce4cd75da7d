/* Convolution backward passes on the GEMM driver (gemm.h), image by image and group by group,
 * through the im2col matrix
 *   columns[(c, r, s)][(oh, ow)] = x[c][oh*sh - pad_top + r*dh][ow*sw - pad_left + s*dw], 0 outside:
 *   weights gradient  dW_g[Kg x CKK] += dZ_g[Kg x P] · columnsᵀ, image after image, the driver
 *                     packing columnsᵀ straight from x (implicit im2col: no matrix is stored);
 *   data gradient     columns = W_gᵀ · dZ_g[Kg x block] for a block of output rows, each element
 *                     then added back onto the dx element it was gathered from (col2im).
 * Kg is the group's output channels, CKK its input channels times the taps, dZ = act'(y) · dY.
 *
 * Determinism: blocks are sized from the problem and the L2 only, images and blocks run in order,
 * the GEMM reduces every element in a fixed order and col2im adds in a fixed order, so any thread
 * count gives the same bits. */
#include "../gemm/gemm.h"
#include "conv2d_internal.h"

static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }


/* Output rows per block: the block's columns take about half the L2, at least one row. */
static int64_t block_rows(const hc_conv2d* plan) {
    const int64_t row_floats = hc_conv2d_taps_per_group(&plan->desc) * plan->out_width;
    return min64(plan->out_height, max64(1, hc_l2_cache_bytes() / 2 / (int64_t)sizeof(float) / row_floats));
}

/* Output columns ow whose tap at kernel column s reads inside the image: [*first, *last). */
static void inside_columns(const hc_conv2d* plan, int64_t s, int64_t* first, int64_t* last) {
    const hc_conv2d_desc* d = &plan->desc;
    const int64_t shift = d->pad_left - s * d->dilation_width; /* iw = ow*sw - shift */
    *first = shift > 0 ? min64(plan->out_width, ceil_div(shift, d->stride_width)) : 0;
    const int64_t reach = d->in_width - 1 + shift;
    *last = reach < 0 ? 0 : min64(plan->out_width, reach / d->stride_width + 1);
    if (*last < *first) *last = *first;
}

/* A GEMM whose reduction or output side is the group's output channels wastes most of the
 * micro-kernel below a few of them (depthwise has one): those stay on the plain C algorithms. */
static bool accepts_gemm(const hc_plan* base) {
    const hc_conv2d_desc* d = &hc_conv(base)->desc;
    return d->out_channels / d->groups >= 4 && hc_conv2d_taps_per_group(d) >= 4 && hc_conv2d_stride_within_kernel(d) &&
           hc_conv2d_window_floats(hc_conv(base)) < (INT64_C(1) << 31);
}

/* The inverse gather for input channels [c_begin, c_end) of the group: dx[c][ih][iw] += every
 * column element gathered from there, in (r, s, oh, ow) order. */
static void col2im(const hc_conv2d* plan, const float* columns, int64_t oh0, int64_t rows, int64_t c_begin, int64_t c_end, float* dx) {
    const hc_conv2d_desc* d = &plan->desc;
    const int64_t ow_count = plan->out_width, ld = rows * ow_count, sw = d->stride_width;
    for (int64_t c = c_begin; c < c_end; c++)
        for (int64_t r = 0; r < d->kernel_height; r++)
            for (int64_t s = 0; s < d->kernel_width; s++) {
                int64_t first, last;
                inside_columns(plan, s, &first, &last);
                const float* from = columns + ((c * d->kernel_height + r) * d->kernel_width + s) * ld;
                const int64_t column0 = first * sw - d->pad_left + s * d->dilation_width;
                for (int64_t i = 0; i < rows; i++) {
                    const int64_t ih = (oh0 + i) * d->stride_height - d->pad_top + r * d->dilation_height;
                    if (ih < 0 || ih >= d->in_height) continue;
                    const float* line = from + i * ow_count;
                    float* out = dx + (c * d->in_height + ih) * d->in_width + column0;
                    if (sw == 1) {
                        for (int64_t j = first; j < last; j++) out[j - first] += line[j];
                    } else {
                        for (int64_t j = first; j < last; j++) out[(j - first) * sw] += line[j];
                    }
                }
            }
}

static hc_status backward_weights(const hc_plan* base, const hc_args* args, hc_isa isa) {
    const hc_conv2d* plan = hc_conv(base);
    const hc_conv2d_desc* d = &plan->desc;
    hc_conv2d_weights_gradient gradient;
    if (hc_conv2d_weights_gradient_of(plan, args, &gradient) != HC_STATUS_OK) return HC_STATUS_OUT_OF_MEMORY;
    const float *dz = gradient.dz, *x = gradient.x;
    float *dw = gradient.dw, *db = gradient.db;
    const int threads = gradient.threads;
    const int64_t groups = d->groups, kg = d->out_channels / groups, cg = d->in_channels / groups, ckk = hc_conv2d_taps_per_group(d);
    const int64_t pixels = plan->out_height * plan->out_width, plane = d->in_height * d->in_width;
    if (db != NULL) hc_conv2d_bias_gradient(plan, dz, db, threads);
    /* One thread fills each image's window just before its GEMM, while it is in cache; several
     * fill every image's window of a group at once, so filling is not a serial step per image. */
    const bool bulk = threads > 1;
    const int64_t offset_floats = ceil_div(ckk * (int64_t)sizeof(int64_t), 64) * 16, image_floats = ceil_div(hc_conv2d_window_floats(plan), 16) * 16;
    float* buffer = hc_thread_columns((size_t)(offset_floats + (bulk ? d->batch : 1) * image_floats) * sizeof(float));
    if (buffer == NULL) return hc_fail(HC_STATUS_OUT_OF_MEMORY, "out of memory for the padded images");
    int64_t* offsets = (int64_t*)buffer;
    float* windows = buffer + offset_floats;
    hc_conv2d_window_tap_offsets(plan, offsets);
    for (int64_t g = 0; g < groups; g++) {
        const int64_t tasks = bulk ? d->batch * cg : 0;
        int finished = 0;
#pragma omp parallel num_threads(threads) if (bulk)
        {
#pragma omp for schedule(static) nowait
            for (int64_t t = 0; t < tasks; t++) {
                const int64_t n = t / cg, c = t % cg;
                hc_conv2d_fill_window(plan, x + (n * d->in_channels + g * cg) * plane, windows + n * image_floats, c, c + 1);
            }
            hc_parallel_join(&finished);
        }
        for (int64_t n = 0; n < d->batch; n++) {
            float* window = windows + (bulk ? n * image_floats : 0);
            if (!bulk) hc_conv2d_fill_window(plan, x + (n * d->in_channels + g * cg) * plane, window, 0, cg);
            const hc_gemm_rows columns = {.base = window, .offsets = offsets, .width = plan->out_width, .pitch = hc_conv2d_window_of(plan).pitch};
            const hc_gemm_args gemm = {
                .m = kg, .n = ckk, .k = pixels,
                .a = {.data = dz + (n * d->out_channels + g * kg) * pixels, .ld = pixels},
                .b_rows = &columns,
                .c = dw + g * kg * ckk, .ldc = ckk,
                .accumulate = n > 0,
            };
            const hc_status status = hc_gemm(&gemm, isa, base->num_threads);
            if (status != HC_STATUS_OK) return status;
        }
    }
    return HC_STATUS_OK;
}

/* One image's group: columns = W_gᵀ · dZ block, then col2im into dx (zeroed by the caller). With
 * `threads` > 1 the GEMM and the col2im (by input channel) share the threads. */
static hc_status backward_data_image(const hc_conv2d* plan, const float* dz, float* dx, int64_t n, int64_t g, hc_isa isa, int threads) {
    const hc_conv2d_desc* d = &plan->desc;
    const int64_t kg = d->out_channels / d->groups, cg = d->in_channels / d->groups, ckk = hc_conv2d_taps_per_group(d);
    const int64_t pixels = plan->out_height * plan->out_width, rows = block_rows(plan);
    float* columns = hc_thread_columns((size_t)(ckk * rows * plan->out_width) * sizeof(float));
    if (columns == NULL) return hc_fail(HC_STATUS_OUT_OF_MEMORY, "out of memory for the im2col columns");
    float* image = dx + (n * d->in_channels + g * cg) * d->in_height * d->in_width;
    for (int64_t oh0 = 0; oh0 < plan->out_height; oh0 += rows) {
        const int64_t block = min64(rows, plan->out_height - oh0), width = block * plan->out_width;
        const hc_gemm_args gemm = {
            .m = ckk, .n = width, .k = kg,
            .a = {.data = plan->base.weights + g * kg * ckk, .ld = ckk, .transposed = true},
            .b = {.data = dz + (n * d->out_channels + g * kg) * pixels + oh0 * plan->out_width, .ld = pixels},
            .c = columns, .ldc = width,
        };
        const hc_status status = hc_gemm(&gemm, isa, threads);
        if (status != HC_STATUS_OK) return status;
        if (threads == 1) {
            col2im(plan, columns, oh0, block, 0, cg, image);
        } else {
            int finished = 0;
#pragma omp parallel num_threads(threads)
            {
#pragma omp for schedule(static) nowait
                for (int64_t c = 0; c < cg; c++) col2im(plan, columns, oh0, block, c, c + 1, image);
                hc_parallel_join(&finished);
            }
        }
    }
    return HC_STATUS_OK;
}

static hc_status backward_data(const hc_plan* base, const hc_args* args, hc_isa isa) {
    const hc_conv2d* plan = hc_conv(base);
    const hc_conv2d_desc* d = &plan->desc;
    const float* dz = hc_conv2d_diff_pre_activation(plan, args);
    if (dz == NULL) return HC_STATUS_OUT_OF_MEMORY;
    float* dx = hc_arg_out(args, HC_ARG_DIFF_SRC);
    const int64_t images = d->batch * d->groups;
    const int threads = hc_conv2d_backward_threads(plan);
    int failed = 0;
    if (images >= 2 * threads || threads == 1) {
        /* Whole images per thread, each GEMM on one thread. */
        int finished = 0;
#pragma omp parallel num_threads(threads) if (threads > 1)
        {
#pragma omp for schedule(dynamic, 1) nowait
            for (int64_t item = 0; item < images; item++) {
                const int64_t n = item / d->groups, g = item % d->groups, cg = d->in_channels / d->groups;
                float* image = dx + (n * d->in_channels + g * cg) * d->in_height * d->in_width;
                for (int64_t i = 0; i < cg * d->in_height * d->in_width; i++) image[i] = 0.0f;
                if (backward_data_image(plan, dz, dx, n, g, isa, 1) != HC_STATUS_OK) {
#pragma omp atomic write
                    failed = 1;
                }
            }
            hc_parallel_join(&finished);
        }
        return failed ? HC_STATUS_OUT_OF_MEMORY : HC_STATUS_OK;
    }
    for (int64_t i = 0; i < plan->input_length; i++) dx[i] = 0.0f;
    for (int64_t item = 0; item < images; item++) {
        const hc_status status = backward_data_image(plan, dz, dx, item / d->groups, item % d->groups, isa, threads);
        if (status != HC_STATUS_OK) return status;
    }
    return HC_STATUS_OK;
}

/* The algorithms of one instruction set: the GEMM driver on that set's micro-kernel. */
#define BACKWARD_GEMM_ALGORITHMS(suffix, isa_value)                                                                             \
    static hc_status backward_data_##suffix(const hc_plan* plan, const hc_args* args) { return backward_data(plan, args, isa_value); } \
    static hc_status backward_weights_##suffix(const hc_plan* plan, const hc_args* args) {                                      \
        return backward_weights(plan, args, isa_value);                                                                          \
    }                                                                                                                            \
    const hc_algorithm hc_conv2d_backward_data_gemm_col2im_##suffix = {                                                         \
        .name = "gemm_col2im_" #suffix, .isa = isa_value, .accepts = accepts_gemm, .pack = NULL, .run = backward_data_##suffix};  \
    const hc_algorithm hc_conv2d_backward_weights_im2col_gemm_##suffix = {                                                      \
        .name = "im2col_gemm_" #suffix, .isa = isa_value, .accepts = accepts_gemm, .pack = NULL, .run = backward_weights_##suffix}

BACKWARD_GEMM_ALGORITHMS(8x32_avx512, HC_ISA_AVX512);
BACKWARD_GEMM_ALGORITHMS(6x16_avx2, HC_ISA_AVX2);
BACKWARD_GEMM_ALGORITHMS(4x16_generic, HC_ISA_GENERIC);
