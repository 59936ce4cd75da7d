// Max and average pooling, NCHW. The input is first copied by pad_input (common.cl) into rows
// split by column stride phase, filled with -infinity (max) or 0 (average) outside the image, so
// each tap of VW neighbouring outputs is one vector load. Each work-item computes VW outputs of
// one output row.

#define POOL_MAX 0
#define POOL_AVG_INCLUDE_PADDING 1
#define POOL_AVG_EXCLUDE_PADDING 2

struct pool_shape {
    int in_height, in_width, out_height, out_width, col_tiles;
    int kernel_h, kernel_w, stride_h, stride_w, pad_top, pad_left, algorithm;
    int padded_height, row_length, phase_width;      // of the padded copy, as in conv2d.cl
    int tap_phase_step, tap_offset_step;             // 1 % stride_w, 1 / stride_w
};

kernel void pool2d_v(global const float* restrict padded, global float* restrict y, struct pool_shape p, int items) {
    int item = get_global_id(0);
    if (item >= items) return;
    int col_tile = item % p.col_tiles;
    int rest = item / p.col_tiles;
    int oh = rest % p.out_height;
    int plane = rest / p.out_height;

    global const float* row = padded + ((long)plane * p.padded_height + (long)oh * p.stride_h) * p.row_length + col_tile * VW;
    floatV acc;
    if (p.algorithm == POOL_MAX) {
        acc = (floatV)(-INFINITY);
        for (int r = 0; r < p.kernel_h; r++, row += p.row_length)
            FOR_EACH_TAP(p, p.kernel_w, row, column, { acc = fmax(acc, vloadV(0, column)); })
    } else {
        acc = 0.0f;
        for (int r = 0; r < p.kernel_h; r++, row += p.row_length)
            FOR_EACH_TAP(p, p.kernel_w, row, column, { acc += vloadV(0, column); })
        floatV count;
        if (p.algorithm == POOL_AVG_INCLUDE_PADDING) {
            count = (floatV)(p.kernel_h * p.kernel_w);
        } else {
            int top = oh * p.stride_h - p.pad_top;
            int rows_inside = min(top + p.kernel_h, p.in_height) - max(top, 0);
            intV lane = (intV)(0, 1, 2, 3
#if VW > 4
                               , 4, 5, 6, 7
#endif
#if VW > 8
                               , 8, 9, 10, 11, 12, 13, 14, 15
#endif
            );
            intV left = (col_tile * VW + lane) * p.stride_w - p.pad_left;
            intV columns_inside = min(left + p.kernel_w, p.in_width) - max(left, 0);
            count = convertV(rows_inside * columns_inside);
        }
        acc = acc / count;  // built with -cl-fp32-correctly-rounded-divide-sqrt where the device has it
    }
    global float* out = y + ((long)plane * p.out_height + oh) * p.out_width + col_tile * VW;
    store_lanes(acc, out, p.out_width - col_tile * VW);
}
