// Shared by every HpcCnn OpenCL program: the vector width each work-item computes, chosen by the
// host per device with -D VW=4|8|16, and the activations.
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

// The activations, forward and backward, for scalars, float4 and floatV: the formulas of
// native/src/core/activation.h. The host passes the codes (-D HC_ACTIVATION_RELU=1 ...) from the
// C API's hc_activation, so kernels and library share one numbering.
// Beyond |x| = 9, tanh(x) rounds to +-1 in float; some drivers' tanh (PoCL's) stops one ulp short.
#define DEFINE_ACTIVATION(T, suffix)                                                          \
    inline T activate##suffix(T v, int activation, float alpha) {                            \
        if (activation == HC_ACTIVATION_RELU) return select(v, (T)0.0f, v <= 0.0f); /* NaN kept */ \
        if (activation == HC_ACTIVATION_LEAKY_RELU) return select(alpha * v, v, v > 0.0f);    \
        if (activation == HC_ACTIVATION_TANH) return select(tanh(v), copysign((T)1.0f, v), fabs(v) > 9.0f); \
        if (activation == HC_ACTIVATION_SIGMOID) return 1.0f / (1.0f + exp(-v));              \
        return v;                                                                             \
    }                                                                                         \
    inline T activate_backward##suffix(T y, T dy, int activation, float alpha) {              \
        if (activation == HC_ACTIVATION_RELU) return select(dy, (T)0.0f, y <= 0.0f);           \
        if (activation == HC_ACTIVATION_LEAKY_RELU) return select(alpha * dy, dy, y > 0.0f);  \
        if (activation == HC_ACTIVATION_TANH) return dy * (1.0f - y * y);                     \
        if (activation == HC_ACTIVATION_SIGMOID) return dy * (y * (1.0f - y));                \
        return dy;                                                                            \
    }

// max(a, b) that is NaN when either is (hpccnn.h's rule; fmax drops a NaN), for floats and vectors.
#define max_nan(a, b) select(fmax(a, b), (a) + (b), isunordered(a, b))

DEFINE_ACTIVATION(float, 1)
DEFINE_ACTIVATION(float4, 4)
#if VW != 4
DEFINE_ACTIVATION(floatV, )
#else
#define activate activate4
#define activate_backward activate_backward4
#endif

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

// Copies NCHW planes into padded rows split by column stride phase: padded column X of a row is
// stored at (X % stride_w) * phase_width + X / stride_w, and everything outside the input is
// `fill` (0 for convolution and average pooling, -infinity for max pooling). Then the VW inputs
// that VW neighbouring outputs read for one tap are contiguous for any stride: one vector load,
// no bounds checks. One padded row per work-item: rows = N*C*padded_height.
kernel void pad_input(global const float* restrict x, global float* restrict padded, int rows,
                      int in_height, int in_width, int padded_height, int stride_w, int phase_width,
                      int pad_top, int pad_left, float fill) {
    int row = get_global_id(0);
    if (row >= rows) return;
    int plane = row / padded_height;
    int y = row - plane * padded_height - pad_top;
    int row_length = stride_w * phase_width;
    global float* dst = padded + (long)row * row_length;
    if (y < 0 || y >= in_height) {
        for (int i = 0; i < row_length; i++) dst[i] = fill;
        return;
    }
    global const float* src = x + ((long)plane * in_height + y) * in_width;
    for (int phase = 0; phase < stride_w; phase++, dst += phase_width) {
        for (int i = 0; i < phase_width; i++) {
            int column = i * stride_w + phase - pad_left;
            dst[i] = column >= 0 && column < in_width ? src[column] : fill;
        }
    }
}

// Visits the kernel_w taps of one kernel row: `column` points at the VW inputs of tap s.
// Unit column stride (built with -D UNIT_STRIDE) has one phase and needs no phase bookkeeping.
#ifdef UNIT_STRIDE
#define FOR_EACH_TAP(p, taps, row, column, body)                             \
    for (int s_ = 0; s_ < (taps); s_++) {                                    \
        global const float* column = (row) + s_ * (p).tap_offset_step;       \
        body;                                                                \
    }
#else
#define FOR_EACH_TAP(p, taps, row, column, body)                             \
    {                                                                        \
        int phase_ = 0;                                                      \
        global const float* base_ = (row);                                   \
        for (int s_ = 0; s_ < (taps); s_++) {                                \
            global const float* column = base_ + phase_ * (p).phase_width;   \
            body;                                                            \
            base_ += (p).tap_offset_step;                                    \
            phase_ += (p).tap_phase_step;                                    \
            if (phase_ >= (p).stride_w) {                                    \
                phase_ -= (p).stride_w;                                      \
                base_ += 1;                                                  \
            }                                                                \
        }                                                                    \
    }
#endif

// pad_input with one padded element per work-item (items = N*C*padded_height*row_length), for
// GPUs: neighbouring work-items write neighbouring floats.
kernel void pad_input_elements(global const float* restrict x, global float* restrict padded, int items,
                               int in_height, int in_width, int padded_height, int stride_w, int phase_width,
                               int pad_top, int pad_left, float fill) {
    int index = get_global_id(0);
    if (index >= items) return;
    int row_length = stride_w * phase_width;
    int row = index / row_length, position = index - row * row_length;
    int plane = row / padded_height;
    int y = row - plane * padded_height - pad_top;
    int phase = position / phase_width;
    int column = (position - phase * phase_width) * stride_w + phase - pad_left;
    bool inside = y >= 0 && y < in_height && column >= 0 && column < in_width;
    padded[index] = inside ? x[((long)plane * in_height + y) * in_width + column] : fill;
}
