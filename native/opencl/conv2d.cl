// Forward convolution, NCHW input and output, weights packed by the host.
//
// The input is first copied (pad_input) into a zero-padded buffer whose rows are split by column
// stride phase: padded column X of a row is stored at (X % stride_w) * phase_width + X / stride_w.
// Then the VW input columns that feed VW neighbouring outputs of one tap are contiguous for any
// stride, every load is one vector load, and the hot loops have no bounds checks. The host skips
// the copy when the input already has that shape (unit stride, no padding, rows long enough;
// 1x1 convolutions run on the flattened plane). Sizes are kernel arguments, not -D options, so
// one program serves every problem: PoCL spends about half a second per program build.

// One padded row per work-item: rows = N*C*padded_height.
kernel void pad_input(global const float* restrict x, global float* restrict padded, int rows,
                      int in_height, int in_width, int padded_height, int stride_w, int phase_width,
                      int pad_top, int pad_left) {
    int row = get_global_id(0);
    if (row >= rows) return;
    int plane = row / padded_height;
    int y = row - plane * padded_height - pad_top;
    int row_length = stride_w * phase_width;
    global float* dst = padded + (long)row * row_length;
    if (y < 0 || y >= in_height) {
        for (int i = 0; i < row_length; i++) dst[i] = 0.0f;
        return;
    }
    global const float* src = x + ((long)plane * in_height + y) * in_width;
    for (int phase = 0; phase < stride_w; phase++, dst += phase_width) {
        for (int i = 0; i < phase_width; i++) {
            int column = i * stride_w + phase - pad_left;
            dst[i] = column >= 0 && column < in_width ? src[column] : 0.0f;
        }
    }
}

struct conv_shape {
    int batch, groups, in_per_group, out_per_group, k_tiles;  // k_tiles: ceil(out_per_group / 8)
    int padded_height, row_length, phase_width;                 // row_length: stride_w * phase_width
    int out_height, out_width, col_tiles;                        // col_tiles: ceil(out_width / VW)
    int kernel_h, kernel_w, stride_h, stride_w, dilation_h;
    int tap_phase_step, tap_offset_step;                         // dilation_w % stride_w, dilation_w / stride_w
    int has_bias, activation;
    float alpha;
};

#define FMA8(xv, wv)                                \
    acc0 = fma(xv, (floatV)((wv).s0), acc0);           \
    acc1 = fma(xv, (floatV)((wv).s1), acc1);           \
    acc2 = fma(xv, (floatV)((wv).s2), acc2);           \
    acc3 = fma(xv, (floatV)((wv).s3), acc3);           \
    acc4 = fma(xv, (floatV)((wv).s4), acc4);           \
    acc5 = fma(xv, (floatV)((wv).s5), acc5);           \
    acc6 = fma(xv, (floatV)((wv).s6), acc6);           \
    acc7 = fma(xv, (floatV)((wv).s7), acc7)

// Visits the kernel_w taps of one kernel row: `column` points at the VW inputs of tap s.
// Unit column stride (built with -D UNIT_STRIDE) has one phase and needs no phase bookkeeping.
#ifdef UNIT_STRIDE
#define FOR_EACH_TAP(p, row, column, body)                                   \
    for (int s_ = 0; s_ < (p).kernel_w; s_++) {                              \
        global const float* column = (row) + s_ * (p).tap_offset_step;       \
        body;                                                                \
    }
#else
#define FOR_EACH_TAP(p, row, column, body)                                   \
    {                                                                        \
        int phase_ = 0;                                                      \
        global const float* base_ = (row);                                   \
        for (int s_ = 0; s_ < (p).kernel_w; s_++) {                          \
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

// Register tile: 8 output channels x VW output columns of one output row per work-item, so each
// input vector feeds 8 FMAs and each weight 8-vector is one load. Weights are packed as
// [groups][k_tiles][in_per_group][kernel_h][kernel_w][8], zero-filled past out_per_group.
// Work-items are numbered with output columns fastest, so neighbours share weights and rows.
kernel void conv2d_direct_8xv(global const float* restrict padded, global const float* restrict weights,
                              global const float* restrict bias, global float* restrict y,
                              struct conv_shape p, int items) {
    int item = get_global_id(0);
    if (item >= items) return;
    int col_tile = item % p.col_tiles;
    int rest = item / p.col_tiles;
    int oh = rest % p.out_height;
    rest /= p.out_height;
    int k_tile = rest % p.k_tiles;
    rest /= p.k_tiles;
    int g = rest % p.groups;
    int n = rest / p.groups;

    int in_channels = p.groups * p.in_per_group;
    long plane = (long)p.padded_height * p.row_length;
    global const float* x = padded + ((long)n * in_channels + (long)g * p.in_per_group) * plane
                          + (long)oh * p.stride_h * p.row_length + col_tile * VW;
    global const float* w = weights + ((long)g * p.k_tiles + k_tile) * p.in_per_group * p.kernel_h * p.kernel_w * 8;
    int row_step = p.dilation_h * p.row_length;

    floatV acc0 = 0.0f, acc1 = 0.0f, acc2 = 0.0f, acc3 = 0.0f, acc4 = 0.0f, acc5 = 0.0f, acc6 = 0.0f, acc7 = 0.0f;
    for (int c = 0; c < p.in_per_group; c++, x += plane) {
        global const float* xr = x;
        for (int r = 0; r < p.kernel_h; r++, xr += row_step) {
            FOR_EACH_TAP(p, xr, column, {
                floatV xv = vloadV(0, column);
                float8 wv = vload8(0, w);
                w += 8;
                FMA8(xv, wv);
            })
        }
    }

    int k0 = k_tile * 8;
    int out_channels = p.groups * p.out_per_group;
    int valid_cols = p.out_width - col_tile * VW;
    global float* out = y + (((long)n * out_channels + (long)g * p.out_per_group + k0) * p.out_height + oh) * p.out_width
                      + col_tile * VW;
    long out_plane = (long)p.out_height * p.out_width;
    floatV accs[8] = {acc0, acc1, acc2, acc3, acc4, acc5, acc6, acc7};
    for (int i = 0; i < 8 && k0 + i < p.out_per_group; i++) {
        floatV v = accs[i];
        if (p.has_bias) v += bias[g * p.out_per_group + k0 + i];
        store_lanes(activate(v, p.activation, p.alpha), out + i * out_plane, valid_cols);
    }
}

// Depthwise and other one-input-channel-per-group convolutions: VW output columns of one output
// row of one channel per work-item; an 8-channel tile would waste most of its lanes.
kernel void conv2d_depthwise_v(global const float* restrict padded, global const float* restrict weights,
                               global const float* restrict bias, global float* restrict y,
                               struct conv_shape p, int items) {
    int item = get_global_id(0);
    if (item >= items) return;
    int col_tile = item % p.col_tiles;
    int rest = item / p.col_tiles;
    int oh = rest % p.out_height;
    rest /= p.out_height;
    int out_channels = p.groups * p.out_per_group;
    int k = rest % out_channels;
    int n = rest / out_channels;
    int g = k / p.out_per_group;

    long plane = (long)p.padded_height * p.row_length;
    global const float* x = padded + ((long)n * p.groups + g) * plane
                          + (long)oh * p.stride_h * p.row_length + col_tile * VW;
    global const float* w = weights + (long)k * p.kernel_h * p.kernel_w;
    floatV acc = 0.0f;
    for (int r = 0; r < p.kernel_h; r++, x += p.dilation_h * p.row_length) {
        FOR_EACH_TAP(p, x, column, {
            acc = fma(vloadV(0, column), (floatV)(*w), acc);
            w++;
        })
    }
    if (p.has_bias) acc += bias[k];
    global float* out = y + (((long)n * out_channels + k) * p.out_height + oh) * p.out_width + col_tile * VW;
    store_lanes(activate(acc, p.activation, p.alpha), out, p.out_width - col_tile * VW);
}
