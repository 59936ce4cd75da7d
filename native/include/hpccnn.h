/*
 * HpcCnn: convolutional-network kernels. The whole public C API.
 *
 * Conventions
 *  - Tensors are float32, NCHW; convolution weights are KCRS (out_channels, in_channels/groups,
 *    kernel_height, kernel_width). Sizes and lengths are int64_t and counted in elements.
 *  - Every entry point validates its arguments and returns an hc_status. On failure it leaves a
 *    message naming the parameter and the rule in a thread-local buffer read by hc_last_error().
 *    Nothing aborts, and nothing reads or writes outside the buffers passed in.
 *  - Plans are created once (validation, algorithm choice, weight packing) and run many times.
 *    A plan is immutable after creation and may be run from several threads at once on
 *    different buffers. Input and output buffers of a run must not overlap.
 *  - Runs are parallelised with OpenMP inside each call. libgomp's workers spin for a while
 *    after a call returns unless OMP_WAIT_POLICY=PASSIVE is set before the library loads (the
 *    .NET binding sets it when the user has not chosen a policy).
 *  - Dilation is 1-based here (1 = dense kernel), as in PyTorch; the benchdnn text form used by
 *    the tools counts it from 0.
 */
#ifndef HPCCNN_H
#define HPCCNN_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define HC_API __declspec(dllexport)
#else
#define HC_API __attribute__((visibility("default")))
#endif

/* Result of every fallible call. */
typedef enum hc_status {
    HC_STATUS_OK = 0,
    HC_STATUS_INVALID_ARGUMENT = 1,
    HC_STATUS_UNSUPPORTED = 2,
    HC_STATUS_OUT_OF_MEMORY = 3,
    HC_STATUS_INTERNAL = 4
} hc_status;

/* Activation fused into a convolution's epilogue. */
typedef enum hc_activation {
    HC_ACTIVATION_NONE = 0,
    HC_ACTIVATION_RELU = 1,
    /* y = x for x > 0, alpha * x otherwise. */
    HC_ACTIVATION_LEAKY_RELU = 2
} hc_activation;

/* Pooling algorithms. */
typedef enum hc_pool_algorithm {
    HC_POOL_MAX = 0,
    /* Average over the whole window, padding counted as zeros (benchdnn avg_p). */
    HC_POOL_AVERAGE_INCLUDE_PADDING = 1,
    /* Average over the window's elements inside the image (benchdnn avg_np). */
    HC_POOL_AVERAGE_EXCLUDE_PADDING = 2
} hc_pool_algorithm;

/* Elementwise operations. */
typedef enum hc_eltwise_op {
    HC_ELTWISE_RELU = 0,
    /* y = x for x > 0, alpha * x otherwise. */
    HC_ELTWISE_LEAKY_RELU = 1,
    HC_ELTWISE_TANH = 2,
    /* y = 1 / (1 + exp(-x)). */
    HC_ELTWISE_SIGMOID = 3
} hc_eltwise_op;

/* A 2-D convolution. Output size per axis:
 *   (in + pad_before + pad_after - dilation*(kernel-1) - 1) / stride + 1
 * where before/after are top/bottom for the height and left/right for the width. */
typedef struct hc_conv2d_desc {
    int64_t batch;
    int64_t in_channels;
    int64_t in_height;
    int64_t in_width;
    int64_t out_channels;
    int64_t kernel_height;
    int64_t kernel_width;
    int64_t stride_height;
    int64_t stride_width;
    /* Zero padding on each side, independently (TensorFlow's "same" padding and ONNX's
     * pads = [top, left, bottom, right] are often asymmetric). */
    int64_t pad_top;
    int64_t pad_bottom;
    int64_t pad_left;
    int64_t pad_right;
    /* 1-based: 1 is a dense kernel, 2 leaves one gap between taps. */
    int64_t dilation_height;
    int64_t dilation_width;
    /* in_channels and out_channels must both be multiples of groups. */
    int64_t groups;
    hc_activation activation;
    /* Slope for HC_ACTIVATION_LEAKY_RELU; ignored otherwise. */
    float activation_alpha;
} hc_conv2d_desc;

/* A 2-D pooling; global average pooling is average pooling with the kernel the size of the image. */
typedef struct hc_pool2d_desc {
    hc_pool_algorithm algorithm;
    int64_t batch;
    int64_t channels;
    int64_t in_height;
    int64_t in_width;
    int64_t kernel_height;
    int64_t kernel_width;
    int64_t stride_height;
    int64_t stride_width;
    /* Padding on each side, each smaller than the kernel along its axis (ONNX Runtime's rule),
     * so every window holds at least one image element. Average pooling with padding counted
     * divides by the window's size: a window never reaches past the padding. */
    int64_t pad_top;
    int64_t pad_bottom;
    int64_t pad_left;
    int64_t pad_right;
} hc_pool2d_desc;

/* Instruction sets, in increasing order. A plan uses the best one allowed by the CPU, by the
 * environment variable HPCCNN_MAX_ISA (generic | avx2 | avx512) and by its options. */
typedef enum hc_isa {
    /* In options: no cap beyond the CPU and HPCCNN_MAX_ISA. */
    HC_ISA_AUTO = 0,
    /* Portable C, on any CPU. */
    HC_ISA_GENERIC = 1,
    /* AVX2 with FMA3 (x86-64-v3). */
    HC_ISA_AVX2 = 2,
    /* AVX-512F on top of AVX2 and FMA3. */
    HC_ISA_AVX512 = 3
} hc_isa;

/* Options common to every plan. Pass NULL for the defaults. */
typedef struct hc_plan_options {
    /* Threads one run may use; 0 means hc_default_num_threads(). */
    int32_t num_threads;
    /* The best instruction set the plan may use; HC_ISA_AUTO for no cap. */
    hc_isa max_isa;
} hc_plan_options;

/* What a plan chose, for logs and benchmarks. The strings are static and never freed. */
typedef struct hc_plan_info {
    const char* algorithm;
    const char* isa;
    int32_t num_threads;
    int64_t workspace_bytes;
} hc_plan_info;

typedef struct hc_conv2d hc_conv2d;
typedef struct hc_pool2d hc_pool2d;

/* ---- library ---- */

/* Static English name of a status, e.g. "invalid argument". */
HC_API const char* hc_status_string(hc_status status);
/* Message left by the last failed call on this thread; "" after a successful call. */
HC_API const char* hc_last_error(void);
/* Library version, "major.minor.patch". */
HC_API const char* hc_version(void);
/* The CPU features detected and the code path the dispatcher chose, e.g. "path=avx2 cpu=avx2 fma". */
HC_API const char* hc_cpu_features(void);
/* The best instruction set this CPU supports, capped by HPCCNN_MAX_ISA. */
HC_API hc_isa hc_best_isa(void);
/* Static name of an instruction set: "auto", "generic", "avx2", "avx512". */
HC_API const char* hc_isa_string(hc_isa isa);
/* Threads a plan uses when its options say 0: the number of processors unless changed. */
HC_API int32_t hc_default_num_threads(void);
HC_API hc_status hc_set_default_num_threads(int32_t num_threads);

/* Measures the machine's float32 FMA throughput with num_threads threads (0 = default) on the
 * best instruction set, in GFLOP/s (2 FLOPs per lane per FMA). Takes about 0.1 s. Benchmarks
 * report percentages of this figure. */
HC_API hc_status hc_measure_fma_peak(int32_t num_threads, double* gflops);

/* ---- convolution ---- */

/* Validates the problem, chooses an algorithm and copies the weights (KCRS, at least
 * out_channels*in_channels/groups*kernel_height*kernel_width elements) and the bias (NULL with
 * bias_length 0 for none, else at least out_channels elements) into the plan. */
HC_API hc_status hc_conv2d_create(const hc_conv2d_desc* desc,
                                  const float* weights, int64_t weights_length,
                                  const float* bias, int64_t bias_length,
                                  const hc_plan_options* options,
                                  hc_conv2d** plan);
/* y = activation(conv(x, weights) + bias). input and output must not overlap. */
HC_API hc_status hc_conv2d_run(const hc_conv2d* plan,
                               const float* input, int64_t input_length,
                               float* output, int64_t output_length);
HC_API hc_status hc_conv2d_get_info(const hc_conv2d* plan, hc_plan_info* info);
/* Releases the plan; NULL is ignored. */
HC_API void hc_conv2d_destroy(hc_conv2d* plan);

/* ---- pooling ---- */

HC_API hc_status hc_pool2d_create(const hc_pool2d_desc* desc,
                                  const hc_plan_options* options,
                                  hc_pool2d** plan);
/* input and output must not overlap. */
HC_API hc_status hc_pool2d_run(const hc_pool2d* plan,
                               const float* input, int64_t input_length,
                               float* output, int64_t output_length);
HC_API hc_status hc_pool2d_get_info(const hc_pool2d* plan, hc_plan_info* info);
/* Releases the plan; NULL is ignored. */
HC_API void hc_pool2d_destroy(hc_pool2d* plan);

/* ---- elementwise ---- */

/* output[i] = op(input[i]) for i < input_length; output_length must be at least input_length.
 * output may be input itself (in place) but must not overlap it otherwise. alpha is the
 * LeakyReLU slope and ignored by the other ops. options may be NULL. */
HC_API hc_status hc_eltwise_forward(hc_eltwise_op op, float alpha,
                                    const float* input, int64_t input_length,
                                    float* output, int64_t output_length,
                                    const hc_plan_options* options);

#ifdef __cplusplus
}
#endif

#endif /* HPCCNN_H */
