/* Problems in benchdnn's text form, the same canonical form the C# problem types write, for
 * HPCCNN_VERBOSE. The width keys appear only when the width axis differs from the height axis
 * (then iw and kw are always written, as benchdnn requires); an axis padded asymmetrically is
 * written with its output size, from which benchdnn deduces the bottom/right padding. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

typedef struct text_buffer {
    char* text;
    size_t size;
    size_t used;
} text_buffer;

static void put(text_buffer* b, const char* key, int64_t value) {
    if (b->used >= b->size) return;
    int n = snprintf(b->text + b->used, b->size - b->used, "%s%" PRId64, key, value);
    if (n > 0) b->used += (size_t)n;
    if (b->used > b->size) b->used = b->size;
}

static void put_text(text_buffer* b, const char* text) {
    if (b->used >= b->size) return;
    int n = snprintf(b->text + b->used, b->size - b->used, "%s", text);
    if (n > 0) b->used += (size_t)n;
    if (b->used > b->size) b->used = b->size;
}

/* One spatial axis of a problem; dilation counted from 0 as in the text. */
typedef struct axis {
    int64_t in, out, kernel, stride, before, after, dilation;
} axis;

static bool same_axis(axis a, axis b) {
    return a.in == b.in && a.kernel == b.kernel && a.stride == b.stride && a.before == b.before && a.after == b.after &&
           a.dilation == b.dilation;
}

/* Writes the axis keys of one kind (i, o, k, s, p or d) in benchdnn's order. */
typedef struct axes {
    axis h, w;
    bool width; /* the width differs: write its keys too */
} axes;

static void put_inputs(text_buffer* b, axes a) {
    put(b, "ih", a.h.in);
    if (a.width) put(b, "iw", a.w.in);
}

static void put_outputs(text_buffer* b, axes a) {
    if (a.h.after != a.h.before) put(b, "oh", a.h.out);
    if (a.width && a.w.after != a.w.before) put(b, "ow", a.w.out);
}

static void put_rest(text_buffer* b, axes a, bool dilation) {
    put(b, "kh", a.h.kernel);
    if (a.width) put(b, "kw", a.w.kernel);
    if (a.h.stride != 1) put(b, "sh", a.h.stride);
    if (a.width && a.w.stride != 1) put(b, "sw", a.w.stride);
    /* With the output size written, a missing padding would be deduced, not taken as 0. */
    if (a.h.before != 0 || a.h.after != a.h.before) put(b, "ph", a.h.before);
    if (a.width && (a.w.before != 0 || a.w.after != a.w.before)) put(b, "pw", a.w.before);
    if (dilation && a.h.dilation != 0) put(b, "dh", a.h.dilation);
    if (dilation && a.width && a.w.dilation != 0) put(b, "dw", a.w.dilation);
}

static axes make_axes(axis h, axis w) { return (axes){.h = h, .w = w, .width = !same_axis(h, w)}; }

void hc_describe_conv2d(const hc_conv2d_desc* d, char* text, size_t size) {
    text_buffer b = {text, size, 0};
    text[0] = '\0';
    char post_ops[64] = "";
    if (d->activation == HC_ACTIVATION_RELU) snprintf(post_ops, sizeof post_ops, "--attr-post-ops=relu ");
    if (d->activation == HC_ACTIVATION_LEAKY_RELU)
        snprintf(post_ops, sizeof post_ops, "--attr-post-ops=relu:%g ", (double)d->activation_alpha);
    put_text(&b, post_ops);
    const axes a = make_axes(
        (axis){d->in_height, hc_output_size(d->in_height, d->kernel_height, d->stride_height, d->pad_top, d->pad_bottom, d->dilation_height),
               d->kernel_height, d->stride_height, d->pad_top, d->pad_bottom, d->dilation_height - 1},
        (axis){d->in_width, hc_output_size(d->in_width, d->kernel_width, d->stride_width, d->pad_left, d->pad_right, d->dilation_width),
               d->kernel_width, d->stride_width, d->pad_left, d->pad_right, d->dilation_width - 1});
    if (d->groups != 1) put(&b, "g", d->groups);
    put(&b, "mb", d->batch);
    put(&b, "ic", d->in_channels);
    put_inputs(&b, a);
    put(&b, "oc", d->out_channels);
    put_outputs(&b, a);
    put_rest(&b, a, true);
}

void hc_describe_pool2d(const hc_pool2d_desc* d, char* text, size_t size) {
    static const char* const names[] = {"max", "avg_p", "avg_np"};
    text_buffer b = {text, size, 0};
    text[0] = '\0';
    put_text(&b, "--alg=");
    put_text(&b, (unsigned)d->algorithm < 3 ? names[d->algorithm] : "?");
    put_text(&b, " ");
    const axes a = make_axes(
        (axis){d->in_height, hc_output_size(d->in_height, d->kernel_height, d->stride_height, d->pad_top, d->pad_bottom, 1),
               d->kernel_height, d->stride_height, d->pad_top, d->pad_bottom, 0},
        (axis){d->in_width, hc_output_size(d->in_width, d->kernel_width, d->stride_width, d->pad_left, d->pad_right, 1),
               d->kernel_width, d->stride_width, d->pad_left, d->pad_right, 0});
    put(&b, "mb", d->batch);
    put(&b, "ic", d->channels);
    put_inputs(&b, a);
    put_outputs(&b, a);
    put_rest(&b, a, false);
}

void hc_describe_eltwise(const hc_eltwise_desc* d, char* text, size_t size) {
    static const char* const names[] = {"linear", "relu", "relu", "tanh", "logistic"};
    const char* name = (unsigned)d->activation < 5 ? names[d->activation] : "?";
    if (d->activation == HC_ACTIVATION_LEAKY_RELU) {
        snprintf(text, size, "--alg=%s --alpha=%g %" PRId64, name, (double)d->alpha, d->length);
    } else {
        snprintf(text, size, "--alg=%s %" PRId64, name, d->length);
    }
}

void hc_describe_softmax(const hc_softmax_desc* d, char* text, size_t size) {
    snprintf(text, size, "%" PRId64 "x%" PRId64, d->batch, d->classes);
}

void hc_describe_dense(const hc_dense_desc* d, char* text, size_t size) {
    text_buffer b = {text, size, 0};
    text[0] = '\0';
    char post_ops[64] = "";
    if (d->activation != HC_ACTIVATION_NONE) {
        static const char* const names[] = {"linear", "relu", "relu", "tanh", "logistic"};
        if (d->activation == HC_ACTIVATION_LEAKY_RELU)
            snprintf(post_ops, sizeof post_ops, "--attr-post-ops=relu:%g ", (double)d->activation_alpha);
        else if ((unsigned)d->activation < 5)
            snprintf(post_ops, sizeof post_ops, "--attr-post-ops=%s ", names[d->activation]);
    }
    put_text(&b, post_ops);
    put(&b, "mb", d->batch);
    put(&b, "ic", d->in_features);
    put(&b, "oc", d->out_features);
}
