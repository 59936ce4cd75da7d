/* Optimizer updates (hpccnn.h): SGD with momentum, Nesterov and weight decay, and Adam, in place,
 * element by element in float in the documented order. This file is compiled without
 * floating-point contraction, so no multiply-add is fused and every backend gets the same bits. */
#include <inttypes.h>
#include <math.h>

#include "../core/internal.h"

static bool check_buffers(int64_t length, const float* const* buffers, const char* const* names, int count) {
    if (!hc_check_dimension(length, 0, "length")) return false;
    for (int i = 0; i < count; i++) {
        if (length > 0 && !hc_check_not_null(buffers[i], names[i])) return false;
        for (int j = 0; j < i; j++)
            if (hc_ranges_overlap(buffers[i], length, buffers[j], length)) {
                hc_fail(HC_STATUS_INVALID_ARGUMENT, "%s and %s must not overlap", names[j], names[i]);
                return false;
            }
    }
    return true;
}

static bool finite_at_least(float value, float minimum, const char* name) {
    if (isfinite(value) && value >= minimum) return true;
    hc_fail(HC_STATUS_INVALID_ARGUMENT, "%s must be finite and at least %g, got %g", name, (double)minimum, (double)value);
    return false;
}

typedef struct sgd_call {
    const hc_sgd_desc* desc;
    float* w;
    const float* gradient;
    float* v;
} sgd_call;

static void sgd_range(const void* context, int64_t begin, int64_t end) {
    const sgd_call* call = context;
    const hc_sgd_desc* d = call->desc;
    float* w = call->w;
    const float* gradient = call->gradient;
    float* v = call->v;
    const float lr = d->learning_rate, momentum = d->momentum, decay = d->weight_decay;
    for (int64_t i = begin; i < end; i++) {
        const float g = gradient[i] + decay * w[i];
        float update = g;
        if (momentum != 0.0f) {
            v[i] = momentum * v[i] + g;
            update = d->nesterov ? g + momentum * v[i] : v[i];
        }
        w[i] = w[i] - lr * update;
    }
}

hc_status hc_sgd_update(const hc_sgd_desc* desc, float* weights, const float* gradients, float* velocity, int64_t length,
                        const hc_plan_options* options) {
    hc_clear_error();
    int32_t threads;
    if (!hc_check_not_null(desc, "desc") || !hc_resolve_num_threads(options, &threads)) return HC_STATUS_INVALID_ARGUMENT;
    if (!finite_at_least(desc->learning_rate, 0.0f, "desc->learning_rate") || !finite_at_least(desc->momentum, 0.0f, "desc->momentum") ||
        !finite_at_least(desc->weight_decay, 0.0f, "desc->weight_decay"))
        return HC_STATUS_INVALID_ARGUMENT;
    if (desc->nesterov != 0 && desc->nesterov != 1)
        return hc_fail(HC_STATUS_INVALID_ARGUMENT, "desc->nesterov must be 0 or 1, got %" PRId32, desc->nesterov);
    if (desc->nesterov && desc->momentum == 0.0f) return hc_fail(HC_STATUS_INVALID_ARGUMENT, "Nesterov momentum needs desc->momentum > 0");
    const bool moving = desc->momentum != 0.0f;
    const float* buffers[] = {weights, gradients, velocity};
    const char* names[] = {"weights", "gradients", "velocity"};
    if (!check_buffers(length, buffers, names, moving ? 3 : 2)) return HC_STATUS_INVALID_ARGUMENT;
    const sgd_call call = {.desc = desc, .w = weights, .gradient = gradients, .v = velocity};
    hc_for_chunks(length, threads, sgd_range, &call);
    return HC_STATUS_OK;
}

typedef struct adam_call {
    float beta1, one_minus_beta1, beta2, one_minus_beta2, epsilon, decay, step_size, root_correction2;
    float* w;
    const float* gradient;
    float *m, *v;
} adam_call;

static void adam_range(const void* context, int64_t begin, int64_t end) {
    const adam_call* s = context;
    float* w = s->w;
    const float* gradient = s->gradient;
    float *m = s->m, *v = s->v;
    for (int64_t i = begin; i < end; i++) {
        const float g = gradient[i] + s->decay * w[i];
        m[i] = s->beta1 * m[i] + s->one_minus_beta1 * g;
        v[i] = s->beta2 * v[i] + s->one_minus_beta2 * g * g;
        const float denominator = sqrtf(v[i]) / s->root_correction2 + s->epsilon;
        w[i] = w[i] - s->step_size * (m[i] / denominator);
    }
}

hc_status hc_adam_update(const hc_adam_desc* desc, int64_t step, float* weights, const float* gradients, float* first_moment,
                         float* second_moment, int64_t length, const hc_plan_options* options) {
    hc_clear_error();
    int32_t threads;
    if (!hc_check_not_null(desc, "desc") || !hc_resolve_num_threads(options, &threads)) return HC_STATUS_INVALID_ARGUMENT;
    if (!finite_at_least(desc->learning_rate, 0.0f, "desc->learning_rate") || !finite_at_least(desc->weight_decay, 0.0f, "desc->weight_decay"))
        return HC_STATUS_INVALID_ARGUMENT;
    if (!(desc->beta1 >= 0.0f && desc->beta1 < 1.0f) || !(desc->beta2 >= 0.0f && desc->beta2 < 1.0f))
        return hc_fail(HC_STATUS_INVALID_ARGUMENT, "desc->beta1 and desc->beta2 must be in [0, 1), got %g and %g", (double)desc->beta1,
                       (double)desc->beta2);
    if (!(isfinite(desc->epsilon) && desc->epsilon > 0.0f))
        return hc_fail(HC_STATUS_INVALID_ARGUMENT, "desc->epsilon must be finite and positive, got %g", (double)desc->epsilon);
    if (step < 1) return hc_fail(HC_STATUS_INVALID_ARGUMENT, "step counts from 1, got %" PRId64, step);
    const float* buffers[] = {weights, gradients, first_moment, second_moment};
    const char* names[] = {"weights", "gradients", "first_moment", "second_moment"};
    if (!check_buffers(length, buffers, names, 4)) return HC_STATUS_INVALID_ARGUMENT;
    const adam_call s = {
        .beta1 = desc->beta1, .one_minus_beta1 = 1.0f - desc->beta1,
        .beta2 = desc->beta2, .one_minus_beta2 = 1.0f - desc->beta2,
        .epsilon = desc->epsilon, .decay = desc->weight_decay,
        .step_size = (float)((double)desc->learning_rate / (1.0 - pow((double)desc->beta1, (double)step))),
        .root_correction2 = (float)sqrt(1.0 - pow((double)desc->beta2, (double)step)),
        .w = weights, .gradient = gradients, .m = first_moment, .v = second_moment,
    };
    hc_for_chunks(length, threads, adam_range, &s);
    return HC_STATUS_OK;
}
