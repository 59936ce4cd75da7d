// Shared by every HpcCnn OpenCL program: the vector width each work-item computes, chosen by the
// host per device with -D VW=4|8|16, and the fused activation codes of hc_activation.
#ifndef VW
#define VW 8
#endif

#define HC_CAT(a, b) a##b
#define HC_XCAT(a, b) HC_CAT(a, b)
#define floatV HC_XCAT(float, VW)
#define intV HC_XCAT(int, VW)
#define vloadV HC_XCAT(vload, VW)
#define vstoreV HC_XCAT(vstore, VW)
#define convertV HC_XCAT(convert_float, VW)

#define ACTIVATION_NONE 0
#define ACTIVATION_RELU 1
#define ACTIVATION_LEAKY_RELU 2

// Same definition as the C kernels and the oracle: LeakyReLU keeps positives, scales the rest.
inline floatV activate(floatV v, int activation, float alpha) {
    if (activation == ACTIVATION_RELU) return select((floatV)0.0f, v, v > 0.0f);
    if (activation == ACTIVATION_LEAKY_RELU) return select(alpha * v, v, v > 0.0f);
    return v;
}

inline float4 activate4(float4 v, int activation, float alpha) {
    if (activation == ACTIVATION_RELU) return select((float4)0.0f, v, v > 0.0f);
    if (activation == ACTIVATION_LEAKY_RELU) return select(alpha * v, v, v > 0.0f);
    return v;
}

// Stores the first `valid` lanes of v at p: a full vector store for whole tiles, lane by lane
// for the tile that overhangs the end of a row.
inline void store_lanes(floatV v, global float* p, int valid) {
    if (valid >= VW) {
        vstoreV(v, 0, p);
        return;
    }
    float lanes[VW];
    vstoreV(v, 0, lanes);
    for (int i = 0; i < valid; i++) p[i] = lanes[i];
}
