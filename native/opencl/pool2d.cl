// Max and average pooling, NCHW. Each work-item computes VW neighbouring outputs of one output
// row; window taps outside the image are masked, not read (padding is at most half the kernel,
// so every window overlaps the image).

#define POOL_MAX 0
#define POOL_AVG_INCLUDE_PADDING 1
#define POOL_AVG_EXCLUDE_PADDING 2

struct pool_shape {
    int in_height, in_width, out_height, out_width, col_tiles;
    int kernel_h, kernel_w, stride_h, stride_w, pad_top, pad_left, algorithm;
};

kernel void pool2d_v(global const float* restrict x, global float* restrict y, struct pool_shape p, int items) {
    int item = get_global_id(0);
    if (item >= items) return;
    int col_tile = item % p.col_tiles;
    int rest = item / p.col_tiles;
    int oh = rest % p.out_height;
    int plane = rest / p.out_height;

    int top = oh * p.stride_h - p.pad_top;
    int h0 = max(top, 0), h1 = min(top + p.kernel_h, p.in_height);
    // Left edge of each lane's window.
    intV lane = (intV)(0, 1, 2, 3
#if VW > 4
                       , 4, 5, 6, 7
#endif
#if VW > 8
                       , 8, 9, 10, 11, 12, 13, 14, 15
#endif
    );
    intV left = (col_tile * VW + lane) * p.stride_w - p.pad_left;
    global const float* src = x + (long)plane * p.in_height * p.in_width;

    bool is_max = p.algorithm == POOL_MAX;
    floatV acc = is_max ? (floatV)(-INFINITY) : (floatV)0.0f;
    for (int h = h0; h < h1; h++) {
        global const float* row = src + (long)h * p.in_width;
        for (int s = 0; s < p.kernel_w; s++) {
            intV col = left + s;
            intV inside = col >= 0 && col < p.in_width;
            intV safe_col = clamp(col, 0, p.in_width - 1);
            int cols[VW];
            float lanes[VW];
            HC_XCAT(vstore, VW)(safe_col, 0, cols);
            for (int i = 0; i < VW; i++) lanes[i] = row[cols[i]];
            floatV v = vloadV(0, lanes);
            acc = is_max ? select(acc, fmax(acc, v), inside) : acc + select((floatV)0.0f, v, inside);
        }
    }
    if (!is_max) {
        floatV count;
        if (p.algorithm == POOL_AVG_INCLUDE_PADDING) {
            count = (floatV)(p.kernel_h * p.kernel_w);
        } else {
            intV w0 = max(left, 0), w1 = min(left + p.kernel_w, p.in_width);
            count = convertV((h1 - h0) * (w1 - w0));
        }
        acc = acc / count;  // built with -cl-fp32-correctly-rounded-divide-sqrt where the device has it
    }
    global float* out = y + ((long)plane * p.out_height + oh) * p.out_width + col_tile * VW;
    store_lanes(acc, out, p.out_width - col_tile * VW);
}
