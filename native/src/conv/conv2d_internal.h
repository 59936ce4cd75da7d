/* The convolution plan and its algorithms, for every direction. */
#ifndef HPCCNN_CONV_CONV2D_INTERNAL_H
#define HPCCNN_CONV_CONV2D_INTERNAL_H

#include "../core/plan.h"

typedef struct hc_conv2d {
    hc_plan base; /* first: a plan pointer converts to this and back */
    hc_conv2d_desc desc;
    int64_t out_height;
    int64_t out_width;
    int64_t input_length;
    int64_t output_length;
    int64_t weights_length; /* out_channels * in_channels / groups * kernel_height * kernel_width */
    /* Backward data computed as a forward convolution: that plan (owned), else NULL. */
    hc_plan* forward_of_backward;
} hc_conv2d;

static inline const hc_conv2d* hc_conv(const hc_plan* plan) { return (const hc_conv2d*)plan; }
static inline hc_conv2d* hc_conv_mutable(hc_plan* plan) { return (hc_conv2d*)plan; }

/* A forward algorithm written against the convolution's own types: accepts(plan),
 * pack(plan) packing plan->base.weights into hc_plan_packed (may be hc_conv2d_no_pack), and
 * run(plan, input, output). The macro defines the hc_algorithm `symbol` that adapts them. */
#define HC_CONV2D_FORWARD_ALGORITHM(symbol, name_text, isa_value, accepts_fn, pack_fn, run_fn)                          \
    static bool symbol##_accepts(const hc_plan* plan) { return accepts_fn(hc_conv(plan)); }                            \
    static hc_status symbol##_pack(hc_plan* plan) { return pack_fn(hc_conv_mutable(plan)); }                           \
    static hc_status symbol##_run(const hc_plan* plan, const hc_args* args) {                                          \
        return run_fn(hc_conv(plan), hc_arg_in(args, HC_ARG_SRC), hc_arg_out(args, HC_ARG_DST));                       \
    }                                                                                                                  \
    const hc_algorithm symbol = {.name = name_text, .isa = isa_value, .accepts = symbol##_accepts, .pack = symbol##_pack, \
                                 .run = symbol##_run}

static inline hc_status hc_conv2d_no_pack(hc_conv2d* plan) {
    (void)plan;
    return HC_STATUS_OK;
}

/* One image's first `channels` input planes copied onto row pitch `pitch`, each plane
 * `plane_floats` long and zero outside the image: element i·pitch + j of plane c is
 * x[c][i - pad_top][j - pad_left], for the out_h + (kh-1)·dh rows a stride-1 kernel reaches
 * (the layout of the direct_flat forward and the direct weights gradient). */
void hc_conv2d_copy_pitched(const hc_conv2d* plan, const float* image, int64_t channels, int64_t pitch, int64_t plane_floats, float* out);

/* Input channels per group times the kernel's taps: the rows of a group's im2col matrix. */
int64_t hc_conv2d_taps_per_group(const hc_conv2d_desc* d);

/* The weights gradients read the im2col rows in place from a zero-padded copy of one image's
 * group split by stride phase: plane (c, ph, pc) holds element (i, j) =
 * x[c][i*sh + ph - pad_top][j*sw + pc - pad_left], so tap (c, r, s) of output (oh, ow) is element
 * (oh + r*dh / sh, ow + s*dw / sw) of plane (c, r*dh % sh, s*dw % sw): a row of the im2col matrix
 * is out_h runs of out_w elements `pitch` apart from one offset. */
typedef struct hc_conv2d_phase_window {
    int64_t rows, pitch, plane;
} hc_conv2d_phase_window;

hc_conv2d_phase_window hc_conv2d_window_of(const hc_conv2d* plan);
/* Floats of one image's group window (saturating). */
int64_t hc_conv2d_window_floats(const hc_conv2d* plan);
/* Where each im2col row (tap) of the group starts in the window. */
void hc_conv2d_window_tap_offsets(const hc_conv2d* plan, int64_t* offsets);
/* Fills channels [c_begin, c_end) of the window from the group's channels of one image, x. */
void hc_conv2d_fill_window(const hc_conv2d* plan, const float* x, float* window, int64_t c_begin, int64_t c_end);
/* dL/db[k] = sum over images and pixels of dz, in 16 fixed lanes (pixel mod 16), then in order;
 * one output channel per task, so any thread count gives the same bits. */
void hc_conv2d_bias_gradient(const hc_conv2d* plan, const float* dz, float* db, int threads);

/* The depthwise AVX-512 kernels' zero-padded copy of one plane: `rows` rows of `row_length`
 * floats, each split into stride_w phases of `phase_width` floats (padded column X at
 * (X % sw) * phase_width + X / sw), with slack past the last vector, so that the inputs of one
 * tap for 16 neighbouring outputs are one plain load for any stride, padding and dilation. */
typedef struct hc_conv2d_padded_plane {
    int64_t rows, phase_width, row_length;
} hc_conv2d_padded_plane;

hc_conv2d_padded_plane hc_conv2d_depthwise_plane_shape(const hc_conv2d* plan);
/* Multiplier 1 (groups = in = out channels), a stride within the kernel, a plane under 2^24 floats. */
bool hc_conv2d_depthwise_plane_fits(const hc_conv2d* plan);
/* Copies plane x into `dst` (rows x row_length floats + 32 of slack); `scratch` holds one unsplit
 * padded row (2 * phase_width + 64 floats) for stride 2. AVX-512: call only on a CPU that has it. */
void hc_conv2d_depthwise_fill_plane(const hc_conv2d* plan, hc_conv2d_padded_plane shape, const float* x, float* dst, float* scratch);

/* ---- forward ---- */

/* Depthwise (one input and one output channel per group), direct, AVX-512 and AVX2. */
extern const hc_algorithm hc_conv2d_depthwise_avx512;
extern const hc_algorithm hc_conv2d_depthwise_avx2;
/* Direct convolution on a channel-blocked (NCHW16c) copy of the input, 6 pixels x 64 channels per tile. */
extern const hc_algorithm hc_conv2d_direct_blocked_6x64_avx512;
/* The same on plain padded NCHW rows, one channel per step, for few input channels (alexnet_c1's 3). */
extern const hc_algorithm hc_conv2d_direct_plain_6x64_avx512;
/* Stride 1, at most 16 output channels: each image's input on one padded row pitch, tiles of
 * output channels x 64 pixels accumulated in registers (LeNet's layers and their backward data). */
extern const hc_algorithm hc_conv2d_direct_flat_avx512;
/* The GEMM convolutions below with the 8x32 AVX-512 micro-kernel. */
extern const hc_algorithm hc_conv2d_gemm_rows_window_8x32_avx512;
extern const hc_algorithm hc_conv2d_gemm_1x1_8x32_avx512;
extern const hc_algorithm hc_conv2d_gemm_implicit_8x32_avx512;
/* 1x1, stride 1, no padding: a packed GEMM straight over the NCHW input. */
extern const hc_algorithm hc_conv2d_gemm_1x1_6x16_avx2;
/* Any convolution: packed GEMM whose input panels are gathered block by block (implicit im2col:
 * the full im2col matrix never exists). */
extern const hc_algorithm hc_conv2d_gemm_implicit_6x16_avx2;
/* Fewer than 32 output channels and 16 or more images, with up to 8 input channels or a reach
 * wide for the plane: 16 images to a vector, tiles of 6 output channels by 4 pixels, padding
 * skipped where the weights are finite (LeNet's layers, and its second layer's backward data
 * through as_forward). */
extern const hc_algorithm hc_conv2d_lanes_6x4_avx512;
/* Direct convolution in plain C: any problem, any CPU. The last entry of the forward list. */
extern const hc_algorithm hc_conv2d_direct_generic;

/* ---- backward ---- */

/* Backward data of a stride-1 convolution whose padding is at most the dilated kernel's reach:
 * a forward convolution of dL/dy with the kernels flipped and input and output channels swapped,
 * so it runs on the fastest forward algorithm. */
extern const hc_algorithm hc_conv2d_backward_data_as_forward;
/* Backward data as a GEMM (the weights transposed times dL/dz) into im2col columns, added back
 * onto dL/dx (col2im); any stride, padding and dilation, 4 or more output channels per group. */
extern const hc_algorithm hc_conv2d_backward_data_gemm_col2im_8x32_avx512;
extern const hc_algorithm hc_conv2d_backward_data_gemm_col2im_6x16_avx2;
extern const hc_algorithm hc_conv2d_backward_data_gemm_col2im_4x16_generic;
/* Backward data in plain C: each input element gathers the outputs its taps reach. Last entry. */
extern const hc_algorithm hc_conv2d_backward_data_generic;
/* Weights gradient as GEMMs of dL/dz with the im2col columns of each block of output rows,
 * accumulated in order; 4 or more output channels per group. */
extern const hc_algorithm hc_conv2d_backward_weights_im2col_gemm_8x32_avx512;
extern const hc_algorithm hc_conv2d_backward_weights_im2col_gemm_6x16_avx2;
extern const hc_algorithm hc_conv2d_backward_weights_im2col_gemm_4x16_generic;
/* Depthwise weights gradient (multiplier 1): one channel per task, each image's plane in the
 * forward kernel's padded layout, a register accumulator per tap (up to 5x5). */
extern const hc_algorithm hc_conv2d_backward_weights_depthwise_avx512;
/* Weights gradient as dWᵀ = columns · dZᵀ, the im2col rows broadcast in place from the phase-split
 * window and dZᵀ packed (no transpose of the columns), a fused activation's derivative and the
 * bias taken block by block while packing; 24 or more output channels per group. */
extern const hc_algorithm hc_conv2d_backward_weights_taps_8x32_avx512;
/* Weights gradient of a stride-1 convolution with few channels: every image re-pitched onto one
 * row width, then flat correlations with the accumulators in registers (LeNet's layers). */
extern const hc_algorithm hc_conv2d_backward_weights_direct_avx512;
/* The same problems with 16 or more images: 16 images to a vector, no work on anything but the
 * outputs (the direct kernel's re-pitched rows multiply zero columns), the activation's
 * derivative fused into the transpose of dL/dy. */
extern const hc_algorithm hc_conv2d_backward_weights_lanes_avx512;
/* The few-channel weights gradients' problems (direct and images in lanes): at most 16 output or
 * 3 input channels per group (where the im2col GEMM's rows or columns are too few, it is the
 * slower), at most 512 taps per output channel, and a kernel row that fits their accumulators
 * (HC_CONV2D_WEIGHTS_BLOCKS instantiates widths up to HC_CONV2D_WEIGHTS_MAX_WIDTH). */
#define HC_CONV2D_WEIGHTS_MAX_WIDTH 7
static inline bool hc_conv2d_weights_few_channels(const hc_conv2d_desc* d) {
    const int64_t k_per_group = d->out_channels / d->groups, c_per_group = d->in_channels / d->groups;
    return (k_per_group <= 16 || c_per_group <= 3) && c_per_group * d->kernel_height * d->kernel_width <= 512 &&
           d->kernel_width <= HC_CONV2D_WEIGHTS_MAX_WIDTH;
}

/* Their output channels per task (KB): KB·kw accumulators, kw inputs and one dz vector fit the 32
 * vector registers, KB at most HC_CONV2D_WEIGHTS_MAX_BLOCK; of the blocks that pad the fewest
 * zero channels, the larger (fewer loads per FMA). */
#define HC_CONV2D_WEIGHTS_MAX_BLOCK 8
static inline int64_t hc_conv2d_weights_block(int64_t k_per_group, int64_t kernel_width) {
    const int64_t fit = (31 - kernel_width) / kernel_width, most = fit < HC_CONV2D_WEIGHTS_MAX_BLOCK ? fit : HC_CONV2D_WEIGHTS_MAX_BLOCK;
    int64_t best = most;
    for (int64_t b = most; b >= 1 && b >= most - 3; b--)
        if ((k_per_group + b - 1) / b * b < (k_per_group + best - 1) / best * best) best = b;
    return best;
}
/* Every (kb, kw) hc_conv2d_weights_block can choose (kb <= min(8, (31 - kw) / kw), kw <= 7), as
 * CASE(kb, kw): for a switch on kb·16 + kw that instantiates a kernel per pair. */
#define HC_CONV2D_WEIGHTS_BLOCKS_FOR_WIDTH(CASE, kw) CASE(1, kw) CASE(2, kw) CASE(3, kw) CASE(4, kw) CASE(5, kw) CASE(6, kw) CASE(7, kw) CASE(8, kw)
#define HC_CONV2D_WEIGHTS_BLOCKS(CASE)                                                                                              \
    HC_CONV2D_WEIGHTS_BLOCKS_FOR_WIDTH(CASE, 1) HC_CONV2D_WEIGHTS_BLOCKS_FOR_WIDTH(CASE, 2) HC_CONV2D_WEIGHTS_BLOCKS_FOR_WIDTH(CASE, 3) \
    CASE(1, 4) CASE(2, 4) CASE(3, 4) CASE(4, 4) CASE(5, 4) CASE(6, 4) CASE(1, 5) CASE(2, 5) CASE(3, 5) CASE(4, 5) CASE(5, 5)         \
    CASE(1, 6) CASE(2, 6) CASE(3, 6) CASE(4, 6) CASE(1, 7) CASE(2, 7) CASE(3, 7)

/* Weights (and bias) gradient in plain C, one output channel per task. Last entry. */
extern const hc_algorithm hc_conv2d_backward_weights_generic;

/* Whether any of v[0..count) is infinite or NaN; one vectorised pass. */
bool hc_any_non_finite(const float* v, int64_t count);

/* For the weights-gradient paths that skip padding: padding is zeros read like any input
 * (hpccnn.h), so an infinite or NaN dL/dz whose tap (r, s) falls in padding makes
 * dL/dw[k][.][r][s] NaN, as a GEMM over the padded input computes it. One pass over dz finds
 * whether there is anything to do; only then are the border outputs visited. */
void hc_conv2d_weights_gradient_nan_over_padding(const hc_conv2d* plan, const float* dz, float* dw);

/* dL/d(pre-activation) for the backward passes (hc_eltwise_pre_activation); NULL when out of memory. */
const float* hc_conv2d_diff_pre_activation(const hc_conv2d* plan, const hc_args* args);

/* Threads a backward pass uses for its 2 · outputs · taps-per-group FLOPs (hc_threads_for_flops). */
int hc_conv2d_backward_threads(const hc_conv2d* plan);

/* What every weights-gradient algorithm starts from. */
typedef struct hc_conv2d_weights_gradient {
    const float* dz; /* dL/d(pre-activation) */
    const float* x;
    float* dw;
    float* db; /* NULL without the bias */
    int threads;
} hc_conv2d_weights_gradient;

/* Reads them from args, computing dz when an activation is fused; HC_STATUS_OUT_OF_MEMORY when it cannot. */
hc_status hc_conv2d_weights_gradient_of(const hc_conv2d* plan, const hc_args* args, hc_conv2d_weights_gradient* gradient);

/* True when each stride is at most twice its (dilated) kernel extent. The phase-split windows
 * of the GEMM paths hold every row and column between a block's first and last tap, so a longer
 * stride fills mostly what no tap reads (one output of a huge stride made a window as large as
 * the stride); those problems go to the direct paths, whose memory does not depend on it. */
static inline bool hc_conv2d_stride_within_kernel(const hc_conv2d_desc* d) {
    return d->stride_height <= 2 * ((d->kernel_height - 1) * d->dilation_height + 1) &&
           d->stride_width <= 2 * ((d->kernel_width - 1) * d->dilation_width + 1);
}

#endif
