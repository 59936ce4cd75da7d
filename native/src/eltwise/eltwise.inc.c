/* The elementwise loops for one instruction set: whole vectors, then a masked tail. The including
 * file defines VEC, LANES, vec_load(p), vec_store(p, v), vec_load_tail(p, n), vec_store_tail(p, v, n),
 * vec_forward(activation, alpha, x), vec_backward(activation, alpha, y, dy), and the function names
 * ELTWISE_FORWARD and ELTWISE_BACKWARD. */
#include "eltwise_internal.h"

void ELTWISE_FORWARD(hc_activation activation, float alpha, const float* x, float* y, int64_t begin, int64_t end) {
    int64_t i = begin;
    for (; i + LANES <= end; i += LANES) vec_store(y + i, vec_forward(activation, alpha, vec_load(x + i)));
    if (i < end) vec_store_tail(y + i, vec_forward(activation, alpha, vec_load_tail(x + i, end - i)), end - i);
}

void ELTWISE_BACKWARD(hc_activation activation, float alpha, const float* y, const float* dy, float* dx, int64_t begin, int64_t end) {
    int64_t i = begin;
    for (; i + LANES <= end; i += LANES) vec_store(dx + i, vec_backward(activation, alpha, vec_load(y + i), vec_load(dy + i)));
    if (i < end)
        vec_store_tail(dx + i, vec_backward(activation, alpha, vec_load_tail(y + i, end - i), vec_load_tail(dy + i, end - i)), end - i);
}
