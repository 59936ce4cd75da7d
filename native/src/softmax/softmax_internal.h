/* The softmax row functions per instruction set (softmax_row.inc.c): p = softmax(x) for one row
 * of `classes` logits, returning the row's log-sum-exp; and the cross-entropy's gradient of one
 * row, dx = (p - onehot(label)) / batch. */
#ifndef HPCCNN_SOFTMAX_INTERNAL_H
#define HPCCNN_SOFTMAX_INTERNAL_H

#include <stdint.h>

#include "../core/vmath.h"

double hc_softmax_row__avx2(const float* x, float* p, int64_t classes);
double hc_softmax_row__avx512(const float* x, float* p, int64_t classes);
void hc_softmax_backward_row__avx2(const float* p, int32_t label, float batch, float* dx, int64_t classes);
void hc_softmax_backward_row__avx512(const float* p, int32_t label, float batch, float* dx, int64_t classes);

#endif
