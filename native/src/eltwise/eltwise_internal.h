/* Elementwise activations, forward and backward, per instruction set, and the parallel pass that
 * convolution's backward prologue shares with the elementwise operation. */
#ifndef HPCCNN_ELTWISE_ELTWISE_INTERNAL_H
#define HPCCNN_ELTWISE_ELTWISE_INTERNAL_H

#include "../core/internal.h"

/* y[i] = f(x[i]) for i in [begin, end). */
typedef void (*hc_eltwise_forward_fn)(hc_activation activation, float alpha, const float* x, float* y, int64_t begin, int64_t end);
/* dx[i] = f'(from y[i]) * dy[i] for i in [begin, end). */
typedef void (*hc_eltwise_backward_fn)(hc_activation activation, float alpha, const float* y, const float* dy, float* dx,
                                       int64_t begin, int64_t end);

void hc_eltwise_forward__avx2(hc_activation activation, float alpha, const float* x, float* y, int64_t begin, int64_t end);
void hc_eltwise_backward__avx2(hc_activation activation, float alpha, const float* y, const float* dy, float* dx, int64_t begin,
                               int64_t end);
void hc_eltwise_forward__avx512(hc_activation activation, float alpha, const float* x, float* y, int64_t begin, int64_t end);
void hc_eltwise_backward__avx512(hc_activation activation, float alpha, const float* y, const float* dy, float* dx, int64_t begin,
                                 int64_t end);

/* The whole pass over `length` elements on the best of `isa`, in fixed chunks shared between
 * `threads` (any split gives the same bits: each element is independent). Forward when dy is
 * NULL: out = f(a); backward otherwise: out = f'(from y = a) * dy. */
void hc_eltwise_pass(hc_activation activation, float alpha, const float* a, const float* dy, float* out, int64_t length, hc_isa isa,
                     int32_t threads);

/* dL/d(pre-activation) of a fused activation, for backward passes: dL/dy itself without one, else
 * act'(from y) * dL/dy written into the calling thread's scratch buffer (hc_thread_scratch) and
 * returned; NULL, with the error set, when that buffer cannot be had. */
const float* hc_eltwise_pre_activation(hc_activation activation, float alpha, const float* y, const float* dy, int64_t length, hc_isa isa,
                                       int32_t threads);

#endif
