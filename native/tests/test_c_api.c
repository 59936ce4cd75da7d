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
    hc_conv2d* plan = (hc_conv2d*)0x1;
    hc_conv2d_desc d = small_conv();

    CHECK_FAILS(hc_conv2d_create(&d, ones2x2, 4, NULL, 0, NULL, NULL), INVALID, "plan");
    CHECK_FAILS(hc_conv2d_create(NULL, ones2x2, 4, NULL, 0, NULL, &plan), INVALID, "desc");
    CHECK(plan == NULL); /* cleared on failure */
    CHECK_FAILS(hc_conv2d_create(&d, NULL, 4, NULL, 0, NULL, &plan), INVALID, "weights must not be NULL");
    CHECK_FAILS(hc_conv2d_create(&d, ones2x2, 3, NULL, 0, NULL, &plan), INVALID, "weights holds 3");
    CHECK_FAILS(hc_conv2d_create(&d, ones2x2, -1, NULL, 0, NULL, &plan), INVALID, "weights holds -1");
    CHECK_FAILS(hc_conv2d_create(&d, ones2x2, 4, NULL, 1, NULL, &plan), INVALID, "bias is NULL");
    CHECK_FAILS(hc_conv2d_create(&d, ones2x2, 4, ones2x2, 0, NULL, &plan), INVALID, "bias holds 0");
    hc_plan_options threads = {.num_threads = -1};
    CHECK_FAILS(hc_conv2d_create(&d, ones2x2, 4, NULL, 0, &threads, &plan), INVALID, "num_threads");
    threads.num_threads = 1 << 20;
    CHECK_FAILS(hc_conv2d_create(&d, ones2x2, 4, NULL, 0, &threads, &plan), INVALID, "num_threads");
    hc_plan_options isa = {.num_threads = 0, .max_isa = (hc_isa)17};
    CHECK_FAILS(hc_conv2d_create(&d, ones2x2, 4, NULL, 0, &isa, &plan), INVALID, "options->max_isa");
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
        CHECK_FAILS(hc_conv2d_create(&d, ones2x2, 4, NULL, 0, NULL, &plan), INVALID, bad_sizes[i].fragment);
        CHECK(plan == NULL);
    }

    d = small_conv();
    d.in_channels = 2;
    d.out_channels = 3;
    d.groups = 2;
    CHECK_FAILS(hc_conv2d_create(&d, ones2x2, 4, NULL, 0, NULL, &plan), INVALID,
                "desc->groups (2) must divide desc->out_channels (3)");

    /* Each size is allowed alone, but the element counts overflow int64. */
    d = small_conv();
    d.batch = d.in_channels = d.out_channels = d.in_height = d.in_width = 2000000000;
    CHECK_FAILS(hc_conv2d_create(&d, ones2x2, 4, NULL, 0, NULL, &plan), INVALID, "overflows");

    d = small_conv();
    d.activation = (hc_activation)77;
    CHECK_FAILS(hc_conv2d_create(&d, ones2x2, 4, NULL, 0, NULL, &plan), INVALID, "desc->activation");
    d.activation = HC_ACTIVATION_LEAKY_RELU;
    d.activation_alpha = NAN;
    CHECK_FAILS(hc_conv2d_create(&d, ones2x2, 4, NULL, 0, NULL, &plan), INVALID, "desc->activation_alpha");
    d.activation_alpha = INFINITY;
    CHECK_FAILS(hc_conv2d_create(&d, ones2x2, 4, NULL, 0, NULL, &plan), INVALID, "desc->activation_alpha");
    CHECK(plan == NULL);
}

static void test_conv_run(void) {
    hc_conv2d_desc d = small_conv();
    hc_conv2d* plan = NULL;
    const float bias = -13.0f;
    d.activation = HC_ACTIVATION_LEAKY_RELU;
    d.activation_alpha = 0.5f;
    CHECK_OK(hc_conv2d_create(&d, ones2x2, 4, &bias, 1, NULL, &plan));
    CHECK(plan != NULL);
    CHECK(hc_last_error()[0] == '\0');
    if (plan == NULL) return;

    float output[4 + 1] = {0, 0, 0, 0, 99};
    CHECK_OK(hc_conv2d_run(plan, image3x3, 9, output, 4));
    /* Window sums 12 16 24 28, minus 13, then LeakyReLU(0.5). */
    CHECK(output[0] == -0.5f && output[1] == 3.0f && output[2] == 11.0f && output[3] == 15.0f);
    CHECK(output[4] == 99.0f); /* nothing written past the output */

    CHECK_FAILS(hc_conv2d_run(NULL, image3x3, 9, output, 4), INVALID, "plan");
    CHECK_FAILS(hc_conv2d_run(plan, NULL, 9, output, 4), INVALID, "input must not be NULL");
    CHECK_FAILS(hc_conv2d_run(plan, image3x3, 8, output, 4), INVALID, "input holds 8");
    CHECK_FAILS(hc_conv2d_run(plan, image3x3, 9, NULL, 4), INVALID, "output must not be NULL");
    CHECK_FAILS(hc_conv2d_run(plan, image3x3, 9, output, 3), INVALID, "output holds 3");
    CHECK_FAILS(hc_conv2d_run(plan, image3x3, 9, output, INT64_MIN), INVALID, "output holds");
    float shared[16] = {0};
    CHECK_FAILS(hc_conv2d_run(plan, shared, 9, shared + 8, 4), INVALID, "overlap");
    CHECK_FAILS(hc_conv2d_run(plan, shared + 3, 9, shared, 4), INVALID, "overlap");
    CHECK_OK(hc_conv2d_run(plan, shared, 9, shared + 9, 4)); /* adjacent is fine */

    hc_plan_info info;
    CHECK_FAILS(hc_conv2d_get_info(plan, NULL), INVALID, "info");
    CHECK_FAILS(hc_conv2d_get_info(NULL, &info), INVALID, "plan");
    CHECK_OK(hc_conv2d_get_info(plan, &info));
    CHECK(info.algorithm != NULL && info.algorithm[0] != '\0');
    CHECK(info.isa != NULL && info.num_threads >= 1);
    hc_conv2d_destroy(plan);
    hc_conv2d_destroy(NULL);
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
    hc_conv2d* plan = NULL;
    CHECK_OK(hc_conv2d_create(&d, weights, 8, NULL, 0, NULL, &plan));
    if (plan == NULL) return;
    float output[18];
    CHECK_OK(hc_conv2d_run(plan, image, 18, output, 18));
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
    hc_conv2d_destroy(plan);
}

/* Asymmetric padding: one zero row below the image, one zero column left of it (no padding above
 * or to the right), every algorithm the instruction sets allow against a hand-computed sum. */
static void test_conv_asymmetric_padding(void) {
    hc_conv2d_desc d = small_conv();
    d.pad_bottom = 1;
    d.pad_left = 1;
    for (hc_isa isa = HC_ISA_GENERIC; isa <= hc_best_isa(); isa++) {
        const hc_plan_options options = {.num_threads = 1, .max_isa = isa};
        hc_conv2d* plan = NULL;
        CHECK_OK(hc_conv2d_create(&d, ones2x2, 4, NULL, 0, &options, &plan));
        if (plan == NULL) return;
        float output[10];
        output[9] = -1.0f; /* guard */
        CHECK_OK(hc_conv2d_run(plan, image3x3, 9, output, 9));
        for (int oh = 0; oh < 3; oh++)
            for (int ow = 0; ow < 3; ow++) {
                float expected = 0.0f;
                for (int ih = oh; ih < oh + 2; ih++)
                    for (int iw = ow - 1; iw < ow + 1; iw++)
                        if (ih < 3 && iw >= 0) expected += image3x3[ih * 3 + iw];
                CHECK(output[oh * 3 + ow] == expected);
            }
        CHECK(output[9] == -1.0f);
        hc_conv2d_destroy(plan);
    }
    /* Too little padding for the kernel is named with both sides. */
    d = small_conv();
    d.kernel_height = 5;
    d.pad_top = 1;
    hc_conv2d* plan = NULL;
    CHECK_FAILS(hc_conv2d_create(&d, ones2x2, 4, NULL, 0, NULL, &plan), INVALID, "padded input height 1 + 3 + 0");
}

/* Average pooling with padding counted divides by the whole window even where it is padded on
 * one side only; excluding the padding divides by the image elements it holds. */
static void test_pool_asymmetric_padding(void) {
    for (int algorithm = HC_POOL_AVERAGE_INCLUDE_PADDING; algorithm <= HC_POOL_AVERAGE_EXCLUDE_PADDING; algorithm++) {
        hc_pool2d_desc d = small_pool((hc_pool_algorithm)algorithm);
        d.pad_top = d.pad_left = 0; /* windows at rows 0-1 and 2-3 (padding), columns likewise */
        hc_pool2d* plan = NULL;
        CHECK_OK(hc_pool2d_create(&d, NULL, &plan));
        if (plan == NULL) return;
        float output[4];
        CHECK_OK(hc_pool2d_run(plan, image3x3, 9, output, 4));
        const bool include = algorithm == HC_POOL_AVERAGE_INCLUDE_PADDING;
        CHECK(output[0] == (1 + 2 + 4 + 5) / 4.0f);
        CHECK(output[1] == (3 + 6) / (include ? 4.0f : 2.0f));
        CHECK(output[2] == (7 + 8) / (include ? 4.0f : 2.0f));
        CHECK(output[3] == 9 / (include ? 4.0f : 1.0f));
        hc_pool2d_destroy(plan);
    }
}

static void test_pool(void) {
    hc_pool2d* plan = (hc_pool2d*)0x1;
    hc_pool2d_desc d = small_pool(HC_POOL_MAX);
    CHECK_FAILS(hc_pool2d_create(&d, NULL, NULL), INVALID, "plan");
    CHECK_FAILS(hc_pool2d_create(NULL, NULL, &plan), INVALID, "desc");
    CHECK(plan == NULL);
    d.algorithm = (hc_pool_algorithm)9;
    CHECK_FAILS(hc_pool2d_create(&d, NULL, &plan), INVALID, "desc->algorithm");
    d = small_pool(HC_POOL_MAX);
    d.pad_top = 2;
    CHECK_FAILS(hc_pool2d_create(&d, NULL, &plan), INVALID, "desc->pad_top (2) must be smaller than desc->kernel_height");
    d = small_pool(HC_POOL_MAX);
    d.pad_right = 3;
    CHECK_FAILS(hc_pool2d_create(&d, NULL, &plan), INVALID, "desc->pad_right (3) must be smaller than desc->kernel_width");
    d = small_pool(HC_POOL_MAX);
    d.kernel_width = 6;
    d.pad_left = d.pad_right = 0;
    CHECK_FAILS(hc_pool2d_create(&d, NULL, &plan), INVALID, "desc->kernel_width 6");
    d = small_pool(HC_POOL_MAX);
    d.channels = -1;
    CHECK_FAILS(hc_pool2d_create(&d, NULL, &plan), INVALID, "desc->channels");
    d = small_pool(HC_POOL_MAX);
    d.stride_width = INT64_MAX;
    CHECK_FAILS(hc_pool2d_create(&d, NULL, &plan), INVALID, "desc->stride_width must be at most");
    d = small_pool(HC_POOL_MAX);
    d.batch = d.channels = d.in_height = 1 << 30;
    d.in_width = 1 << 30;
    CHECK_FAILS(hc_pool2d_create(&d, NULL, &plan), INVALID, "overflows");

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
        CHECK_OK(hc_pool2d_create(&d, NULL, &plan));
        if (plan == NULL) continue;
        float output[4];
        CHECK_OK(hc_pool2d_run(plan, image3x3, 9, output, 4));
        CHECK(memcmp(output, cases[i].expected, sizeof output) == 0);
        CHECK_FAILS(hc_pool2d_run(plan, image3x3, 9, output, 3), INVALID, "output holds 3");
        CHECK_FAILS(hc_pool2d_run(plan, image3x3, 2, output, 4), INVALID, "input holds 2");
        CHECK_FAILS(hc_pool2d_run(plan, NULL, 9, output, 4), INVALID, "input");
        float shared[12];
        CHECK_FAILS(hc_pool2d_run(plan, shared, 9, shared + 8, 4), INVALID, "overlap");
        hc_plan_info info;
        CHECK_OK(hc_pool2d_get_info(plan, &info));
        hc_pool2d_destroy(plan);
    }
    hc_pool2d_destroy(NULL);
}

static void test_eltwise(void) {
    float data[4] = {-2, -0.5f, 0, 3};
    float output[4];
    CHECK_FAILS(hc_eltwise_forward((hc_eltwise_op)42, 0, data, 4, output, 4, NULL), INVALID, "op");
    CHECK_FAILS(hc_eltwise_forward(HC_ELTWISE_LEAKY_RELU, NAN, data, 4, output, 4, NULL), INVALID, "alpha");
    CHECK_FAILS(hc_eltwise_forward(HC_ELTWISE_RELU, 0, NULL, 4, output, 4, NULL), INVALID, "input");
    CHECK_FAILS(hc_eltwise_forward(HC_ELTWISE_RELU, 0, data, 4, NULL, 4, NULL), INVALID, "output");
    CHECK_FAILS(hc_eltwise_forward(HC_ELTWISE_RELU, 0, data, 4, output, 3, NULL), INVALID, "output holds 3");
    CHECK_FAILS(hc_eltwise_forward(HC_ELTWISE_RELU, 0, data, -1, output, 4, NULL), INVALID, "input_length");
    CHECK_FAILS(hc_eltwise_forward(HC_ELTWISE_RELU, 0, data, INT64_MAX, output, INT64_MAX, NULL), INVALID,
                "input_length must be at most");
    CHECK_FAILS(hc_eltwise_forward(HC_ELTWISE_RELU, 0, data, 3, data + 1, 3, NULL), INVALID, "overlap");
    CHECK_OK(hc_eltwise_forward(HC_ELTWISE_RELU, 0, NULL, 0, NULL, 0, NULL)); /* empty is fine */

    CHECK_OK(hc_eltwise_forward(HC_ELTWISE_LEAKY_RELU, 0.25f, data, 4, output, 4, NULL));
    CHECK(output[0] == -0.5f && output[1] == -0.125f && output[2] == 0.0f && output[3] == 3.0f);
    CHECK_OK(hc_eltwise_forward(HC_ELTWISE_SIGMOID, 0, data, 4, output, 4, NULL));
    CHECK(output[2] == 0.5f && fabsf(output[3] - 0.95257413f) < 1e-6f);
    CHECK_OK(hc_eltwise_forward(HC_ELTWISE_TANH, 0, data, 4, output, 4, NULL));
    CHECK(output[2] == 0.0f && fabsf(output[0] + 0.96402758f) < 1e-6f);
    CHECK_OK(hc_eltwise_forward(HC_ELTWISE_RELU, 0, data, 4, data, 4, NULL)); /* in place */
    CHECK(data[0] == 0.0f && data[1] == 0.0f && data[3] == 3.0f);
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
        hc_conv2d* plan = NULL;
        float output[4];
        if (hc_conv2d_create(&d, ones2x2, 4, NULL, 0, NULL, &plan) != HC_STATUS_OK) return 1;
        const hc_status status = hc_conv2d_run(plan, image3x3, 9, output, 4);
        hc_conv2d_destroy(plan);
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
    test_last_error_is_thread_local();
    printf("%d checks, %d failed\n", checks_run, checks_failed);
    return checks_failed == 0 ? 0 : 1;
}
