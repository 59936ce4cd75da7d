// The dense layer, one output element per work-item in every direction:
//   forward          y[b][o]  = act(bias[o] + sum over i of x[b][i] * w[o][i])
//   backward data    dx[b][i] = sum over o of dz[b][o] * w[o][i]
//   backward weights dw[o][i] = sum over b of dz[b][o] * x[b][i];  db[o] = sum over b of dz[b][o]
// each sum in index order. Weights are out x in, except that forward plans for GPUs keep them
// transposed (in x out, written by transpose_weights) for dense_forward_t: neighbouring
// work-items then read neighbouring weights, as in the backward kernels (on a GPU the plain
// layout reads with a stride of in_features; on a CPU device, where a work-item streams its own
// row, the plain layout is the faster one).

struct dense_shape {
    int batch, in_features, out_features, has_bias, activation;
    float alpha;
};

// y[b][o] = act(bias[o] + sum over i of x[b][i] * (the weight of o and i at WEIGHT)), i in order.
#define DENSE_FORWARD(name, WEIGHT)                                                                             \
    kernel void name(global const float* restrict x, global const float* restrict w, global const float* restrict bias, \
                     global float* restrict y, struct dense_shape p) {                                         \
        int item = get_global_id(0);                                                                            \
        if (item >= p.batch * p.out_features) return;                                                           \
        int b = item / p.out_features, o = item % p.out_features;                                               \
        global const float* row = x + (long)b * p.in_features;                                                  \
        float sum = p.has_bias ? bias[o] : 0.0f;                                                                \
        for (int i = 0; i < p.in_features; i++) sum += row[i] * (WEIGHT);                                       \
        y[item] = activate1(sum, p.activation, p.alpha);                                                        \
    }

DENSE_FORWARD(dense_forward, w[(long)o * p.in_features + i])
DENSE_FORWARD(dense_forward_t, w[(long)i * p.out_features + o])

// w_t[i][o] = w[o][i], one element per work-item.
kernel void transpose_weights(global const float* restrict w, global float* restrict w_t, struct dense_shape p) {
    int item = get_global_id(0);
    if (item >= p.out_features * p.in_features) return;
    int i = item / p.out_features, o = item % p.out_features;
    w_t[item] = w[(long)o * p.in_features + i];
}

kernel void dense_backward_data(global const float* restrict dz, global const float* restrict w, global float* restrict dx,
                                struct dense_shape p) {
    int item = get_global_id(0);
    if (item >= p.batch * p.in_features) return;
    int b = item / p.in_features, i = item % p.in_features;
    float sum = 0.0f;
    for (int o = 0; o < p.out_features; o++) sum += dz[(long)b * p.out_features + o] * w[(long)o * p.in_features + i];
    dx[item] = sum;
}

kernel void dense_backward_weights(global const float* restrict x, global const float* restrict dz, global float* restrict dw,
                                   struct dense_shape p) {
    int item = get_global_id(0);
    if (item >= p.out_features * p.in_features) return;
    int o = item / p.in_features, i = item % p.in_features;
    float sum = 0.0f;
    for (int b = 0; b < p.batch; b++) sum += dz[(long)b * p.out_features + o] * x[(long)b * p.in_features + i];
    dw[item] = sum;
}

kernel void dense_backward_bias(global const float* restrict dz, global float* restrict db, struct dense_shape p) {
    int o = get_global_id(0);
    if (o >= p.out_features) return;
    float sum = 0.0f;
    for (int b = 0; b < p.batch; b++) sum += dz[(long)b * p.out_features + o];
    db[o] = sum;
}
