// Elementwise activations. Each work-item handles VW consecutive elements with vector loads; the
// last one handles the remainder lane by lane. May run in place (x == y).

#define ELTWISE_RELU 0
#define ELTWISE_LEAKY_RELU 1
#define ELTWISE_TANH 2
#define ELTWISE_SIGMOID 3

inline floatV eltwise_apply(floatV v, int op, float alpha) {
    switch (op) {
    case ELTWISE_RELU: return select((floatV)0.0f, v, v > 0.0f);
    case ELTWISE_LEAKY_RELU: return select(alpha * v, v, v > 0.0f);
    // Beyond |x| = 9, tanh(x) rounds to ±1 in float; some drivers' tanh (PoCL's) stops one ulp short.
    case ELTWISE_TANH: return select(tanh(v), copysign((floatV)1.0f, v), fabs(v) > 9.0f);
    default: return 1.0f / (1.0f + exp(-v));
    }
}

kernel void eltwise_v(global const float* x, global float* y, long length, int op, float alpha) {
    long first = (long)get_global_id(0) * VW;
    if (first >= length) return;
    if (first + VW <= length) {
        vstoreV(eltwise_apply(vloadV(0, x + first), op, alpha), 0, y + first);
        return;
    }
    float lanes[VW];
    for (int i = 0; i < VW; i++) lanes[i] = first + i < length ? x[first + i] : 0.0f;
    floatV v = eltwise_apply(vloadV(0, lanes), op, alpha);
    vstoreV(v, 0, lanes);
    for (int i = 0; i < VW && first + i < length; i++) y[first + i] = lanes[i];
}
