/* The plan skeleton shared by every operation: algorithm choice, argument checks, weights,
 * execution, information, logging and destruction (plan.h). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"

static const char* const arg_names[HC_ARG_KIND_COUNT] = {
    "?", "SRC", "DST", "DIFF_SRC", "DIFF_DST", "DIFF_WEIGHTS", "DIFF_BIAS", "WORKSPACE", "LABELS", "LOSS",
};

static const char* arg_name(hc_arg_kind kind) { return kind > 0 && kind < HC_ARG_KIND_COUNT ? arg_names[kind] : "?"; }

const char* hc_direction_name(hc_direction direction) {
    switch (direction) {
    case HC_DIRECTION_FORWARD_INFERENCE: return "FWD_I";
    case HC_DIRECTION_FORWARD_TRAINING: return "FWD_D";
    case HC_DIRECTION_BACKWARD_DATA: return "BWD_D";
    case HC_DIRECTION_BACKWARD_WEIGHTS: return "BWD_W";
    }
    return "?";
}

const char* hc_direction_string(hc_direction direction) { return hc_direction_name(direction); }

hc_status hc_plan_begin(hc_plan* plan, const hc_operation* operation, hc_direction direction, const hc_plan_options* options) {
    plan->operation = operation;
    if ((unsigned)direction >= HC_DIRECTION_COUNT)
        return hc_fail(HC_STATUS_INVALID_ARGUMENT, "direction has unknown value %d", (int)direction);
    if (operation->algorithms[direction] == NULL)
        return hc_fail(HC_STATUS_INVALID_ARGUMENT, "%s has no %s direction", operation->name, hc_direction_name(direction));
    plan->direction = direction;
    if (!hc_resolve_num_threads(options, &plan->num_threads) || !hc_resolve_isa(options, &plan->isa))
        return HC_STATUS_INVALID_ARGUMENT;
    return HC_STATUS_OK;
}

void hc_plan_add_arg(hc_plan* plan, hc_arg_kind kind, bool output, bool optional, int64_t length) {
    plan->args[plan->arg_count++] = (hc_arg_spec){.kind = kind, .output = output, .optional = optional, .length = length};
}

hc_arg_spec* hc_plan_arg(hc_plan* plan, hc_arg_kind kind) {
    for (int32_t i = 0; i < plan->arg_count; i++)
        if (plan->args[i].kind == kind) return &plan->args[i];
    return NULL;
}

static float* copy_into(float* existing, const float* source, int64_t count) {
    float* copy = existing != NULL ? existing : malloc((size_t)count * sizeof(float));
    if (copy != NULL) memcpy(copy, source, (size_t)count * sizeof(float));
    return copy;
}

/* Checks, copies and packs weights; the plan keeps its old ones if anything fails before packing. */
static hc_status store_weights(hc_plan* plan, const float* weights, int64_t weights_length, const float* bias, int64_t bias_length) {
    if (!hc_check_not_null(weights, "weights") || !hc_check_length(weights_length, plan->weights_length, "weights"))
        return HC_STATUS_INVALID_ARGUMENT;
    if (bias == NULL && bias_length != 0)
        return hc_fail(HC_STATUS_INVALID_ARGUMENT, "bias is NULL but bias_length is %" PRId64 " (use 0 for no bias)", bias_length);
    if (bias != NULL && !hc_check_length(bias_length, plan->bias_length, "bias")) return HC_STATUS_INVALID_ARGUMENT;
    float* new_weights = copy_into(plan->weights, weights, plan->weights_length);
    if (new_weights == NULL)
        return hc_fail(HC_STATUS_OUT_OF_MEMORY, "out of memory copying %" PRId64 " weights", plan->weights_length);
    plan->weights = new_weights;
    if (bias != NULL) {
        float* new_bias = copy_into(plan->bias, bias, plan->bias_length);
        if (new_bias == NULL) return hc_fail(HC_STATUS_OUT_OF_MEMORY, "out of memory copying the bias");
        plan->bias = new_bias;
    } else {
        free(plan->bias);
        plan->bias = NULL;
    }
    plan->weights_set = false; /* until packed */
    if (plan->algorithm->pack != NULL) {
        hc_status status = plan->algorithm->pack(plan);
        if (status != HC_STATUS_OK) return status;
    }
    plan->weights_set = true;
    return HC_STATUS_OK;
}

hc_status hc_plan_finish(hc_plan* plan, const float* weights, int64_t weights_length, const float* bias, int64_t bias_length,
                         double start_ms) {
    for (const hc_algorithm* const* candidate = plan->operation->algorithms[plan->direction]; *candidate != NULL; candidate++) {
        if ((*candidate)->isa <= plan->isa && (*candidate)->accepts(plan)) {
            plan->algorithm = *candidate;
            break;
        }
    }
    if (plan->algorithm == NULL)
        return hc_fail(HC_STATUS_INTERNAL, "no %s %s algorithm accepted the problem", plan->operation->name,
                       hc_direction_name(plan->direction));
    plan->operation->describe(plan, plan->text, sizeof plan->text);
    if (plan->algorithm->prepare != NULL) {
        hc_status status = plan->algorithm->prepare(plan);
        if (status != HC_STATUS_OK) return status;
    }
    if (plan->delegate != NULL) {
        snprintf(plan->algorithm_name, sizeof plan->algorithm_name, "%s:%.63s", plan->algorithm->name, plan->delegate->algorithm_name);
        plan->algorithm_isa = plan->delegate->algorithm_isa;
    } else {
        snprintf(plan->algorithm_name, sizeof plan->algorithm_name, "%s", plan->algorithm->name);
        plan->algorithm_isa = plan->algorithm->isa;
    }
    if (plan->weights_length > 0) {
        if (weights != NULL || weights_length != 0) {
            hc_status status = store_weights(plan, weights, weights_length, bias, bias_length);
            if (status != HC_STATUS_OK) return status;
        } else if (bias != NULL || bias_length != 0) {
            return hc_fail(HC_STATUS_INVALID_ARGUMENT, "a bias was given without weights");
        }
    } else if (weights != NULL || weights_length != 0 || bias != NULL || bias_length != 0) {
        return hc_fail(HC_STATUS_INVALID_ARGUMENT, "%s %s plans take no weights", plan->operation->name,
                       hc_direction_name(plan->direction));
    }
    if (hc_verbose())
        hc_log("create %s %s %s alg=%s isa=%s threads=%d time=%.3fms", plan->operation->name, hc_direction_name(plan->direction),
               plan->text, plan->algorithm_name, hc_isa_string(plan->algorithm_isa), plan->num_threads, hc_now_ms() - start_ms);
    return HC_STATUS_OK;
}

bool hc_plan_accepts_any(const hc_plan* plan) {
    (void)plan;
    return true;
}

bool hc_check_activation(hc_activation activation, float alpha, hc_direction direction, const char* alpha_name) {
    if (!hc_activation_is_valid(activation)) {
        hc_fail(HC_STATUS_INVALID_ARGUMENT, "desc->activation has unknown value %d", (int)activation);
        return false;
    }
    if (activation != HC_ACTIVATION_LEAKY_RELU) return true;
    if (!isfinite(alpha)) {
        hc_fail(HC_STATUS_INVALID_ARGUMENT, "%s must be finite", alpha_name);
        return false;
    }
    if ((direction == HC_DIRECTION_BACKWARD_DATA || direction == HC_DIRECTION_BACKWARD_WEIGHTS) && !(alpha >= 0.0f)) {
        hc_fail(HC_STATUS_INVALID_ARGUMENT, "the backward passes of LeakyReLU need %s >= 0 (they read the output's sign), got %g", alpha_name,
                (double)alpha);
        return false;
    }
    return true;
}

float* hc_plan_packed(hc_plan* plan, size_t bytes) {
    if (plan->packed != NULL && plan->packed_bytes >= bytes) return plan->packed;
    hc_aligned_free(plan->packed);
    plan->packed = hc_aligned_alloc(bytes);
    plan->packed_bytes = plan->packed != NULL ? bytes : 0;
    return plan->packed;
}

hc_status hc_plan_set_weights(hc_plan* plan, const float* weights, int64_t weights_length, const float* bias, int64_t bias_length) {
    hc_clear_error();
    if (!hc_check_not_null(plan, "plan")) return HC_STATUS_INVALID_ARGUMENT;
    if (plan->weights_length == 0)
        return hc_fail(HC_STATUS_INVALID_ARGUMENT, "%s %s plans take no weights", plan->operation->name,
                       hc_direction_name(plan->direction));
    const double start = hc_verbose() ? hc_now_ms() : 0.0;
    hc_status status = store_weights(plan, weights, weights_length, bias, bias_length);
    if (status == HC_STATUS_OK && hc_verbose())
        hc_log("set_weights %s %s %s alg=%s time=%.3fms", plan->operation->name, hc_direction_name(plan->direction), plan->text,
               plan->algorithm_name, hc_now_ms() - start);
    return status;
}

/* Resolves the call's buffers by role and checks them against the plan's specs. */
static hc_status resolve_args(const hc_plan* plan, const hc_arg* args, int32_t count, hc_args* resolved) {
    memset(resolved, 0, sizeof *resolved);
    if (count < 0 || count > 64) return hc_fail(HC_STATUS_INVALID_ARGUMENT, "count must be between 0 and 64, got %" PRId32, count);
    if (count > 0 && !hc_check_not_null(args, "args")) return HC_STATUS_INVALID_ARGUMENT;
    int64_t lengths[HC_ARG_KIND_COUNT] = {0};
    bool given[HC_ARG_KIND_COUNT] = {false};
    for (int32_t i = 0; i < count; i++) {
        const hc_arg_kind kind = args[i].kind;
        const hc_arg_spec* spec = NULL;
        for (int32_t j = 0; j < plan->arg_count; j++)
            if (plan->args[j].kind == kind) spec = &plan->args[j];
        if (spec == NULL)
            return hc_fail(HC_STATUS_INVALID_ARGUMENT, "args[%" PRId32 "]: %s (%d) is not an argument of %s %s", i, arg_name(kind),
                           (int)kind, plan->operation->name, hc_direction_name(plan->direction));
        if (given[kind]) return hc_fail(HC_STATUS_INVALID_ARGUMENT, "args[%" PRId32 "]: %s is given twice", i, arg_name(kind));
        given[kind] = true;
        if (args[i].length < spec->length)
            return hc_fail(HC_STATUS_INVALID_ARGUMENT, "%s holds %" PRId64 " elements but the problem needs at least %" PRId64,
                           arg_name(kind), args[i].length, spec->length);
        if (spec->length > 0 && args[i].data == NULL) return hc_fail(HC_STATUS_INVALID_ARGUMENT, "%s must not be NULL", arg_name(kind));
        resolved->at[kind] = args[i].data;
        lengths[kind] = spec->length;
    }
    for (int32_t j = 0; j < plan->arg_count; j++)
        if (!plan->args[j].optional && !given[plan->args[j].kind])
            return hc_fail(HC_STATUS_INVALID_ARGUMENT, "%s %s needs %s", plan->operation->name, hc_direction_name(plan->direction),
                           arg_name(plan->args[j].kind));
    /* An output may share memory with nothing else, except exactly its in-place partner. */
    for (int32_t j = 0; j < plan->arg_count; j++) {
        const hc_arg_spec* out = &plan->args[j];
        if (!out->output || !given[out->kind] || out->length == 0) continue;
        for (int kind = 1; kind < HC_ARG_KIND_COUNT; kind++) {
            if (kind == (int)out->kind || !given[kind] || lengths[kind] == 0) continue;
            if ((hc_arg_kind)kind == out->alias && resolved->at[kind] == resolved->at[out->kind]) continue;
            const uintptr_t a = (uintptr_t)resolved->at[out->kind], b = (uintptr_t)resolved->at[kind];
            if (a < b + (uintptr_t)lengths[kind] * 4 && b < a + (uintptr_t)out->length * 4)
                return hc_fail(HC_STATUS_INVALID_ARGUMENT, "%s and %s must not overlap%s", arg_name(out->kind), arg_name((hc_arg_kind)kind),
                               (hc_arg_kind)kind == out->alias ? " (unless they are the same buffer)" : "");
        }
    }
    if (plan->weights_length > 0 && !plan->weights_set)
        return hc_fail(HC_STATUS_INVALID_ARGUMENT, "the plan has no weights yet: pass them at creation or with hc_plan_set_weights");
    return HC_STATUS_OK;
}

hc_status hc_plan_execute(const hc_plan* plan, const hc_arg* args, int32_t count) {
    hc_clear_error();
    if (!hc_check_not_null(plan, "plan")) return HC_STATUS_INVALID_ARGUMENT;
    hc_args resolved;
    hc_status status = resolve_args(plan, args, count, &resolved);
    if (status != HC_STATUS_OK) return status;
    if (!hc_verbose()) return plan->algorithm->run(plan, &resolved);
    const double start = hc_now_ms();
    status = plan->algorithm->run(plan, &resolved);
    hc_log("run %s %s %s alg=%s isa=%s threads=%d time=%.3fms", plan->operation->name, hc_direction_name(plan->direction), plan->text,
           plan->algorithm_name, hc_isa_string(plan->algorithm_isa), plan->num_threads, hc_now_ms() - start);
    return status;
}

hc_status hc_plan_get_info(const hc_plan* plan, hc_plan_info* info) {
    hc_clear_error();
    if (!hc_check_not_null(plan, "plan") || !hc_check_not_null(info, "info")) return HC_STATUS_INVALID_ARGUMENT;
    *info = (hc_plan_info){
        .algorithm = plan->algorithm_name,
        .isa = hc_isa_string(plan->algorithm_isa),
        .num_threads = plan->num_threads,
        .workspace_bytes = 0,
    };
    return HC_STATUS_OK;
}

void hc_plan_destroy(hc_plan* plan) {
    if (plan == NULL) return;
    if (plan->operation != NULL && plan->operation->release != NULL) plan->operation->release(plan);
    free(plan->weights);
    free(plan->bias);
    hc_aligned_free(plan->packed);
    free(plan);
}
