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
    int32_t num_threads;
};

/* One entry of the ordered algorithm list in pool2d.c; same contract as convolution's. */
typedef struct hc_pool2d_algorithm {
    const char* name;
    bool (*accepts)(const struct hc_pool2d* plan);
    void (*run)(const struct hc_pool2d* plan, const float* input, float* output);
} hc_pool2d_algorithm;

/* Window loops in plain C: every algorithm, any CPU. The last entry of the list. */
extern const hc_pool2d_algorithm hc_pool2d_direct_generic;

#endif
