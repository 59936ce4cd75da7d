/* Problems in benchdnn's text form (the same the C# ProblemText writes), for HPCCNN_VERBOSE. */
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

/* Height key always (unless it equals omit_when), width key only where it differs. */
static void put_pair(text_buffer* b, const char* h_key, int64_t h, const char* w_key, int64_t w, int64_t omit_when) {
    if (h == w) {
        if (h != omit_when) put(b, h_key, h);
        return;
    }
    put(b, h_key, h);
    put(b, w_key, w);
}

void hc_describe_conv2d(const hc_conv2d_desc* d, char* text, size_t size) {
    text_buffer b = {text, size, 0};
    text[0] = '\0';
    if (d->activation == HC_ACTIVATION_RELU) b.used += (size_t)snprintf(text, size, "--attr-post-ops=relu ");
    if (d->activation == HC_ACTIVATION_LEAKY_RELU)
        b.used += (size_t)snprintf(text, size, "--attr-post-ops=relu:%g ", (double)d->activation_alpha);
    if (d->groups != 1) put(&b, "g", d->groups);
    put(&b, "mb", d->batch);
    put(&b, "ic", d->in_channels);
    put_pair(&b, "ih", d->in_height, "iw", d->in_width, -1);
    put(&b, "oc", d->out_channels);
    put_pair(&b, "kh", d->kernel_height, "kw", d->kernel_width, -1);
    put_pair(&b, "sh", d->stride_height, "sw", d->stride_width, 1);
    put_pair(&b, "ph", d->pad_height, "pw", d->pad_width, 0);
    put_pair(&b, "dh", d->dilation_height - 1, "dw", d->dilation_width - 1, 0);
}

void hc_describe_pool2d(const hc_pool2d_desc* d, char* text, size_t size) {
    static const char* const names[] = {"max", "avg_p", "avg_np"};
    text_buffer b = {text, size, 0};
    b.used += (size_t)snprintf(text, size, "--alg=%s ", (unsigned)d->algorithm < 3 ? names[d->algorithm] : "?");
    put(&b, "mb", d->batch);
    put(&b, "ic", d->channels);
    put_pair(&b, "ih", d->in_height, "iw", d->in_width, -1);
    put_pair(&b, "kh", d->kernel_height, "kw", d->kernel_width, -1);
    put_pair(&b, "sh", d->stride_height, "sw", d->stride_width, 1);
    put_pair(&b, "ph", d->pad_height, "pw", d->pad_width, 0);
}
