/* One softmax row, vectorised: a template compiled once per instruction set (softmax_avx2.c,
 * softmax_avx512.c). The including file defines VEC, LANES, vec_set1, vec_sub, vec_add, vec_div,
 * vec_max_nan, vec_exp, vec_store, vec_load_fill(p, n, fill) (lanes past n hold fill),
 * vec_store_tail(p, v, n), vec_zero_tail(v, n), and SOFTMAX_ROW and SOFTMAX_BACKWARD_ROW, the
 * functions it then defines.
 * The same three passes as softmax.c's plain row: the maximum (NaN propagating), exp(x - max)
 * and its sum, then the division; lanes are reduced in a fixed order, so every thread count gives
 * the same bits. */
#include <math.h>

#include "softmax_internal.h"

double SOFTMAX_ROW(const float* x, float* p, int64_t classes) {
    VEC running = vec_set1(-INFINITY);
    for (int64_t j = 0; j < classes; j += LANES) running = vec_max_nan(running, vec_load_fill(x + j, classes - j, -INFINITY));
    float lanes[LANES];
    vec_store(lanes, running);
    float maximum = lanes[0];
    for (int l = 1; l < LANES; l++) maximum = hc_max_nan(maximum, lanes[l]);

    const VEC shift = vec_set1(maximum);
    VEC sums = vec_set1(0.0f);
    for (int64_t j = 0; j < classes; j += LANES) {
        /* Lanes past the row are zeroed after exp (exp of -inf - max is tiny, not 0, in vec_exp). */
        const VEC e = vec_zero_tail(vec_exp(vec_sub(vec_load_fill(x + j, classes - j, -INFINITY), shift)), classes - j);
        vec_store_tail(p + j, e, classes - j);
        sums = vec_add(sums, e);
    }
    vec_store(lanes, sums);
    float sum = 0.0f;
    for (int l = 0; l < LANES; l++) sum += lanes[l];

    const VEC divisor = vec_set1(sum);
    for (int64_t j = 0; j < classes; j += LANES)
        vec_store_tail(p + j, vec_div(vec_load_fill(p + j, classes - j, 0.0f), divisor), classes - j);
    return (double)maximum + log((double)sum);
}

void SOFTMAX_BACKWARD_ROW(const float* p, int32_t label, float batch, float* dx, int64_t classes) {
    const VEC divisor = vec_set1(batch);
    for (int64_t j = 0; j < classes; j += LANES)
        vec_store_tail(dx + j, vec_div(vec_load_fill(p + j, classes - j, 0.0f), divisor), classes - j);
    dx[label] = (p[label] - 1.0f) / batch;
}
