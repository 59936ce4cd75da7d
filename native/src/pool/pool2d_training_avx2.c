/* Pooling for training (pool2d_training.inc.c), compiled with -mavx2 -mfma (this file only). */
#define POOL_ISA HC_ISA_AVX2
#define POOL_MAX_ARGMAX hc_pool2d_max_argmax_avx2
#define POOL_MAX_ARGMAX_NAME "max_argmax_avx2"
#define POOL_BACKWARD hc_pool2d_backward_avx2
#define POOL_BACKWARD_NAME "backward_avx2"
#include "pool2d_training.inc.c"
