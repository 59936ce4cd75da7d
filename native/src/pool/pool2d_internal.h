/* The pooling plan and the contract every pooling algorithm implements. */
#ifndef HPCCNN_POOL_POOL2D_INTERNAL_H
#define HPCCNN_POOL_POOL2D_INTERNAL_H

#include "../core/internal.h"

struct hc_pool2d {
    hc_pool2d_desc desc;
    int64_t out_height;
    int64_t out_width;
    int64_t input_length;
    int64_t output_length;
    const struct hc_pool2d_algorithm* algorithm;
    hc_isa isa;     /* best instruction set the plan may use */
    int32_t num_threads;
    char text[160]; /* benchdnn descriptor, for HPCCNN_VERBOSE */
};

/* One entry of the ordered algorithm list in pool2d.c; same contract as convolution's. */
typedef struct hc_pool2d_algorithm {
    const char* name;
    hc_isa isa;
    bool (*accepts)(const struct hc_pool2d* plan);
    hc_status (*run)(const struct hc_pool2d* plan, const float* input, float* output);
} hc_pool2d_algorithm;

/* Kernel for one (image, channel) plane; scratch is the thread's buffer, or NULL if none was asked for. */
typedef void (*hc_pool2d_plane_fn)(const struct hc_pool2d* plan, const float* input, float* output, float* scratch);

/* Runs `plane` over every plane of the batch, in parallel when there is enough work, each thread
 * with its own scratch buffer of scratch_bytes (0 for none). One task per plane, so results do
 * not depend on the thread count. */
hc_status hc_pool2d_run_planes(const struct hc_pool2d* plan, const float* input, float* output,
                               size_t scratch_bytes, hc_pool2d_plane_fn plane);

/* 3x3 windows with stride 2, padding 0 or 1, AVX-512. */
extern const hc_pool2d_algorithm hc_pool2d_3x3s2_avx512;
/* 2x2 windows with stride 2 and no padding, AVX2. */
extern const hc_pool2d_algorithm hc_pool2d_2x2s2_avx2;
/* Separable window passes (rows, then columns) vectorised along the width, AVX-512. */
extern const hc_pool2d_algorithm hc_pool2d_separable_avx512;
/* Separable window passes (rows, then columns) vectorised along the width, AVX2. */
extern const hc_pool2d_algorithm hc_pool2d_separable_avx2;

/* Window loops in plain C: every algorithm, any CPU. The last entry of the list. */
extern const hc_pool2d_algorithm hc_pool2d_direct_generic;

#endif
