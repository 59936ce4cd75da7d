/*
 * HpcCnn: convolutional-network kernels. The whole public C API.
 *
 * Conventions
 *  - Tensors are float32, NCHW; convolution weights are KCRS (out_channels, in_channels/groups,
 *    kernel_height, kernel_width), dense weights out x in. Sizes and lengths are int64_t and counted
 *    in elements.
 *  - Every entry point validates its arguments and returns an hc_status. On failure it leaves a
 *    message naming the parameter and the rule in a thread-local buffer read by hc_last_error().
 *    Nothing aborts, and nothing reads or writes outside the buffers passed in.
 *  - Operations run through plans: an operation's create function validates the problem for one
 *    direction (forward inference or training, backward data, backward weights), chooses an
 *    algorithm from that (operation, direction)'s ordered list and sizes everything; then
 *    hc_plan_execute runs it any number of times on the buffers passed by role (hc_arg). A plan
 *    that uses weights takes them at creation or from hc_plan_set_weights, which repacks them
 *    (training changes weights every step; the plan is not recreated).
 *  - A plan may be executed from several threads at once on different buffers; set_weights must
 *    not run while the same plan executes. Outputs of a call must not overlap any other buffer of
 *    that call unless the operation says so (elementwise runs in place).
 *  - Runs are parallelised with OpenMP inside each call, and give the same bits for any thread
 *    count (reductions over the batch use fixed chunks summed in a fixed order). libgomp's
 *    workers spin for a while after a call returns unless OMP_WAIT_POLICY=PASSIVE is set before
 *    libgomp loads (the .NET binding sets it for the load only, when the process has not chosen a
 *    policy, and removes it again). libgomp keeps one worker pool per calling thread: N threads
 *    executing plans at once use up to N x num_threads OS threads.
 *  - Memory a plan needs beyond its buffers (packed weights, per-thread scratch) is sized by what
 *    its outputs read, never by a stride or a padding alone.
 *  - Dilation is 1-based here (1 = dense kernel), as in PyTorch; the benchdnn text form used by
 *    the tools counts it from 0.
 *  - NaN and infinities, on every backend and code path: IEEE arithmetic on the definitions, and
 *    NaN propagates, as in PyTorch and ONNX Runtime. An output whose definition reads a NaN is NaN:
 *    max pooling and ReLU included (max pooling's argmax names a window's first NaN, NaN counting
 *    as larger than any number); infinities give what IEEE gives (inf - inf and 0 * inf are NaN).
 *    Convolution padding is zeros read like any input, so a forward or weights-gradient output
 *    that multiplies padding by an infinite or NaN weight or dL/dz is NaN, as a GEMM over the
 *    padded input computes it; backward data sums over the outputs that exist only. Selections
 *    stay selections: ReLU's backward gives 0 where y <= 0, dropout 0 where it drops. Which NaN
 *    (sign, payload) is unspecified.
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

/* Elementwise activations, one list for the fused epilogues of convolutions and for the
 * standalone elementwise operation. The backward pass reads the forward output y:
 *   NONE        y = x                              dx = dy
 *   RELU        y = x > 0 ? x : 0 (NaN stays NaN)  dx = y <= 0 ? 0 : dy
 *   LEAKY_RELU  y = x > 0 ? x : alpha * x          dx = y > 0 ? dy : alpha * dy  (alpha >= 0)
 *   TANH        y = tanh(x)                        dx = dy * (1 - y^2)
 *   SIGMOID     y = 1 / (1 + exp(-x))              dx = dy * y * (1 - y)            */
typedef enum hc_activation {
    HC_ACTIVATION_NONE = 0,
    HC_ACTIVATION_RELU = 1,
    HC_ACTIVATION_LEAKY_RELU = 2,
    HC_ACTIVATION_TANH = 3,
    HC_ACTIVATION_SIGMOID = 4
} hc_activation;

/* Pooling algorithms. */
typedef enum hc_pool_algorithm {
    HC_POOL_MAX = 0,
    /* Average over the whole window, padding counted as zeros (benchdnn avg_p). */
    HC_POOL_AVERAGE_INCLUDE_PADDING = 1,
    /* Average over the window's elements inside the image (benchdnn avg_np). */
    HC_POOL_AVERAGE_EXCLUDE_PADDING = 2
} hc_pool_algorithm;

/* What a plan computes, as oneDNN's propagation kinds and benchdnn's --dir. */
typedef enum hc_direction {
    /* y from x (benchdnn FWD_I). */
    HC_DIRECTION_FORWARD_INFERENCE = 0,
    /* y from x, saving what the backward pass needs in the workspace, if anything (FWD_D). */
    HC_DIRECTION_FORWARD_TRAINING = 1,
    /* dL/dx from dL/dy (BWD_D). */
    HC_DIRECTION_BACKWARD_DATA = 2,
    /* dL/dweights, and dL/dbias when that argument is given, from x and dL/dy (BWD_W, BWD_WB). */
    HC_DIRECTION_BACKWARD_WEIGHTS = 3
} hc_direction;

/* The role of a buffer passed to hc_plan_execute; each operation's create function documents
 * which roles each direction reads and writes, and the lengths it needs. */
typedef enum hc_arg_kind {
    HC_ARG_SRC = 1,          /* x, read */
    HC_ARG_DST = 2,          /* y, written */
    HC_ARG_DIFF_SRC = 3,     /* dL/dx, written */
    HC_ARG_DIFF_DST = 4,     /* dL/dy, read */
    HC_ARG_DIFF_WEIGHTS = 5, /* dL/dweights, written */
    HC_ARG_DIFF_BIAS = 6,    /* dL/dbias, written */
    HC_ARG_WORKSPACE = 7,    /* int32: written by forward training, read by backward data */
    HC_ARG_LABELS = 8,       /* int32 class indices, read */
    HC_ARG_LOSS = 9          /* one float, written */
} hc_arg_kind;

/* One buffer of a call: its role, its first element (float, or int32 where the role says so)
 * and how many elements it holds (at least what the plan needs; more is allowed). */
typedef struct hc_arg {
    hc_arg_kind kind;
    void* data;
    int64_t length;
} hc_arg;

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
    /* Applied to the sum and bias; the backward passes take dL/dy of the activated output. */
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

/* What a plan chose, for logs and benchmarks. algorithm lives as long as the plan (a plan that
 * runs through another names both: "as_forward:gemm_implicit_8x32_avx512"); isa is static. */
typedef struct hc_plan_info {
    const char* algorithm;
    const char* isa;
    int32_t num_threads;
    int64_t workspace_bytes;
} hc_plan_info;

/* Elementwise activation of `length` values. */
typedef struct hc_eltwise_desc {
    hc_activation activation;
    /* Slope for HC_ACTIVATION_LEAKY_RELU (at least 0 for the backward pass); ignored otherwise. */
    float alpha;
    int64_t length;
} hc_eltwise_desc;

/* A dense (fully connected, inner product) layer: y[b][o] = act(bias[o] + sum over i of
 * x[b][i] * w[o][i]), the weights out_features x in_features as PyTorch's nn.Linear keeps them.
 * An NCHW input is its flattened C*H*W features. */
typedef struct hc_dense_desc {
    int64_t batch;
    int64_t in_features;
    int64_t out_features;
    hc_activation activation;
    /* Slope for HC_ACTIVATION_LEAKY_RELU (at least 0 for the backward passes); ignored otherwise. */
    float activation_alpha;
} hc_dense_desc;

/* Softmax over the classes of each row, fused with categorical cross-entropy for training. */
typedef struct hc_softmax_desc {
    int64_t batch;
    int64_t classes;
} hc_softmax_desc;

/* Inverted dropout: each element is kept with probability 1 - rate and scaled by 1 / (1 - rate).
 * Whether element i is kept at training step `step` is decided by Philox4x32-10 (Salmon et al.,
 * 2011) with key (seed low, seed high) and counter (i / 4 low, i / 4 high, step low, step high):
 * word i % 4 of the result, r, keeps the element when (r >> 8) * 2^-24 >= rate. The mask is thus a
 * function of (seed, step, i) alone: the same on every backend and thread count, recomputed by the
 * backward pass instead of stored. DropConnect is this mask on a dense layer's weights. */
typedef struct hc_dropout_desc {
    float rate; /* in [0, 1) */
    uint64_t seed;
} hc_dropout_desc;

/* Stochastic gradient descent, as PyTorch's torch.optim.SGD (dampening 0):
 *   g = gradient + weight_decay * w
 *   v = momentum * v + g                                 (when momentum != 0)
 *   w = w - learning_rate * (nesterov ? g + momentum * v : momentum != 0 ? v : g)
 * each step evaluated in float in this order, without fused multiply-adds. */
typedef struct hc_sgd_desc {
    float learning_rate;
    float momentum;
    float weight_decay;
    int32_t nesterov; /* 0 or 1; needs momentum > 0 */
} hc_sgd_desc;

/* Adam with bias correction, as PyTorch's torch.optim.Adam (weight decay added to the gradient):
 *   g = gradient + weight_decay * w
 *   m = beta1 * m + (1 - beta1) * g;   v = beta2 * v + (1 - beta2) * g * g
 *   w = w - step_size * m / (sqrt(v) / root_correction2 + epsilon)
 * with step_size = learning_rate / (1 - beta1^t) and root_correction2 = sqrt(1 - beta2^t), both
 * computed in double and rounded to float, t the 1-based step; in float, in this order, without
 * fused multiply-adds. */
typedef struct hc_adam_desc {
    float learning_rate;
    float beta1;
    float beta2;
    float epsilon;
    float weight_decay;
} hc_adam_desc;

typedef struct hc_plan hc_plan;

/* ---- library ---- */

/* Static English name of a status, e.g. "invalid argument". */
HC_API const char* hc_status_string(hc_status status);
/* Message left by the last failed call on this thread; "" after a successful call. */
HC_API const char* hc_last_error(void);
/* Library version, "major.minor.patch". */
HC_API const char* hc_version(void);
/* The CPU features detected and the code path the dispatcher chose, e.g. "path=avx2 cpu=avx2 fma l2=1024KiB" (the per-core L2 size blockings use). */
HC_API const char* hc_cpu_features(void);
/* The best instruction set this CPU supports, capped by HPCCNN_MAX_ISA. */
HC_API hc_isa hc_best_isa(void);
/* Static name of an instruction set: "auto", "generic", "avx2", "avx512". */
HC_API const char* hc_isa_string(hc_isa isa);
/* Threads a plan uses when its options say 0: the number of processors unless changed. */
HC_API int32_t hc_default_num_threads(void);
HC_API hc_status hc_set_default_num_threads(int32_t num_threads);

/* Static English name of a direction, as benchdnn writes it: "FWD_I", "FWD_D", "BWD_D", "BWD_W". */
HC_API const char* hc_direction_string(hc_direction direction);

/* Measures the machine's float32 FMA throughput with num_threads threads (0 = default) on the
 * best instruction set, in GFLOP/s (2 FLOPs per lane per FMA). Takes about 0.1 s. Benchmarks
 * report percentages of this figure. */
HC_API hc_status hc_measure_fma_peak(int32_t num_threads, double* gflops);

/* ---- plans: the same calls for every operation ---- */

/* Runs the plan on `count` buffers given by role. Every role the plan's direction needs must be
 * present, once; roles it does not use are refused. */
HC_API hc_status hc_plan_execute(const hc_plan* plan, const hc_arg* args, int32_t count);
/* Replaces the plan's weights (and bias; NULL with bias_length 0 keeps none, or removes a bias
 * the plan had) and repacks them. Only for plans that use weights: convolution and dense,
 * forward and backward data. Must not run while the plan executes on another thread. */
HC_API hc_status hc_plan_set_weights(hc_plan* plan, const float* weights, int64_t weights_length,
                                     const float* bias, int64_t bias_length);
HC_API hc_status hc_plan_get_info(const hc_plan* plan, hc_plan_info* info);
/* Releases the plan; NULL is ignored. */
HC_API void hc_plan_destroy(hc_plan* plan);

/* ---- convolution ----
 * Forward (inference or training): SRC (input_length) -> DST (output_length); uses the weights.
 * Backward data: DIFF_DST (output_length) -> DIFF_SRC (input_length); uses the weights (and the
 * activation needs DST, the forward output, unless it is NONE).
 * Backward weights: SRC, DIFF_DST (and DST unless the activation is NONE) -> DIFF_WEIGHTS
 * (weights_length) and, if given, DIFF_BIAS (out_channels).
 * input_length = batch*in_channels*in_height*in_width, output_length = batch*out_channels*out_height*out_width,
 * weights_length = out_channels*in_channels/groups*kernel_height*kernel_width. */

/* weights (KCRS) and bias (NULL with bias_length 0 for none, else out_channels values) may be
 * NULL with length 0 for a plan whose weights come later from hc_plan_set_weights; a plan that
 * uses weights refuses to execute before it has them. */
HC_API hc_status hc_conv2d_create(const hc_conv2d_desc* desc, hc_direction direction,
                                  const float* weights, int64_t weights_length,
                                  const float* bias, int64_t bias_length,
                                  const hc_plan_options* options, hc_plan** plan);

/* ---- pooling ----
 * Forward inference: SRC -> DST. Forward training: SRC -> DST and, for max pooling, WORKSPACE
 * (int32, output_length: the index of each window's maximum within its input plane).
 * Backward data: DIFF_DST (and WORKSPACE for max pooling) -> DIFF_SRC. */
HC_API hc_status hc_pool2d_create(const hc_pool2d_desc* desc, hc_direction direction,
                                  const hc_plan_options* options, hc_plan** plan);

/* ---- dense ----
 * The same roles as convolution, with input_length = batch*in_features, output_length =
 * batch*out_features, weights_length = out_features*in_features, bias out_features. Every
 * direction runs on the GEMM driver; the weights gradient reduces over the batch in order. */
HC_API hc_status hc_dense_create(const hc_dense_desc* desc, hc_direction direction,
                                 const float* weights, int64_t weights_length,
                                 const float* bias, int64_t bias_length,
                                 const hc_plan_options* options, hc_plan** plan);

/* ---- elementwise ----
 * Forward: SRC -> DST (DST may be SRC itself, not otherwise overlapping).
 * Backward data: DST (the forward output) and DIFF_DST -> DIFF_SRC (which may be DIFF_DST itself). */
HC_API hc_status hc_eltwise_create(const hc_eltwise_desc* desc, hc_direction direction,
                                   const hc_plan_options* options, hc_plan** plan);

/* ---- softmax with cross-entropy ----
 * Forward inference: SRC (logits, batch x classes) -> DST (probabilities).
 * Forward training: SRC and LABELS (int32, batch, each in [0, classes)) -> DST and LOSS (one
 *   float: the mean over the batch of -log p[label], computed as log-sum-exp minus the label's
 *   logit with the row's maximum subtracted first, so logits of any finite size work). LABELS
 *   and LOSS may both be left out (probabilities only).
 * Backward data: DST (the probabilities) and LABELS -> DIFF_SRC = (p - onehot(label)) / batch,
 *   the gradient of the mean loss. */
HC_API hc_status hc_softmax_create(const hc_softmax_desc* desc, hc_direction direction,
                                   const hc_plan_options* options, hc_plan** plan);

/* ---- dropout (hc_dropout_desc) ----
 * Forward at training step `step`: y = kept ? x * scale : 0 with scale = 1 / (1 - rate) in
 * float; backward: dx = kept ? dy * scale : 0 with the same mask. y may be x and dx may be dy (in
 * place); otherwise the buffers must not overlap. */
HC_API hc_status hc_dropout_forward(const hc_dropout_desc* desc, int64_t step, const float* x, float* y, int64_t length,
                                    const hc_plan_options* options);
HC_API hc_status hc_dropout_backward(const hc_dropout_desc* desc, int64_t step, const float* dy, float* dx, int64_t length,
                                     const hc_plan_options* options);

/* ---- optimizer updates, in place ----
 * velocity may be NULL when momentum is 0; the moments start at zero and step counts from 1.
 * The buffers must not overlap one another. */
HC_API hc_status hc_sgd_update(const hc_sgd_desc* desc, float* weights, const float* gradients, float* velocity, int64_t length,
                               const hc_plan_options* options);
HC_API hc_status hc_adam_update(const hc_adam_desc* desc, int64_t step, float* weights, const float* gradients, float* first_moment,
                                float* second_moment, int64_t length, const hc_plan_options* options);

#ifdef __cplusplus
}
#endif

#endif /* HPCCNN_H */
