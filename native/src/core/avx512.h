/* Small AVX-512F helpers shared by the kernels compiled with -mavx512f. Include only from those
 * files: everything here is inline and uses AVX-512 instructions. */
#ifndef HPCCNN_CORE_AVX512_H
#define HPCCNN_CORE_AVX512_H

#include <immintrin.h>

#include "internal.h"

/* The mask of the first `count` lanes (all 16 for count >= 16, none for count <= 0). */
static inline __mmask16 hc_first_lanes16(int64_t count) {
    return (__mmask16)(count >= 16 ? 0xFFFF : count <= 0 ? 0 : (1u << count) - 1u);
}

#endif
