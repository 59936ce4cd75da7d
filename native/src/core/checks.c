/* Argument checks shared by every entry point. Each failing check leaves a message that names
 * the parameter, its value and the rule, and the caller returns HC_STATUS_INVALID_ARGUMENT. */
#include <inttypes.h>

#include "internal.h"

bool hc_check_not_null(const void* pointer, const char* name) {
    if (pointer != NULL) return true;
    hc_fail(HC_STATUS_INVALID_ARGUMENT, "%s must not be NULL", name);
    return false;
}

bool hc_check_dimension(int64_t value, int64_t minimum, const char* name) {
    if (value < minimum) {
        hc_fail(HC_STATUS_INVALID_ARGUMENT, "%s must be %s, got %" PRId64, name,
                minimum > 0 ? "positive" : "non-negative", value);
        return false;
    }
    if (value > HC_MAX_DIMENSION) {
        hc_fail(HC_STATUS_INVALID_ARGUMENT, "%s must be at most %" PRId64 ", got %" PRId64,
                name, HC_MAX_DIMENSION, value);
        return false;
    }
    return true;
}

bool hc_checked_mul(int64_t a, int64_t b, int64_t* product, const char* what) {
    if (!__builtin_mul_overflow(a, b, product)) return true;
    hc_fail(HC_STATUS_INVALID_ARGUMENT, "%s overflows a 64-bit element count", what);
    return false;
}

bool hc_check_length(int64_t length, int64_t required, const char* name) {
    if (length >= required) return true;
    hc_fail(HC_STATUS_INVALID_ARGUMENT,
            "%s holds %" PRId64 " elements but the problem needs at least %" PRId64,
            name, length, required);
    return false;
}

bool hc_ranges_overlap(const float* a, int64_t a_len, const float* b, int64_t b_len) {
    uintptr_t a_begin = (uintptr_t)a, b_begin = (uintptr_t)b;
    uintptr_t a_end = a_begin + (uintptr_t)a_len * sizeof(float);
    uintptr_t b_end = b_begin + (uintptr_t)b_len * sizeof(float);
    return a_begin < b_end && b_begin < a_end;
}

int64_t hc_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad_before, int64_t pad_after, int64_t dilation) {
    /* Callers have bounded every operand (see HC_MAX_DIMENSION), so nothing here overflows. */
    int64_t span = dilation * (kernel - 1) + 1;
    int64_t padded = in + pad_before + pad_after;
    if (padded < span) return 0;
    return (padded - span) / stride + 1;
}
