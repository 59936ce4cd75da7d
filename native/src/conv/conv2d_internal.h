/* The convolution plan and the contract every convolution algorithm implements. */
#ifndef HPCCNN_CONV_CONV2D_INTERNAL_H
#define HPCCNN_CONV_CONV2D_INTERNAL_H

#include "../core/internal.h"

struct hc_conv2d {
    hc_conv2d_desc desc;
    int64_t out_height;
    int64_t out_width;
    int64_t input_length;
    int64_t output_length;
    int64_t weights_length;
    float* weights; /* KCRS copy owned by the plan */
    float* bias;    /* out_channels values owned by the plan, or NULL */
    float* packed;  /* the algorithm's own weight layout (freed with the plan), or NULL */
    const struct hc_conv2d_algorithm* algorithm;
    hc_isa isa;     /* best instruction set the plan may use */
    int32_t num_threads;
    char text[160]; /* benchdnn descriptor, for HPCCNN_VERBOSE */
};

/* One entry of the ordered algorithm list in conv2d.c. An algorithm is tried only when its isa
 * is allowed for the plan; `accepts` looks only at the validated problem; `prepare` (may be
 * NULL) packs weights into plan->packed at creation; `run` may assume lengths and overlap were
 * checked, must write every output, and must give the same bits for any thread count. */
typedef struct hc_conv2d_algorithm {
    const char* name;
    hc_isa isa;
    bool (*accepts)(const struct hc_conv2d* plan);
    hc_status (*prepare)(struct hc_conv2d* plan);
    hc_status (*run)(const struct hc_conv2d* plan, const float* input, float* output);
} hc_conv2d_algorithm;

/* Depthwise (one input and one output channel per group), direct, AVX-512 and AVX2. */
extern const hc_conv2d_algorithm hc_conv2d_depthwise_avx512;
extern const hc_conv2d_algorithm hc_conv2d_depthwise_avx2;
/* Direct convolution on a channel-blocked (NCHW16c) copy of the input, 6 pixels x 64 channels per tile. */
extern const hc_conv2d_algorithm hc_conv2d_direct_blocked_6x64_avx512;
/* The same on plain padded NCHW rows, one channel per step, for few input channels (alexnet_c1's 3). */
extern const hc_conv2d_algorithm hc_conv2d_direct_plain_6x64_avx512;
/* The GEMM convolutions below with the 8x32 AVX-512 micro-kernel. */
extern const hc_conv2d_algorithm hc_conv2d_gemm_rows_window_8x32_avx512;
extern const hc_conv2d_algorithm hc_conv2d_gemm_1x1_8x32_avx512;
extern const hc_conv2d_algorithm hc_conv2d_gemm_implicit_8x32_avx512;
/* 1x1, stride 1, no padding: a packed GEMM straight over the NCHW input. */
extern const hc_conv2d_algorithm hc_conv2d_gemm_1x1_6x16_avx2;
/* Any convolution: packed GEMM whose input panels are gathered block by block (implicit im2col:
 * the full im2col matrix never exists). */
extern const hc_conv2d_algorithm hc_conv2d_gemm_implicit_6x16_avx2;
/* Direct convolution in plain C: any problem, any CPU. The last entry of the list. */
extern const hc_conv2d_algorithm hc_conv2d_direct_generic;

#endif
