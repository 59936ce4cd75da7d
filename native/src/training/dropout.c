/* Inverted dropout with a counter-based mask (hpccnn.h, core/philox.h): each element's keep
 * decision is a function of (seed, step, index), so the backward pass recomputes the mask instead
 * of storing it, and every backend and thread count draws the same one. */
#include <inttypes.h>
#include <math.h>

#include "../core/internal.h"
#include "../core/philox.h"

static bool check_dropout(const hc_dropout_desc* desc, const float* in, const float* out, int64_t length, const char* in_name,
                          const char* out_name) {
    if (!hc_check_not_null(desc, "desc") || !hc_check_dimension(length, 0, "length")) return false;
    if (!(desc->rate >= 0.0f && desc->rate < 1.0f)) {
        hc_fail(HC_STATUS_INVALID_ARGUMENT, "desc->rate must be in [0, 1), got %g", (double)desc->rate);
        return false;
    }
    if (length > 0 && (!hc_check_not_null(in, in_name) || !hc_check_not_null(out, out_name))) return false;
    if (in != out && hc_ranges_overlap(in, length, out, length)) {
        hc_fail(HC_STATUS_INVALID_ARGUMENT, "%s and %s must be the same buffer or not overlap", in_name, out_name);
        return false;
    }
    return true;
}

typedef struct dropout_call {
    const hc_dropout_desc* desc;
    int64_t step;
    const float* in;
    float* out;
} dropout_call;

/* out[i] = kept(i) ? in[i] * scale : 0 for the elements of [begin, end), begin a multiple of 4. */
static void apply_mask(const void* context, int64_t begin, int64_t end) {
    const dropout_call* call = context;
    const hc_dropout_desc* desc = call->desc;
    const int64_t step = call->step;
    const float* in = call->in;
    float* out = call->out;
    const float scale = 1.0f / (1.0f - desc->rate);
    for (int64_t block = begin / 4; block * 4 < end; block++) {
        float u[4];
        hc_dropout_uniforms(desc->seed, step, block, u);
        for (int64_t lane = 0; lane < 4 && block * 4 + lane < end; lane++) {
            const int64_t i = block * 4 + lane;
            out[i] = u[lane] >= desc->rate ? in[i] * scale : 0.0f;
        }
    }
}

static hc_status run(const hc_dropout_desc* desc, int64_t step, const float* in, float* out, int64_t length, const hc_plan_options* options,
                     const char* in_name, const char* out_name) {
    hc_clear_error();
    int32_t threads;
    if (!check_dropout(desc, in, out, length, in_name, out_name) || !hc_resolve_num_threads(options, &threads))
        return HC_STATUS_INVALID_ARGUMENT;
    const dropout_call call = {.desc = desc, .step = step, .in = in, .out = out};
    hc_for_chunks(length, threads, apply_mask, &call);
    return HC_STATUS_OK;
}

hc_status hc_dropout_forward(const hc_dropout_desc* desc, int64_t step, const float* x, float* y, int64_t length,
                             const hc_plan_options* options) {
    return run(desc, step, x, y, length, options, "x", "y");
}

hc_status hc_dropout_backward(const hc_dropout_desc* desc, int64_t step, const float* dy, float* dx, int64_t length,
                              const hc_plan_options* options) {
    return run(desc, step, dy, dx, length, options, "dy", "dx");
}
