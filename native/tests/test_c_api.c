/* C API tests: every entry point with bad arguments (NULL pointers, absurd sizes, short and
 * overlapping buffers) must return the right status and a message naming the parameter, and
 * a few hand-computed problems must give the right numbers. Run by CTest, and by CI under
 * valgrind so an out-of-bounds access fails the run. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "hpccnn.h"

static int checks_run, checks_failed;

#define CHECK(condition)                                                              \
    do {                                                                              \
        checks_run++;                                                                 \
        if (!(condition)) {                                                           \
            checks_failed++;                                                          \
            fprintf(stderr, "%s:%d: check failed: %s (last error: \"%s\")\n", __FILE__, \
                    __LINE__, #condition, hc_last_error());                           \
        }                                                                             \
    } while (0)

/* The call returned `expected` and left a message containing `fragment`. */
#define CHECK_FAILS(call, expected, fragment)                                         \
    do {                                                                              \
        hc_status status_ = (call);                                                   \
        checks_run++;                                                                 \
        if (status_ != (expected) || strstr(hc_last_error(), (fragment)) == NULL) {   \
            checks_failed++;                                                          \
            fprintf(stderr, "%s:%d: %s returned \"%s\" with message \"%s\"; expected \"%s\" mentioning \"%s\"\n", \
                    __FILE__, __LINE__, #call, hc_status_string(status_), hc_last_error(), \
                    hc_status_string(expected), (fragment));                          \
        }                                                                             \
    } while (0)

#define CHECK_OK(call)                                                                \
    do {                                                                              \
        hc_status status_ = (call);                                                   \
        checks_run++;                                                                 \
        if (status_ != HC_STATUS_OK) {                                                \
            checks_failed++;                                                          \
            fprintf(stderr, "%s:%d: %s failed: %s: %s\n", __FILE__, __LINE__, #call,  \
                    hc_status_string(status_), hc_last_error());                      \
        }                                                                             \
    } while (0)

#define INVALID HC_STATUS_INVALID_ARGUMENT

/* 1x1x3x3 image, 1 output channel, 2x2 kernel, stride 1, no padding. */
static hc_conv2d_desc small_conv(void) {
    return (hc_conv2d_desc){
        .batch = 1, .in_channels = 1, .in_height = 3, .in_width = 3, .out_channels = 1,
        .kernel_height = 2, .kernel_width = 2, .stride_height = 1, .stride_width = 1,
        .pad_top = 0, .pad_bottom = 0, .pad_left = 0, .pad_right = 0, .dilation_height = 1, .dilation_width = 1, .groups = 1,
        .activation = HC_ACTIVATION_NONE, .activation_alpha = 0.0f,
    };
}

static hc_pool2d_desc small_pool(hc_pool_algorithm algorithm) {
    return (hc_pool2d_desc){
        .algorithm = algorithm, .batch = 1, .channels = 1, .in_height = 3, .in_width = 3,
        .kernel_height = 2, .kernel_width = 2, .stride_height = 2, .stride_width = 2,
        .pad_top = 1, .pad_bottom = 1, .pad_left = 1, .pad_right = 1,
    };
}

static const float image3x3[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
static const float ones2x2[4] = {1, 1, 1, 1};

/* A forward (inference) convolution plan. */
static hc_status conv_create(const hc_conv2d_desc* d, const float* w, int64_t w_length, const float* b, int64_t b_length,
                             const hc_plan_options* options, hc_plan** plan) {
    return hc_conv2d_create(d, HC_DIRECTION_FORWARD_INFERENCE, w, w_length, b, b_length, options, plan);
}

static hc_status pool_create(const hc_pool2d_desc* d, const hc_plan_options* options, hc_plan** plan) {
    return hc_pool2d_create(d, HC_DIRECTION_FORWARD_INFERENCE, options, plan);
}

/* Executes with two buffers: the usual shape of a forward or backward-data call. */
static hc_status run2(const hc_plan* plan, hc_arg_kind a_kind, const void* a, int64_t a_length, hc_arg_kind b_kind, void* b,
                      int64_t b_length) {
    const hc_arg args[2] = {{a_kind, (void*)a, a_length}, {b_kind, b, b_length}};
    return hc_plan_execute(plan, args, 2);
}

static hc_status forward(const hc_plan* plan, const float* x, int64_t x_length, float* y, int64_t y_length) {
    return run2(plan, HC_ARG_SRC, x, x_length, HC_ARG_DST, y, y_length);
}

/* One elementwise forward call through a plan made for it. */
static hc_status eltwise_forward(hc_activation activation, float alpha, const float* x, int64_t x_length, float* y, int64_t y_length) {
    const hc_eltwise_desc d = {.activation = activation, .alpha = alpha, .length = x_length};
    hc_plan* plan = NULL;
    hc_status status = hc_eltwise_create(&d, HC_DIRECTION_FORWARD_INFERENCE, NULL, &plan);
    if (status != HC_STATUS_OK) return status;
    status = forward(plan, x, x_length, y, y_length);
    hc_plan_destroy(plan);
    return status;
}

static void test_library(void) {
    CHECK(strcmp(hc_status_string(HC_STATUS_OK), "ok") == 0);
    CHECK(strcmp(hc_status_string(HC_STATUS_INVALID_ARGUMENT), "invalid argument") == 0);
    CHECK(strcmp(hc_status_string(HC_STATUS_UNSUPPORTED), "unsupported") == 0);
    CHECK(strcmp(hc_status_string(HC_STATUS_OUT_OF_MEMORY), "out of memory") == 0);
    CHECK(strcmp(hc_status_string(HC_STATUS_INTERNAL), "internal error") == 0);
    CHECK(strcmp(hc_status_string((hc_status)1234), "unknown status") == 0);
    CHECK(strlen(hc_version()) >= 5);
    CHECK(strstr(hc_cpu_features(), "path=") != NULL);
    CHECK(strcmp(hc_isa_string(HC_ISA_GENERIC), "generic") == 0 && strcmp(hc_isa_string(HC_ISA_AVX512), "avx512") == 0);
    CHECK(hc_best_isa() >= HC_ISA_GENERIC && hc_best_isa() <= HC_ISA_AVX512);
    double peak = 0.0;
    CHECK_FAILS(hc_measure_fma_peak(1, NULL), INVALID, "gflops");
    CHECK_FAILS(hc_measure_fma_peak(-1, &peak), INVALID, "num_threads");
    /* The measurement itself runs in its own test (--measure-peak): under valgrind it takes a minute. */
    CHECK(hc_default_num_threads() >= 1);
    CHECK_FAILS(hc_set_default_num_threads(0), INVALID, "num_threads");
    CHECK_FAILS(hc_set_default_num_threads(-5), INVALID, "num_threads");
    CHECK_FAILS(hc_set_default_num_threads(INT32_MAX), INVALID, "num_threads");
    int32_t before = hc_default_num_threads();
    CHECK_OK(hc_set_default_num_threads(3));
    CHECK(hc_default_num_threads() == 3);
    CHECK(hc_last_error()[0] == '\0');
    CHECK_OK(hc_set_default_num_threads(before));
}

static void test_conv_create_rejects_bad_arguments(void) {
    hc_plan* plan = (hc_plan*)0x1;
    hc_conv2d_desc d = small_conv();

    CHECK_FAILS(conv_create(&d, ones2x2, 4, NULL, 0, NULL, NULL), INVALID, "plan");
    CHECK_FAILS(conv_create(NULL, ones2x2, 4, NULL, 0, NULL, &plan), INVALID, "desc");
    CHECK(plan == NULL); /* cleared on failure */
    CHECK_FAILS(conv_create(&d, NULL, 4, NULL, 0, NULL, &plan), INVALID, "weights must not be NULL");
    CHECK_FAILS(conv_create(&d, ones2x2, 3, NULL, 0, NULL, &plan), INVALID, "weights holds 3");
    CHECK_FAILS(conv_create(&d, ones2x2, -1, NULL, 0, NULL, &plan), INVALID, "weights holds -1");
    CHECK_FAILS(conv_create(&d, ones2x2, 4, NULL, 1, NULL, &plan), INVALID, "bias is NULL");
    CHECK_FAILS(conv_create(&d, ones2x2, 4, ones2x2, 0, NULL, &plan), INVALID, "bias holds 0");
    hc_plan_options threads = {.num_threads = -1};
    CHECK_FAILS(conv_create(&d, ones2x2, 4, NULL, 0, &threads, &plan), INVALID, "num_threads");
    threads.num_threads = 1 << 20;
    CHECK_FAILS(conv_create(&d, ones2x2, 4, NULL, 0, &threads, &plan), INVALID, "num_threads");
    hc_plan_options isa = {.num_threads = 0, .max_isa = (hc_isa)17};
    CHECK_FAILS(conv_create(&d, ones2x2, 4, NULL, 0, &isa, &plan), INVALID, "options->max_isa");
    CHECK(plan == NULL);

    struct {
        int64_t* field;
        int64_t value;
        const char* fragment;
    } bad_sizes[] = {
        {&d.batch, 0, "desc->batch must be positive"},
        {&d.in_channels, -3, "desc->in_channels must be positive"},
        {&d.in_height, 0, "desc->in_height"},
        {&d.in_width, INT64_MIN, "desc->in_width"},
        {&d.out_channels, 0, "desc->out_channels"},
        {&d.kernel_height, 0, "desc->kernel_height"},
        {&d.kernel_width, -1, "desc->kernel_width"},
        {&d.stride_height, 0, "desc->stride_height"},
        {&d.stride_width, 0, "desc->stride_width"},
        {&d.pad_top, -1, "desc->pad_top must be non-negative"},
        {&d.pad_bottom, -1, "desc->pad_bottom must be non-negative"},
        {&d.pad_left, INT64_MIN, "desc->pad_left"},
        {&d.pad_right, -5, "desc->pad_right"},
        {&d.dilation_height, 0, "desc->dilation_height"},
        {&d.dilation_width, -2, "desc->dilation_width"},
        {&d.groups, 0, "desc->groups"},
        {&d.batch, INT64_MAX, "desc->batch must be at most"},
        {&d.pad_top, INT64_MAX, "desc->pad_top must be at most"},
        {&d.pad_right, INT64_MAX, "desc->pad_right must be at most"},
        {&d.dilation_width, INT64_MAX / 2, "desc->dilation_width must be at most"},
        {&d.groups, 2, "desc->groups (2) must divide desc->in_channels"},
        {&d.kernel_height, 4, "desc->kernel_height 4"},
        {&d.dilation_width, 3, "desc->kernel_width 2 with dilation 3"},
    };
    for (size_t i = 0; i < sizeof bad_sizes / sizeof bad_sizes[0]; i++) {
        d = small_conv();
        *bad_sizes[i].field = bad_sizes[i].value;
        CHECK_FAILS(conv_create(&d, ones2x2, 4, NULL, 0, NULL, &plan), INVALID, bad_sizes[i].fragment);
        CHECK(plan == NULL);
    }

    d = small_conv();
    d.in_channels = 2;
    d.out_channels = 3;
    d.groups = 2;
    CHECK_FAILS(conv_create(&d, ones2x2, 4, NULL, 0, NULL, &plan), INVALID,
                "desc->groups (2) must divide desc->out_channels (3)");

    /* Each size is allowed alone, but the element counts overflow int64. */
    d = small_conv();
    d.batch = d.in_channels = d.out_channels = d.in_height = d.in_width = 2000000000;
    CHECK_FAILS(conv_create(&d, ones2x2, 4, NULL, 0, NULL, &plan), INVALID, "overflows");

    d = small_conv();
    d.activation = (hc_activation)77;
    CHECK_FAILS(conv_create(&d, ones2x2, 4, NULL, 0, NULL, &plan), INVALID, "desc->activation");
    d.activation = HC_ACTIVATION_LEAKY_RELU;
    d.activation_alpha = NAN;
    CHECK_FAILS(conv_create(&d, ones2x2, 4, NULL, 0, NULL, &plan), INVALID, "desc->activation_alpha");
    d.activation_alpha = INFINITY;
    CHECK_FAILS(conv_create(&d, ones2x2, 4, NULL, 0, NULL, &plan), INVALID, "desc->activation_alpha");
    CHECK(plan == NULL);
}

static void test_conv_run(void) {
    hc_conv2d_desc d = small_conv();
    hc_plan* plan = NULL;
    const float bias = -13.0f;
    d.activation = HC_ACTIVATION_LEAKY_RELU;
    d.activation_alpha = 0.5f;
    CHECK_OK(conv_create(&d, ones2x2, 4, &bias, 1, NULL, &plan));
    CHECK(plan != NULL);
    CHECK(hc_last_error()[0] == '\0');
    if (plan == NULL) return;

    float output[4 + 1] = {0, 0, 0, 0, 99};
    CHECK_OK(forward(plan, image3x3, 9, output, 4));
    /* Window sums 12 16 24 28, minus 13, then LeakyReLU(0.5). */
    CHECK(output[0] == -0.5f && output[1] == 3.0f && output[2] == 11.0f && output[3] == 15.0f);
    CHECK(output[4] == 99.0f); /* nothing written past the output */

    CHECK_FAILS(forward(NULL, image3x3, 9, output, 4), INVALID, "plan");
    CHECK_FAILS(forward(plan, NULL, 9, output, 4), INVALID, "SRC must not be NULL");
    CHECK_FAILS(forward(plan, image3x3, 8, output, 4), INVALID, "SRC holds 8");
    CHECK_FAILS(forward(plan, image3x3, 9, NULL, 4), INVALID, "DST must not be NULL");
    CHECK_FAILS(forward(plan, image3x3, 9, output, 3), INVALID, "DST holds 3");
    CHECK_FAILS(forward(plan, image3x3, 9, output, INT64_MIN), INVALID, "DST holds");
    float shared[16] = {0};
    CHECK_FAILS(forward(plan, shared, 9, shared + 8, 4), INVALID, "overlap");
    CHECK_FAILS(forward(plan, shared + 3, 9, shared, 4), INVALID, "overlap");
    CHECK_OK(forward(plan, shared, 9, shared + 9, 4)); /* adjacent is fine */

    hc_plan_info info;
    CHECK_FAILS(hc_plan_get_info(plan, NULL), INVALID, "info");
    CHECK_FAILS(hc_plan_get_info(NULL, &info), INVALID, "plan");
    CHECK_OK(hc_plan_get_info(plan, &info));
    CHECK(info.algorithm != NULL && info.algorithm[0] != '\0');
    CHECK(info.isa != NULL && info.num_threads >= 1);
    hc_plan_destroy(plan);
    hc_plan_destroy(NULL);
}

/* Grouped and dilated: two groups, each output channel sees only its own input channel. */
static void test_conv_groups_and_dilation(void) {
    hc_conv2d_desc d = small_conv();
    d.in_channels = d.out_channels = d.groups = 2;
    d.dilation_height = d.dilation_width = 2;
    d.pad_top = d.pad_bottom = d.pad_left = d.pad_right = 1;
    float image[18];
    for (int i = 0; i < 18; i++) image[i] = (float)(i + 1);
    const float weights[8] = {1, 0, 0, 0, 0, 0, 0, 1}; /* channel 0: top-left tap; channel 1: bottom-right */
    hc_plan* plan = NULL;
    CHECK_OK(conv_create(&d, weights, 8, NULL, 0, NULL, &plan));
    if (plan == NULL) return;
    float output[18];
    CHECK_OK(forward(plan, image, 18, output, 18));
    /* Output 3x3 per channel; the tap lands on (oh-1, ow-1) for channel 0 and (oh+1, ow+1) for channel 1. */
    for (int oh = 0; oh < 3; oh++) {
        for (int ow = 0; ow < 3; ow++) {
            int h0 = oh - 1, w0 = ow - 1, h1 = oh + 1, w1 = ow + 1;
            float e0 = (h0 >= 0 && w0 >= 0) ? image[h0 * 3 + w0] : 0.0f;
            float e1 = (h1 < 3 && w1 < 3) ? image[9 + h1 * 3 + w1] : 0.0f;
            CHECK(output[oh * 3 + ow] == e0);
            CHECK(output[9 + oh * 3 + ow] == e1);
        }
    }
    hc_plan_destroy(plan);
}

/* Asymmetric padding: one zero row below the image, one zero column left of it (no padding above
 * or to the right), every algorithm the instruction sets allow against a hand-computed sum. */
static void test_conv_asymmetric_padding(void) {
    hc_conv2d_desc d = small_conv();
    d.pad_bottom = 1;
    d.pad_left = 1;
    for (hc_isa isa = HC_ISA_GENERIC; isa <= hc_best_isa(); isa++) {
        const hc_plan_options options = {.num_threads = 1, .max_isa = isa};
        hc_plan* plan = NULL;
        CHECK_OK(conv_create(&d, ones2x2, 4, NULL, 0, &options, &plan));
        if (plan == NULL) return;
        float output[10];
        output[9] = -1.0f; /* guard */
        CHECK_OK(forward(plan, image3x3, 9, output, 9));
        for (int oh = 0; oh < 3; oh++)
            for (int ow = 0; ow < 3; ow++) {
                float expected = 0.0f;
                for (int ih = oh; ih < oh + 2; ih++)
                    for (int iw = ow - 1; iw < ow + 1; iw++)
                        if (ih < 3 && iw >= 0) expected += image3x3[ih * 3 + iw];
                CHECK(output[oh * 3 + ow] == expected);
            }
        CHECK(output[9] == -1.0f);
        hc_plan_destroy(plan);
    }
    /* Too little padding for the kernel is named with both sides. */
    d = small_conv();
    d.kernel_height = 5;
    d.pad_top = 1;
    hc_plan* plan = NULL;
    CHECK_FAILS(conv_create(&d, ones2x2, 4, NULL, 0, NULL, &plan), INVALID, "padded input height 1 + 3 + 0");
}

/* Average pooling with padding counted divides by the whole window even where it is padded on
 * one side only; excluding the padding divides by the image elements it holds. */
static void test_pool_asymmetric_padding(void) {
    for (int algorithm = HC_POOL_AVERAGE_INCLUDE_PADDING; algorithm <= HC_POOL_AVERAGE_EXCLUDE_PADDING; algorithm++) {
        hc_pool2d_desc d = small_pool((hc_pool_algorithm)algorithm);
        d.pad_top = d.pad_left = 0; /* windows at rows 0-1 and 2-3 (padding), columns likewise */
        hc_plan* plan = NULL;
        CHECK_OK(pool_create(&d, NULL, &plan));
        if (plan == NULL) return;
        float output[4];
        CHECK_OK(forward(plan, image3x3, 9, output, 4));
        const bool include = algorithm == HC_POOL_AVERAGE_INCLUDE_PADDING;
        CHECK(output[0] == (1 + 2 + 4 + 5) / 4.0f);
        CHECK(output[1] == (3 + 6) / (include ? 4.0f : 2.0f));
        CHECK(output[2] == (7 + 8) / (include ? 4.0f : 2.0f));
        CHECK(output[3] == 9 / (include ? 4.0f : 1.0f));
        hc_plan_destroy(plan);
    }
}

static void test_pool(void) {
    hc_plan* plan = (hc_plan*)0x1;
    hc_pool2d_desc d = small_pool(HC_POOL_MAX);
    CHECK_FAILS(pool_create(&d, NULL, NULL), INVALID, "plan");
    CHECK_FAILS(pool_create(NULL, NULL, &plan), INVALID, "desc");
    CHECK(plan == NULL);
    d.algorithm = (hc_pool_algorithm)9;
    CHECK_FAILS(pool_create(&d, NULL, &plan), INVALID, "desc->algorithm");
    d = small_pool(HC_POOL_MAX);
    d.pad_top = 2;
    CHECK_FAILS(pool_create(&d, NULL, &plan), INVALID, "desc->pad_top (2) must be smaller than desc->kernel_height");
    d = small_pool(HC_POOL_MAX);
    d.pad_right = 3;
    CHECK_FAILS(pool_create(&d, NULL, &plan), INVALID, "desc->pad_right (3) must be smaller than desc->kernel_width");
    d = small_pool(HC_POOL_MAX);
    d.kernel_width = 6;
    d.pad_left = d.pad_right = 0;
    CHECK_FAILS(pool_create(&d, NULL, &plan), INVALID, "desc->kernel_width 6");
    d = small_pool(HC_POOL_MAX);
    d.channels = -1;
    CHECK_FAILS(pool_create(&d, NULL, &plan), INVALID, "desc->channels");
    d = small_pool(HC_POOL_MAX);
    d.stride_width = INT64_MAX;
    CHECK_FAILS(pool_create(&d, NULL, &plan), INVALID, "desc->stride_width must be at most");
    d = small_pool(HC_POOL_MAX);
    d.batch = d.channels = d.in_height = 1 << 30;
    d.in_width = 1 << 30;
    CHECK_FAILS(pool_create(&d, NULL, &plan), INVALID, "overflows");

    /* 3x3 image, 2x2 windows, stride 2, padding 1: windows {1}, {2,3}, {4,7}, {5,6,8,9}. */
    const struct {
        hc_pool_algorithm algorithm;
        float expected[4];
    } cases[] = {
        {HC_POOL_MAX, {1, 3, 7, 9}},
        {HC_POOL_AVERAGE_EXCLUDE_PADDING, {1, 2.5f, 5.5f, 7}},
        {HC_POOL_AVERAGE_INCLUDE_PADDING, {0.25f, 1.25f, 2.75f, 7}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        d = small_pool(cases[i].algorithm);
        CHECK_OK(pool_create(&d, NULL, &plan));
        if (plan == NULL) continue;
        float output[4];
        CHECK_OK(forward(plan, image3x3, 9, output, 4));
        CHECK(memcmp(output, cases[i].expected, sizeof output) == 0);
        CHECK_FAILS(forward(plan, image3x3, 9, output, 3), INVALID, "DST holds 3");
        CHECK_FAILS(forward(plan, image3x3, 2, output, 4), INVALID, "SRC holds 2");
        CHECK_FAILS(forward(plan, NULL, 9, output, 4), INVALID, "SRC must not be NULL");
        float shared[12];
        CHECK_FAILS(forward(plan, shared, 9, shared + 8, 4), INVALID, "overlap");
        hc_plan_info info;
        CHECK_OK(hc_plan_get_info(plan, &info));
        hc_plan_destroy(plan);
    }
    hc_plan_destroy(NULL);
}

static void test_eltwise(void) {
    float data[4] = {-2, -0.5f, 0, 3};
    float output[4];
    CHECK_FAILS(eltwise_forward((hc_activation)42, 0, data, 4, output, 4), INVALID, "desc->activation");
    CHECK_FAILS(eltwise_forward(HC_ACTIVATION_LEAKY_RELU, NAN, data, 4, output, 4), INVALID, "alpha");
    CHECK_FAILS(eltwise_forward(HC_ACTIVATION_RELU, 0, NULL, 4, output, 4), INVALID, "SRC must not be NULL");
    CHECK_FAILS(eltwise_forward(HC_ACTIVATION_RELU, 0, data, 4, NULL, 4), INVALID, "DST must not be NULL");
    CHECK_FAILS(eltwise_forward(HC_ACTIVATION_RELU, 0, data, 4, output, 3), INVALID, "DST holds 3");
    CHECK_FAILS(eltwise_forward(HC_ACTIVATION_RELU, 0, data, -1, output, 4), INVALID, "desc->length");
    CHECK_FAILS(eltwise_forward(HC_ACTIVATION_RELU, 0, data, INT64_MAX, output, INT64_MAX), INVALID, "desc->length must be at most");
    CHECK_FAILS(eltwise_forward(HC_ACTIVATION_RELU, 0, data, 3, data + 1, 3), INVALID, "overlap");
    CHECK_OK(eltwise_forward(HC_ACTIVATION_RELU, 0, NULL, 0, NULL, 0)); /* empty is fine */

    CHECK_OK(eltwise_forward(HC_ACTIVATION_LEAKY_RELU, 0.25f, data, 4, output, 4));
    CHECK(output[0] == -0.5f && output[1] == -0.125f && output[2] == 0.0f && output[3] == 3.0f);
    CHECK_OK(eltwise_forward(HC_ACTIVATION_SIGMOID, 0, data, 4, output, 4));
    CHECK(output[2] == 0.5f && fabsf(output[3] - 0.95257413f) < 1e-6f);
    CHECK_OK(eltwise_forward(HC_ACTIVATION_TANH, 0, data, 4, output, 4));
    CHECK(output[2] == 0.0f && fabsf(output[0] + 0.96402758f) < 1e-6f);
    CHECK_OK(eltwise_forward(HC_ACTIVATION_NONE, 0, data, 4, output, 4));
    CHECK(memcmp(output, data, sizeof output) == 0);
    CHECK_OK(eltwise_forward(HC_ACTIVATION_RELU, 0, data, 4, data, 4)); /* in place */
    CHECK(data[0] == 0.0f && data[1] == 0.0f && data[3] == 3.0f);
}

/* Backward from the forward output y: dx = f'(y) * dy, with dx allowed to be dy itself. */
static void test_eltwise_backward(void) {
    const float y_relu[4] = {0, 0, 0.5f, 3}, dy[4] = {1, 2, 4, 8};
    float dx[4];
    const hc_eltwise_desc leaky = {.activation = HC_ACTIVATION_LEAKY_RELU, .alpha = 0.25f, .length = 4};
    hc_plan* plan = NULL;
    CHECK_OK(hc_eltwise_create(&leaky, HC_DIRECTION_BACKWARD_DATA, NULL, &plan));
    if (plan == NULL) return;
    const hc_arg args[3] = {{HC_ARG_DST, (void*)y_relu, 4}, {HC_ARG_DIFF_DST, (void*)dy, 4}, {HC_ARG_DIFF_SRC, dx, 4}};
    CHECK_OK(hc_plan_execute(plan, args, 3));
    CHECK(dx[0] == 0.25f && dx[1] == 0.5f && dx[2] == 4 && dx[3] == 8);
    float in_place[4] = {1, 2, 4, 8};
    const hc_arg same[3] = {{HC_ARG_DST, (void*)y_relu, 4}, {HC_ARG_DIFF_DST, in_place, 4}, {HC_ARG_DIFF_SRC, in_place, 4}};
    CHECK_OK(hc_plan_execute(plan, same, 3));
    CHECK(memcmp(in_place, dx, sizeof dx) == 0);
    CHECK_FAILS(hc_plan_execute(plan, args, 2), INVALID, "needs DIFF_SRC");
    hc_plan_destroy(plan);
    const hc_eltwise_desc sigmoid = {.activation = HC_ACTIVATION_SIGMOID, .length = 4};
    const float y_sigmoid[4] = {0.5f, 0.25f, 0.75f, 1};
    CHECK_OK(hc_eltwise_create(&sigmoid, HC_DIRECTION_BACKWARD_DATA, NULL, &plan));
    if (plan == NULL) return;
    const hc_arg sigmoid_args[3] = {{HC_ARG_DST, (void*)y_sigmoid, 4}, {HC_ARG_DIFF_DST, (void*)dy, 4}, {HC_ARG_DIFF_SRC, dx, 4}};
    CHECK_OK(hc_plan_execute(plan, sigmoid_args, 3));
    CHECK(dx[0] == 0.25f && dx[1] == 0.375f && dx[2] == 0.75f && dx[3] == 0.0f);
    hc_plan_destroy(plan);
    const hc_eltwise_desc negative = {.activation = HC_ACTIVATION_LEAKY_RELU, .alpha = -0.5f, .length = 4};
    CHECK_FAILS(hc_eltwise_create(&negative, HC_DIRECTION_BACKWARD_DATA, NULL, &plan), INVALID, "alpha >= 0");
    CHECK_FAILS(hc_eltwise_create(&negative, HC_DIRECTION_BACKWARD_WEIGHTS, NULL, &plan), INVALID, "no BWD_W direction");
}

/* What hc_plan_execute checks for every operation: roles present, once, known, long enough,
 * not overlapping an output; weights set before a plan that needs them runs. */
static void test_plan_arguments(void) {
    hc_conv2d_desc d = small_conv();
    hc_plan* plan = NULL;
    CHECK_OK(conv_create(&d, NULL, 0, NULL, 0, NULL, &plan));
    if (plan == NULL) return;
    float output[4];
    CHECK_FAILS(forward(plan, image3x3, 9, output, 4), INVALID, "no weights yet");
    CHECK_FAILS(hc_plan_set_weights(plan, ones2x2, 3, NULL, 0), INVALID, "weights holds 3");
    CHECK_FAILS(hc_plan_set_weights(plan, NULL, 4, NULL, 0), INVALID, "weights must not be NULL");
    CHECK_FAILS(hc_plan_set_weights(NULL, ones2x2, 4, NULL, 0), INVALID, "plan");
    CHECK_OK(hc_plan_set_weights(plan, ones2x2, 4, NULL, 0));
    CHECK_OK(forward(plan, image3x3, 9, output, 4));
    CHECK(output[0] == 12 && output[3] == 28);
    const float twos[4] = {2, 2, 2, 2}, bias = 1;
    CHECK_OK(hc_plan_set_weights(plan, twos, 4, &bias, 1)); /* new weights, same plan */
    CHECK_OK(forward(plan, image3x3, 9, output, 4));
    CHECK(output[0] == 25 && output[3] == 57);

    const hc_arg unknown[3] = {{HC_ARG_SRC, (void*)image3x3, 9}, {HC_ARG_DST, output, 4}, {HC_ARG_DIFF_BIAS, output, 1}};
    CHECK_FAILS(hc_plan_execute(plan, unknown, 3), INVALID, "DIFF_BIAS (6) is not an argument of conv2d FWD_I");
    const hc_arg twice[3] = {{HC_ARG_SRC, (void*)image3x3, 9}, {HC_ARG_DST, output, 4}, {HC_ARG_SRC, (void*)image3x3, 9}};
    CHECK_FAILS(hc_plan_execute(plan, twice, 3), INVALID, "SRC is given twice");
    const hc_arg missing[1] = {{HC_ARG_SRC, (void*)image3x3, 9}};
    CHECK_FAILS(hc_plan_execute(plan, missing, 1), INVALID, "conv2d FWD_I needs DST");
    const hc_arg garbage[2] = {{(hc_arg_kind)1000, output, 4}, {HC_ARG_DST, output, 4}};
    CHECK_FAILS(hc_plan_execute(plan, garbage, 2), INVALID, "is not an argument");
    CHECK_FAILS(hc_plan_execute(plan, NULL, 2), INVALID, "args");
    CHECK_FAILS(hc_plan_execute(plan, missing, -1), INVALID, "count");
    hc_plan_destroy(plan);

    CHECK_FAILS(hc_conv2d_create(&d, (hc_direction)9, ones2x2, 4, NULL, 0, NULL, &plan), INVALID, "direction");
    CHECK_FAILS(hc_conv2d_create(&d, HC_DIRECTION_BACKWARD_WEIGHTS, ones2x2, 4, NULL, 0, NULL, &plan), INVALID, "take no weights");
    const hc_pool2d_desc pool = small_pool(HC_POOL_MAX);
    CHECK_FAILS(hc_pool2d_create(&pool, HC_DIRECTION_BACKWARD_WEIGHTS, NULL, &plan), INVALID, "pool2d has no BWD_W direction");
    CHECK(plan == NULL);
    CHECK(strcmp(hc_direction_string(HC_DIRECTION_BACKWARD_DATA), "BWD_D") == 0);
}

/* The small convolution's gradients by hand: y[i][j] = sum of the 2x2 window at (i, j). */
static void test_conv_backward(void) {
    const hc_conv2d_desc d = small_conv();
    const float dy[4] = {1, 2, 3, 4};
    for (hc_isa isa = HC_ISA_GENERIC; isa <= hc_best_isa(); isa++) {
        const hc_plan_options options = {.num_threads = 0, .max_isa = isa};
        hc_plan* plan = NULL;
        const float w[4] = {1, 2, 3, 4};
        CHECK_OK(hc_conv2d_create(&d, HC_DIRECTION_BACKWARD_DATA, w, 4, NULL, 0, &options, &plan));
        if (plan == NULL) return;
        float dx[9];
        CHECK_OK(run2(plan, HC_ARG_DIFF_DST, dy, 4, HC_ARG_DIFF_SRC, dx, 9));
        /* dx[i][j] = sum over windows (oh, ow) holding (i, j) of dy[oh][ow] * w[i-oh][j-ow] */
        const float expected_dx[9] = {1, 4, 4, 6, 20, 16, 9, 24, 16};
        CHECK(memcmp(dx, expected_dx, sizeof dx) == 0);
        hc_plan_destroy(plan);

        CHECK_OK(hc_conv2d_create(&d, HC_DIRECTION_BACKWARD_WEIGHTS, NULL, 0, NULL, 0, &options, &plan));
        if (plan == NULL) return;
        float dw[4], db[1];
        const hc_arg args[4] = {{HC_ARG_SRC, (void*)image3x3, 9}, {HC_ARG_DIFF_DST, (void*)dy, 4}, {HC_ARG_DIFF_WEIGHTS, dw, 4}, {HC_ARG_DIFF_BIAS, db, 1}};
        CHECK_OK(hc_plan_execute(plan, args, 4));
        /* dw[r][s] = sum over (oh, ow) of dy[oh][ow] * x[oh+r][ow+s]; db = sum of dy */
        CHECK(dw[0] == 37 && dw[1] == 47 && dw[2] == 67 && dw[3] == 77 && db[0] == 10);
        CHECK_OK(hc_plan_execute(plan, args, 3)); /* the bias gradient is optional */
        hc_plan_destroy(plan);
    }
    /* With an activation the backward passes read the forward output. */
    hc_conv2d_desc relu = small_conv();
    relu.activation = HC_ACTIVATION_RELU;
    hc_plan* plan = NULL;
    CHECK_OK(hc_conv2d_create(&relu, HC_DIRECTION_BACKWARD_WEIGHTS, NULL, 0, NULL, 0, NULL, &plan));
    if (plan == NULL) return;
    float dw[4];
    const hc_arg no_y[3] = {{HC_ARG_SRC, (void*)image3x3, 9}, {HC_ARG_DIFF_DST, (void*)dy, 4}, {HC_ARG_DIFF_WEIGHTS, dw, 4}};
    CHECK_FAILS(hc_plan_execute(plan, no_y, 3), INVALID, "needs DST");
    const float y[4] = {1, 0, 0, 2}; /* only outputs 0 and 3 were positive */
    const hc_arg with_y[4] = {{HC_ARG_SRC, (void*)image3x3, 9}, {HC_ARG_DIFF_DST, (void*)dy, 4}, {HC_ARG_DST, (void*)y, 4}, {HC_ARG_DIFF_WEIGHTS, dw, 4}};
    CHECK_OK(hc_plan_execute(plan, with_y, 4));
    CHECK(dw[0] == 1 * 1 + 4 * 5 && dw[3] == 1 * 5 + 4 * 9);
    hc_plan_destroy(plan);
    relu.activation = HC_ACTIVATION_LEAKY_RELU;
    relu.activation_alpha = -1.0f;
    CHECK_FAILS(hc_conv2d_create(&relu, HC_DIRECTION_BACKWARD_DATA, NULL, 0, NULL, 0, NULL, &plan), INVALID, "alpha >= 0");
}

/* Max pooling saves where each maximum came from; the backward passes route dy there, or spread it over the window. */
static void test_pool_training(void) {
    hc_pool2d_desc d = small_pool(HC_POOL_MAX); /* 3x3 image, 2x2 windows, stride 2, padding 1: windows hold 1, 2, 2 and 4 elements */
    hc_plan* plan = NULL;
    CHECK_OK(hc_pool2d_create(&d, HC_DIRECTION_FORWARD_TRAINING, NULL, &plan));
    if (plan == NULL) return;
    float y[4];
    int32_t argmax[4];
    const hc_arg args[3] = {{HC_ARG_SRC, (void*)image3x3, 9}, {HC_ARG_DST, y, 4}, {HC_ARG_WORKSPACE, argmax, 4}};
    CHECK_OK(hc_plan_execute(plan, args, 3));
    CHECK(y[0] == 1 && y[1] == 3 && y[2] == 7 && y[3] == 9);
    CHECK(argmax[0] == 0 && argmax[1] == 2 && argmax[2] == 6 && argmax[3] == 8);
    CHECK_FAILS(hc_plan_execute(plan, args, 2), INVALID, "needs WORKSPACE");
    hc_plan_destroy(plan);

    const float dy[4] = {1, 2, 3, 4};
    float dx[9];
    CHECK_OK(hc_pool2d_create(&d, HC_DIRECTION_BACKWARD_DATA, NULL, &plan));
    if (plan == NULL) return;
    const hc_arg back[3] = {{HC_ARG_DIFF_DST, (void*)dy, 4}, {HC_ARG_WORKSPACE, argmax, 4}, {HC_ARG_DIFF_SRC, dx, 9}};
    CHECK_OK(hc_plan_execute(plan, back, 3));
    const float expected_max[9] = {1, 0, 2, 0, 0, 0, 3, 0, 4};
    CHECK(memcmp(dx, expected_max, sizeof dx) == 0);
    hc_plan_destroy(plan);

    d = small_pool(HC_POOL_AVERAGE_EXCLUDE_PADDING);
    CHECK_OK(hc_pool2d_create(&d, HC_DIRECTION_BACKWARD_DATA, NULL, &plan));
    if (plan == NULL) return;
    CHECK_OK(run2(plan, HC_ARG_DIFF_DST, dy, 4, HC_ARG_DIFF_SRC, dx, 9));
    const float expected_average[9] = {1, 1, 1, 1.5f, 1, 1, 1.5f, 1, 1};
    CHECK(memcmp(dx, expected_average, sizeof dx) == 0);
    hc_plan_destroy(plan);
}

static void* fail_on_other_thread(void* unused) {
    (void)unused;
    hc_set_default_num_threads(-1);
    return NULL;
}

/* hc_last_error is per thread: a failure elsewhere must not show up here. */
static void test_last_error_is_thread_local(void) {
    CHECK_OK(hc_set_default_num_threads(hc_default_num_threads()));
    pthread_t thread;
    CHECK(pthread_create(&thread, NULL, fail_on_other_thread, NULL) == 0);
    pthread_join(thread, NULL);
    CHECK(hc_last_error()[0] == '\0');
}

/* Modes for the environment tests in CMakeLists.txt, which set HPCCNN_MAX_ISA or HPCCNN_VERBOSE
 * before the library reads them (once, on first use). */
static int run_mode(int argc, char** argv) {
    if (argc == 3 && strcmp(argv[1], "--expect-isa") == 0) {
        const char* best = hc_isa_string(hc_best_isa());
        printf("best isa: %s\n", best);
        return strcmp(best, argv[2]) == 0 ? 0 : 1;
    }
    if (argc == 2 && strcmp(argv[1], "--measure-peak") == 0) {
        double one = 0.0, all = 0.0;
        if (hc_measure_fma_peak(1, &one) != HC_STATUS_OK || hc_measure_fma_peak(0, &all) != HC_STATUS_OK) return 1;
        printf("FMA peak: %.1f GFLOP/s on 1 thread, %.1f on %d\n", one, all, hc_default_num_threads());
        return one > 1.0 && all > 1.0 ? 0 : 1;
    }
    if (argc == 2 && strcmp(argv[1], "--run-one-plan") == 0) {
        hc_conv2d_desc d = small_conv();
        hc_plan* plan = NULL;
        float output[4];
        if (conv_create(&d, ones2x2, 4, NULL, 0, NULL, &plan) != HC_STATUS_OK) return 1;
        const hc_status status = forward(plan, image3x3, 9, output, 4);
        hc_plan_destroy(plan);
        return status == HC_STATUS_OK ? 0 : 1;
    }
    fprintf(stderr, "usage: test_c_api [--expect-isa NAME | --measure-peak | --run-one-plan]\n");
    return 2;
}

int main(int argc, char** argv) {
    if (argc > 1) return run_mode(argc, argv);
    test_library();
    test_conv_create_rejects_bad_arguments();
    test_conv_run();
    test_conv_groups_and_dilation();
    test_conv_asymmetric_padding();
    test_pool_asymmetric_padding();
    test_pool();
    test_eltwise();
    test_eltwise_backward();
    test_plan_arguments();
    test_conv_backward();
    test_pool_training();
    test_last_error_is_thread_local();
    printf("%d checks, %d failed\n", checks_run, checks_failed);
    return checks_failed == 0 ? 0 : 1;
}
