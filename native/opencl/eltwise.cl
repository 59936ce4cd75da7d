// Elementwise activations (common.cl), forward and backward. Each work-item handles VW consecutive
// elements with vector loads; the last one handles the remainder lane by lane. May run in place
// (forward x == y, backward dy == dx).

// Loads the VW elements at `first`, zero past `length`.
inline floatV load_v(global const float* p, long first, long length) {
    if (first + VW <= length) return vloadV(0, p + first);
    float lanes[VW];
    for (int i = 0; i < VW; i++) lanes[i] = first + i < length ? p[first + i] : 0.0f;
    return vloadV(0, lanes);
}

inline void store_v(floatV v, global float* p, long first, long length) {
    if (first + VW <= length) {
        vstoreV(v, 0, p + first);
        return;
    }
    float lanes[VW];
    vstoreV(v, 0, lanes);
    for (int i = 0; i < VW && first + i < length; i++) p[first + i] = lanes[i];
}

kernel void eltwise_v(global const float* x, global float* y, long length, int activation, float alpha) {
    long first = (long)get_global_id(0) * VW;
    if (first >= length) return;
    store_v(activate(load_v(x, first, length), activation, alpha), y, first, length);
}

kernel void eltwise_backward_v(global const float* y, global const float* dy, global float* dx, long length, int activation, float alpha) {
    long first = (long)get_global_id(0) * VW;
    if (first >= length) return;
    store_v(activate_backward(load_v(y, first, length), load_v(dy, first, length), activation, alpha), dx, first, length);
}
