/* libFuzzer target over the whole C API. The input bytes choose an operation, its descriptor
 * (small sizes mixed with extreme strides, paddings, dilations and out-of-range enum values), a
 * direction, plan options, buffers of random lengths (sometimes too short) filled with finite,
 * NaN and infinite values, and a create / set_weights / execute / destroy sequence. The contract
 * under test is the header's: every call returns a status, nothing reads or writes outside the
 * buffers passed in (AddressSanitizer), no undefined behaviour (UBSan), and a plan whose problem
 * is small needs little memory and time (libFuzzer's -rss_limit_mb, -malloc_limit_mb, -timeout).
 *
 * Buffer lengths are derived here from the header's formulas, independently of the library, and
 * only problems whose buffers stay small are executed; creating larger ones must still be safe. */
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hpccnn.h"

/* Largest buffer (elements) the target allocates to execute a plan. */
#define MAX_ELEMENTS (INT64_C(1) << 16)
/* Largest number of multiply-adds a plan executed here may do: a legitimately large problem is
 * slow under the sanitizers, which is not what the timeout is for (a plan whose time grows with
 * the stride, not with its work, still is). */
#define MAX_MACS (INT64_C(1) << 22)

typedef struct reader {
    const uint8_t* data;
    size_t size, at;
} reader;

static uint8_t next_byte(reader* r) { return r->at < r->size ? r->data[r->at++] : 0; }

static uint64_t next_u64(reader* r, int bytes) {
    uint64_t value = 0;
    for (int i = 0; i < bytes; i++) value |= (uint64_t)next_byte(r) << (8 * i);
    return value;
}

/* A size: mostly small, sometimes an edge value of the 64-bit range or of HC_MAX_DIMENSION. */
static int64_t next_size(reader* r) {
    static const int64_t edges[] = {0, 1, 2, 3, 7, 16, 17, 31, 64, 255, 65535, 65536, 1048576,
                                    536870912, 2147483646, 2147483647, 2147483648, 4294967297,
                                    -1, -2147483648LL, INT64_MAX, INT64_MIN};
    const uint8_t mode = next_byte(r);
    if (mode < 160) return mode % 9;
    if (mode < 224) return (int64_t)(next_byte(r) % 40);
    if (mode < 248) return edges[next_byte(r) % (sizeof edges / sizeof edges[0])];
    return (int64_t)next_u64(r, 8);
}

static float next_float(reader* r) {
    static const float specials[] = {0.0f, -0.0f, 1.0f, -1.0f, 0.5f, 1e4f, -1e4f, 3.4e38f, 1e-45f};
    const uint8_t mode = next_byte(r);
    if (mode < 200) return (float)((int)(mode % 17) - 8);
    if (mode < 220) return specials[next_byte(r) % (sizeof specials / sizeof specials[0])];
    if (mode < 235) return NAN;
    if (mode < 250) return mode & 1 ? INFINITY : -INFINITY;
    uint32_t bits = (uint32_t)next_u64(r, 4);
    float value;
    memcpy(&value, &bits, sizeof value);
    return value;
}

/* a * b, or -1 when either is negative or the product leaves [0, MAX_ELEMENTS]. */
static int64_t small_product(int64_t a, int64_t b) {
    if (a < 0 || b < 0) return -1;
    int64_t product;
    if (__builtin_mul_overflow(a, b, &product) || product > MAX_ELEMENTS) return -1;
    return product;
}

static int64_t small_product4(int64_t a, int64_t b, int64_t c, int64_t d) {
    int64_t ab = small_product(a, b), cd = small_product(c, d);
    return ab < 0 || cd < 0 ? -1 : small_product(ab, cd);
}

/* a * b when both are non-negative and the product is at most MAX_MACS, else -1. */
static int64_t small_macs(int64_t a, int64_t b) {
    int64_t product;
    if (a < 0 || b < 0 || __builtin_mul_overflow(a, b, &product) || product > MAX_MACS) return -1;
    return product;
}

/* The header's output-size formula, or -1 when an operand is out of range. */
static int64_t output_size(int64_t in, int64_t kernel, int64_t stride, int64_t before, int64_t after, int64_t dilation) {
    if (in < 1 || kernel < 1 || stride < 1 || before < 0 || after < 0 || dilation < 1) return -1;
    if (in > MAX_ELEMENTS || kernel > MAX_ELEMENTS || dilation > MAX_ELEMENTS || before > INT32_MAX || after > INT32_MAX) return -1;
    const int64_t span = dilation * (kernel - 1) + 1, padded = in + before + after;
    return padded < span ? 0 : (padded - span) / stride + 1;
}

/* A buffer of `need` elements, give or take: usually exact or longer, sometimes one short
 * (which execute must refuse), sometimes absent. Filled from the input. */
typedef struct buffer {
    float* data;
    int64_t length;
} buffer;

static buffer make_buffer(reader* r, int64_t need, bool integers, int64_t integer_bound) {
    buffer b = {NULL, 0};
    if (need < 0) return b;
    const uint8_t shape = next_byte(r);
    int64_t length = need;
    if (shape >= 240) length = need - 1;
    else if (shape >= 200) length = need + (shape & 31);
    if (shape == 255 || length < 0) return b; /* NULL */
    b.length = length;
    b.data = malloc((size_t)(length > 0 ? length : 1) * sizeof(float));
    if (b.data == NULL) return (buffer){NULL, 0};
    for (int64_t i = 0; i < length; i++) {
        if (integers) {
            /* Mostly valid indices or labels, sometimes anything: the library must check them. */
            const uint8_t mode = next_byte(r);
            int32_t value = mode < 240 ? (int32_t)(mode % (integer_bound > 0 ? (uint64_t)integer_bound : 1u)) : (int32_t)next_u64(r, 4);
            memcpy(&b.data[i], &value, sizeof value);
        } else {
            b.data[i] = next_float(r);
        }
    }
    return b;
}

static buffer exact_buffer(reader* r, int64_t need) {
    if (need < 0 || next_byte(r) == 255) return (buffer){NULL, 0};
    buffer b = {malloc((size_t)(need > 0 ? need : 1) * sizeof(float)), need};
    for (int64_t i = 0; b.data != NULL && i < need; i++) b.data[i] = next_float(r);
    return b;
}

static void add_arg(hc_arg* args, int32_t* count, reader* r, hc_arg_kind kind, buffer b) {
    /* Sometimes leave a role out, pass it twice or under another role: execute must refuse
     * them. (Byte 0, which ends every input, passes it as it is.) */
    const uint8_t mode = next_byte(r);
    if (mode == 255) return;
    if (mode == 253) kind = (hc_arg_kind)(next_byte(r) % 12);
    args[(*count)++] = (hc_arg){kind, b.data, b.length};
    if (mode == 254) args[(*count)++] = (hc_arg){kind, b.data, b.length};
}

static hc_plan_options next_options(reader* r) {
    const uint8_t t = next_byte(r), isa = next_byte(r);
    return (hc_plan_options){
        .num_threads = t < 250 ? (int32_t)(t % 4) : (int32_t)next_u64(r, 4),
        .max_isa = (hc_isa)(isa < 250 ? isa % 4 : (int)next_u64(r, 4)),
    };
}

static void free_buffers(buffer* buffers, int count) {
    for (int i = 0; i < count; i++) free(buffers[i].data);
}

/* Executes the plan once or twice with the buffers for its roles; set_weights in between. */
static void exercise(reader* r, hc_plan* plan, hc_direction direction, bool backward_reads_dst, int64_t in_len, int64_t out_len, int64_t w_len,
                     int64_t bias_len, int64_t workspace_len, int64_t workspace_bound, int64_t labels_len, int64_t classes) {
    hc_plan_info info;
    (void)hc_plan_get_info(plan, &info);
    buffer bufs[9];
    int n = 0;
    hc_arg args[18];
    int32_t count = 0;
    const bool forward = direction == HC_DIRECTION_FORWARD_INFERENCE || direction == HC_DIRECTION_FORWARD_TRAINING;
    /* The roles each direction reads and writes; the forward output is optional backward
     * (needed with an activation), and so is the bias gradient. */
    if (direction != HC_DIRECTION_BACKWARD_DATA) {
        bufs[n] = make_buffer(r, in_len, false, 0);
        add_arg(args, &count, r, HC_ARG_SRC, bufs[n++]);
    }
    const uint8_t dst_byte = next_byte(r);
    if (forward || (backward_reads_dst ? dst_byte < 224 : dst_byte >= 224)) {
        bufs[n] = make_buffer(r, out_len, false, 0);
        add_arg(args, &count, r, HC_ARG_DST, bufs[n++]);
    }
    if (!forward) {
        bufs[n] = make_buffer(r, out_len, false, 0);
        add_arg(args, &count, r, HC_ARG_DIFF_DST, bufs[n++]);
    }
    if (direction == HC_DIRECTION_BACKWARD_DATA) {
        bufs[n] = make_buffer(r, in_len, false, 0);
        add_arg(args, &count, r, HC_ARG_DIFF_SRC, bufs[n++]);
    }
    if (direction == HC_DIRECTION_BACKWARD_WEIGHTS && w_len >= 0) {
        bufs[n] = make_buffer(r, w_len, false, 0);
        add_arg(args, &count, r, HC_ARG_DIFF_WEIGHTS, bufs[n++]);
        if (next_byte(r) < 128) {
            bufs[n] = make_buffer(r, bias_len, false, 0);
            add_arg(args, &count, r, HC_ARG_DIFF_BIAS, bufs[n++]);
        }
    }
    if (workspace_len >= 0 && next_byte(r) < 200) {
        bufs[n] = make_buffer(r, workspace_len, true, workspace_bound);
        add_arg(args, &count, r, HC_ARG_WORKSPACE, bufs[n++]);
    }
    if (labels_len >= 0 && next_byte(r) < 200) {
        bufs[n] = make_buffer(r, labels_len, true, classes);
        add_arg(args, &count, r, HC_ARG_LABELS, bufs[n++]);
        if (forward) {
            bufs[n] = make_buffer(r, 1, false, 0);
            add_arg(args, &count, r, HC_ARG_LOSS, bufs[n++]);
        }
    }
    (void)hc_plan_execute(plan, args, count);
    if (w_len >= 0 && next_byte(r) < 64) {
        buffer w = make_buffer(r, w_len, false, 0), b = make_buffer(r, bias_len, false, 0);
        (void)hc_plan_set_weights(plan, w.data, w.length, b.data, b.length);
        free(w.data);
        free(b.data);
        (void)hc_plan_execute(plan, args, count);
    }
    free_buffers(bufs, n);
}

/* Weights at creation: for forward and backward-data plans, which use them; sometimes the other
 * way round (a backward-weights plan must refuse them, the others accept none, for later). */
static bool gives_weights(reader* r, hc_direction direction) {
    const bool usual = direction != HC_DIRECTION_BACKWARD_WEIGHTS;
    return next_byte(r) >= 224 ? !usual : usual;
}

static void fuzz_conv(reader* r, hc_direction direction) {
    hc_conv2d_desc d = {
        .batch = next_size(r), .in_channels = next_size(r), .in_height = next_size(r), .in_width = next_size(r),
        .out_channels = next_size(r), .kernel_height = next_size(r), .kernel_width = next_size(r),
        .stride_height = next_size(r), .stride_width = next_size(r), .pad_top = next_size(r), .pad_bottom = next_size(r),
        .pad_left = next_size(r), .pad_right = next_size(r), .dilation_height = next_size(r), .dilation_width = next_size(r),
        .groups = next_size(r), .activation = (hc_activation)(next_byte(r) % 6), .activation_alpha = next_float(r),
    };
    const hc_plan_options options = next_options(r);
    const int64_t oh = output_size(d.in_height, d.kernel_height, d.stride_height, d.pad_top, d.pad_bottom, d.dilation_height);
    const int64_t ow = output_size(d.in_width, d.kernel_width, d.stride_width, d.pad_left, d.pad_right, d.dilation_width);
    const int64_t in_len = small_product4(d.batch, d.in_channels, d.in_height, d.in_width);
    const int64_t out_len = oh < 0 || ow < 0 ? -1 : small_product4(d.batch, d.out_channels, oh, ow);
    const int64_t w_len = d.groups < 1 ? -1 : small_product4(d.out_channels, d.in_channels / d.groups, d.kernel_height, d.kernel_width);
    const int64_t bias_len = d.out_channels >= 0 && d.out_channels <= MAX_ELEMENTS ? d.out_channels : -1;
    const bool give = gives_weights(r, direction);
    buffer w = make_buffer(r, give ? w_len : -1, false, 0), b = make_buffer(r, give ? bias_len : -1, false, 0);
    hc_plan* plan = NULL;
    const hc_status status = hc_conv2d_create(&d, direction, w.data, w.length, b.data, b.length, &options, &plan);
    free(w.data);
    free(b.data);
    if (status != HC_STATUS_OK) return;
    const int64_t macs = out_len < 0 || w_len < 0 || d.out_channels < 1 ? -1 : small_macs(out_len, w_len / d.out_channels);
    if (in_len >= 0 && macs >= 0 && w_len >= 0)
        exercise(r, plan, direction, d.activation != HC_ACTIVATION_NONE, in_len, out_len, w_len, bias_len, -1, 0, -1, 0);
    hc_plan_destroy(plan);
}

static void fuzz_pool(reader* r, hc_direction direction) {
    hc_pool2d_desc d = {
        .algorithm = (hc_pool_algorithm)(next_byte(r) % 4), .batch = next_size(r), .channels = next_size(r),
        .in_height = next_size(r), .in_width = next_size(r), .kernel_height = next_size(r), .kernel_width = next_size(r),
        .stride_height = next_size(r), .stride_width = next_size(r), .pad_top = next_size(r), .pad_bottom = next_size(r),
        .pad_left = next_size(r), .pad_right = next_size(r),
    };
    const hc_plan_options options = next_options(r);
    hc_plan* plan = NULL;
    if (hc_pool2d_create(&d, direction, &options, &plan) != HC_STATUS_OK) return;
    const int64_t oh = output_size(d.in_height, d.kernel_height, d.stride_height, d.pad_top, d.pad_bottom, 1);
    const int64_t ow = output_size(d.in_width, d.kernel_width, d.stride_width, d.pad_left, d.pad_right, 1);
    const int64_t in_len = small_product4(d.batch, d.channels, d.in_height, d.in_width);
    const int64_t out_len = oh < 0 || ow < 0 ? -1 : small_product4(d.batch, d.channels, oh, ow);
    const int64_t plane = small_product(d.in_height, d.in_width);
    if (in_len >= 0 && out_len >= 0 && small_macs(out_len, small_product(d.kernel_height, d.kernel_width)) >= 0)
        exercise(r, plan, direction, false, in_len, out_len, -1, -1,
                 d.algorithm == HC_POOL_MAX && (direction == HC_DIRECTION_FORWARD_TRAINING || direction == HC_DIRECTION_BACKWARD_DATA) ? out_len : -1,
                 plane, -1, 0);
    hc_plan_destroy(plan);
}

static void fuzz_dense(reader* r, hc_direction direction) {
    hc_dense_desc d = {.batch = next_size(r), .in_features = next_size(r), .out_features = next_size(r),
                       .activation = (hc_activation)(next_byte(r) % 6), .activation_alpha = next_float(r)};
    const hc_plan_options options = next_options(r);
    const int64_t w_len = small_product(d.out_features, d.in_features);
    const int64_t bias_len = d.out_features >= 0 && d.out_features <= MAX_ELEMENTS ? d.out_features : -1;
    const bool give = gives_weights(r, direction);
    buffer w = make_buffer(r, give ? w_len : -1, false, 0), b = make_buffer(r, give ? bias_len : -1, false, 0);
    hc_plan* plan = NULL;
    const hc_status status = hc_dense_create(&d, direction, w.data, w.length, b.data, b.length, &options, &plan);
    free(w.data);
    free(b.data);
    if (status != HC_STATUS_OK) return;
    const int64_t in_len = small_product(d.batch, d.in_features), out_len = small_product(d.batch, d.out_features);
    if (in_len >= 0 && out_len >= 0 && w_len >= 0 && small_macs(d.batch, w_len) >= 0)
        exercise(r, plan, direction, d.activation != HC_ACTIVATION_NONE, in_len, out_len, w_len, bias_len, -1, 0, -1, 0);
    hc_plan_destroy(plan);
}

static void fuzz_eltwise(reader* r, hc_direction direction) {
    hc_eltwise_desc d = {.activation = (hc_activation)(next_byte(r) % 6), .alpha = next_float(r), .length = next_size(r)};
    const hc_plan_options options = next_options(r);
    hc_plan* plan = NULL;
    if (hc_eltwise_create(&d, direction, &options, &plan) != HC_STATUS_OK) return;
    if (d.length >= 0 && d.length <= MAX_ELEMENTS) exercise(r, plan, direction, true, d.length, d.length, -1, -1, -1, 0, -1, 0);
    hc_plan_destroy(plan);
}

static void fuzz_softmax(reader* r, hc_direction direction) {
    hc_softmax_desc d = {.batch = next_size(r), .classes = next_size(r)};
    const hc_plan_options options = next_options(r);
    hc_plan* plan = NULL;
    if (hc_softmax_create(&d, direction, &options, &plan) != HC_STATUS_OK) return;
    const int64_t len = small_product(d.batch, d.classes);
    if (len >= 0) exercise(r, plan, direction, true, len, len, -1, -1, -1, 0, d.batch, d.classes);
    hc_plan_destroy(plan);
}

/* Dropout and the optimizers: one call each on buffers of the given length. */
static void fuzz_elementwise_updates(reader* r, uint8_t which) {
    const int64_t length = next_size(r);
    const hc_plan_options options = next_options(r);
    /* These calls take one length for every buffer: the caller promises it, so the buffers hold
     * exactly that many (or are NULL, which must be refused). Lengths too large to allocate are
     * passed with NULL buffers. */
    const int64_t need = length >= 0 && length <= MAX_ELEMENTS ? length : -1;
    buffer a = exact_buffer(r, need), b = exact_buffer(r, need), c = exact_buffer(r, need), e = exact_buffer(r, need);
    const int64_t step = (int64_t)next_u64(r, 8);
    switch (which % 4) {
    case 0: {
        hc_dropout_desc d = {.rate = next_float(r), .seed = next_u64(r, 8)};
        (void)hc_dropout_forward(&d, step, a.data, next_byte(r) & 1 ? a.data : b.data, length, &options);
        break;
    }
    case 1: {
        hc_dropout_desc d = {.rate = next_float(r), .seed = next_u64(r, 8)};
        (void)hc_dropout_backward(&d, step, a.data, b.data, length, &options);
        break;
    }
    case 2: {
        hc_sgd_desc d = {.learning_rate = next_float(r), .momentum = next_float(r), .weight_decay = next_float(r),
                         .nesterov = (int32_t)(next_byte(r) % 3)};
        (void)hc_sgd_update(&d, a.data, b.data, next_byte(r) & 1 ? NULL : c.data, length, &options);
        break;
    }
    default: {
        hc_adam_desc d = {.learning_rate = next_float(r), .beta1 = next_float(r), .beta2 = next_float(r),
                          .epsilon = next_float(r), .weight_decay = next_float(r)};
        (void)hc_adam_update(&d, step, a.data, b.data, c.data, e.data, length, &options);
        break;
    }
    }
    free(a.data);
    free(b.data);
    free(c.data);
    free(e.data);
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    reader r = {data, size, 0};
    const uint8_t operation = next_byte(&r);
    const uint8_t direction_byte = next_byte(&r);
    const hc_direction direction = (hc_direction)(direction_byte < 250 ? direction_byte % 4 : direction_byte);
    switch (operation % 6) {
    case 0: fuzz_conv(&r, direction); break;
    case 1: fuzz_pool(&r, direction); break;
    case 2: fuzz_dense(&r, direction); break;
    case 3: fuzz_eltwise(&r, direction); break;
    case 4: fuzz_softmax(&r, direction); break;
    default: fuzz_elementwise_updates(&r, operation / 6); break;
    }
    return 0;
}
