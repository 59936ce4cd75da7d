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
    const struct hc_conv2d_algorithm* algorithm;
    int32_t num_threads;
};

/* One entry of the ordered algorithm list in conv2d.c. `accepts` looks only at the validated
 * problem; `run` may assume lengths and overlap were checked and must write every output. */
typedef struct hc_conv2d_algorithm {
    const char* name;
    bool (*accepts)(const struct hc_conv2d* plan);
    void (*run)(const struct hc_conv2d* plan, const float* input, float* output);
} hc_conv2d_algorithm;

/* Direct convolution in plain C: any problem, any CPU. The last entry of the list. */
extern const hc_conv2d_algorithm hc_conv2d_direct_generic;

#endif
