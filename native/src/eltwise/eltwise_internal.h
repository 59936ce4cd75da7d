/* Elementwise kernels per instruction set: each maps input[begin, end) to output[begin, end). */
#ifndef HPCCNN_ELTWISE_ELTWISE_INTERNAL_H
#define HPCCNN_ELTWISE_ELTWISE_INTERNAL_H

#include "../core/internal.h"

void hc_eltwise_forward__avx2(hc_eltwise_op op, float alpha, const float* input, float* output, int64_t begin, int64_t end);

#endif
