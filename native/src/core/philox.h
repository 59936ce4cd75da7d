/* Philox4x32-10 (Salmon, Moraes, Dror, Shaw: "Parallel random numbers: as easy as 1, 2, 3",
 * SC 2011): a counter-based generator, four 32-bit words from a 128-bit counter and a 64-bit key
 * with no state in between, so any element's random number is computed where it is needed, in
 * any order, on any backend. native/opencl/training.cl and the C# oracle hold the same rounds. */
#ifndef HPCCNN_CORE_PHILOX_H
#define HPCCNN_CORE_PHILOX_H

#include <stdint.h>

static inline void hc_philox4x32_10(const uint32_t counter[4], const uint32_t key[2], uint32_t out[4]) {
    uint32_t c0 = counter[0], c1 = counter[1], c2 = counter[2], c3 = counter[3];
    uint32_t k0 = key[0], k1 = key[1];
    for (int round = 0; round < 10; round++) {
        const uint64_t p0 = (uint64_t)UINT32_C(0xD2511F53) * c0, p1 = (uint64_t)UINT32_C(0xCD9E8D57) * c2;
        const uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0, n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
        c1 = (uint32_t)p1;
        c3 = (uint32_t)p0;
        c0 = n0;
        c2 = n2;
        k0 += UINT32_C(0x9E3779B9);
        k1 += UINT32_C(0xBB67AE85);
    }
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
}

/* The dropout draws of elements 4*block .. 4*block+3 at `step` (hpccnn.h): uniform numbers in
 * [0, 1) with 24 bits each. */
static inline void hc_dropout_uniforms(uint64_t seed, int64_t step, int64_t block, float out[4]) {
    const uint32_t counter[4] = {(uint32_t)block, (uint32_t)((uint64_t)block >> 32), (uint32_t)step, (uint32_t)((uint64_t)step >> 32)};
    const uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    uint32_t words[4];
    hc_philox4x32_10(counter, key, words);
    for (int i = 0; i < 4; i++) out[i] = (float)(words[i] >> 8) * (1.0f / 16777216.0f);
}

#endif
