// Dropout and the optimizers (hpccnn.h): one element (dropout: one Philox block of four) per
// work-item, in float, in the documented order, never contracting a multiply and an add into one
// instruction, so the results are the oracle's bits.
#pragma OPENCL FP_CONTRACT OFF

// Philox4x32-10 (core/philox.h): ten rounds, the key bumped after each.
inline uint4 philox4x32_10(uint4 c, uint2 k) {
    for (int round = 0; round < 10; round++) {
        const uint hi0 = mul_hi(0xD2511F53u, c.x), lo0 = 0xD2511F53u * c.x;
        const uint hi1 = mul_hi(0xCD9E8D57u, c.z), lo1 = 0xCD9E8D57u * c.z;
        c = (uint4)(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
        k += (uint2)(0x9E3779B9u, 0xBB67AE85u);
    }
    return c;
}

// y = kept ? x * scale : 0 for elements 4*block .. 4*block+3; y may be x.
kernel void dropout(global const float* x, global float* y, long length, float rate, float scale, ulong seed, ulong step) {
    const ulong block = get_global_id(0);
    const long first = (long)block * 4;
    if (first >= length) return;
    const uint4 r = philox4x32_10((uint4)((uint)block, (uint)(block >> 32), (uint)step, (uint)(step >> 32)), (uint2)((uint)seed, (uint)(seed >> 32)));
    const uint words[4] = {r.x, r.y, r.z, r.w};
    for (int lane = 0; lane < 4 && first + lane < length; lane++) {
        const float u = (float)(words[lane] >> 8) * (1.0f / 16777216.0f);
        y[first + lane] = u >= rate ? x[first + lane] * scale : 0.0f;
    }
}

kernel void sgd(global float* w, global const float* gradient, long length, float learning_rate, float decay) {
    const long i = get_global_id(0);
    if (i >= length) return;
    const float g = gradient[i] + decay * w[i];
    w[i] = w[i] - learning_rate * g;
}

kernel void sgd_momentum(global float* w, global const float* gradient, global float* v, long length, float learning_rate, float momentum,
                         float decay, int nesterov) {
    const long i = get_global_id(0);
    if (i >= length) return;
    const float g = gradient[i] + decay * w[i];
    const float velocity = momentum * v[i] + g;
    v[i] = velocity;
    const float update = nesterov ? g + momentum * velocity : velocity;
    w[i] = w[i] - learning_rate * update;
}

kernel void adam(global float* w, global const float* gradient, global float* m, global float* v, long length, float beta1,
                 float one_minus_beta1, float beta2, float one_minus_beta2, float epsilon, float decay, float step_size, float root_correction2) {
    const long i = get_global_id(0);
    if (i >= length) return;
    const float g = gradient[i] + decay * w[i];
    const float first = beta1 * m[i] + one_minus_beta1 * g;
    const float second = beta2 * v[i] + one_minus_beta2 * g * g;
    m[i] = first;
    v[i] = second;
    const float denominator = sqrt(second) / root_correction2 + epsilon;
    w[i] = w[i] - step_size * (first / denominator);
}

// packed[i] = plain[map[i]], or 0 where map[i] < 0 (padding): a plan's weight layout made on the
// device from weights an optimizer has just updated there.
kernel void gather_weights(global const float* plain, global const int* map, global float* packed, int length) {
    const int i = get_global_id(0);
    if (i >= length) return;
    const int from = map[i];
    packed[i] = from >= 0 ? plain[from] : 0.0f;
}
