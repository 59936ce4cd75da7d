/* The softmax row functions per instruction set (softmax_row.inc.c): p = softmax(x) for one row
 * of `classes` logits, returning the row's log-sum-exp. */
#ifndef HPCCNN_SOFTMAX_INTERNAL_H
#define HPCCNN_SOFTMAX_INTERNAL_H

#include <stdint.h>

#include "../core/vmath.h"

double hc_softmax_row__avx2(const float* x, float* p, int64_t classes);
double hc_softmax_row__avx512(const float* x, float* p, int64_t classes);

#endif
