/* Pooling for training (pool2d_training.inc.c), plain C for any x86-64 CPU. */
#define POOL_ISA HC_ISA_GENERIC
#define POOL_MAX_ARGMAX hc_pool2d_max_argmax_generic
#define POOL_MAX_ARGMAX_NAME "max_argmax_generic"
#define POOL_BACKWARD hc_pool2d_backward_generic
#define POOL_BACKWARD_NAME "backward_generic"
#include "pool2d_training.inc.c"
