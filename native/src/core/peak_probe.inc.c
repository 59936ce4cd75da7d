/* FMA throughput probe body, included once per instruction set (peak_avx2.c, peak_avx512.c),
 * which define VEC (the vector type), VEC_LANES and the intrinsics VEC_SET1, VEC_FMADD,
 * VEC_ADD, VEC_STOREU, and PROBE_NAME. 12 independent accumulator chains keep both FMA pipes
 * busy despite the 4-cycle latency. */
float PROBE_NAME(int64_t iterations, float seed) {
    VEC acc[12];
    for (int i = 0; i < 12; i++) acc[i] = VEC_SET1(seed + (float)i);
    const VEC scale = VEC_SET1(0.999999f), shift = VEC_SET1(1e-7f);
    for (int64_t n = 0; n < iterations; n++) {
#pragma GCC unroll 12
        for (int i = 0; i < 12; i++) acc[i] = VEC_FMADD(acc[i], scale, shift);
    }
    VEC sum = acc[0];
    for (int i = 1; i < 12; i++) sum = VEC_ADD(sum, acc[i]);
    float lanes[VEC_LANES];
    VEC_STOREU(lanes, sum);
    return lanes[0];
}
