// Max and average pooling, NCHW. The input is first copied by pad_input (common.cl) into rows
// split by column stride phase, filled with -infinity (max) or 0 (average) outside the image, so
// each tap of VW neighbouring outputs is one vector load. Each work-item computes VW outputs of
// one output row.

// The algorithm codes are the C API's (hc_pool_algorithm), passed by the host: HC_POOL_MAX, ...

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
    if (p.algorithm == HC_POOL_MAX) {
        acc = (floatV)(-INFINITY);
        for (int r = 0; r < p.kernel_h; r++, row += p.row_length)
            FOR_EACH_TAP(p, p.kernel_w, row, column, { acc = max_nan(acc, vloadV(0, column)); })
    } else {
        acc = 0.0f;
        for (int r = 0; r < p.kernel_h; r++, row += p.row_length)
            FOR_EACH_TAP(p, p.kernel_w, row, column, { acc += vloadV(0, column); })
        floatV count;
        if (p.algorithm == HC_POOL_AVERAGE_INCLUDE_PADDING) {
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

// The window of output (oh, ow) clipped to the image: rows [h0, h1), columns [w0, w1).
inline int4 pool_window(struct pool_shape p, int oh, int ow) {
    long top = (long)oh * p.stride_h - p.pad_top, left = (long)ow * p.stride_w - p.pad_left; // long: strides reach 2^31
    return (int4)(max(top, 0L), min(top + p.kernel_h, (long)p.in_height), max(left, 0L), min(left + p.kernel_w, (long)p.in_width));
}

// Output o's plane of the unpadded input, and its window clipped to the image in *w.
inline global const float* output_window(global const float* x, struct pool_shape p, int o, int4* w) {
    int ow = o % p.out_width, rest = o / p.out_width;
    int oh = rest % p.out_height, plane = rest / p.out_height;
    *w = pool_window(p, oh, ow);
    return x + (long)plane * p.in_height * p.in_width;
}

// Max pooling for training, from the unpadded input: each output's maximum and its index within
// the input plane, the first maximum in row-major window order (as every backend; NaN counts as
// larger than any number). One output per work-item.
kernel void pool2d_max_argmax(global const float* restrict x, global float* restrict y, global int* restrict argmax,
                              struct pool_shape p, int items) {
    int o = get_global_id(0);
    if (o >= items) return;
    int4 w;
    global const float* values = output_window(x, p, o, &w);
    int best_index = w.s0 * p.in_width + w.s2;
    float best = values[best_index];
    for (int h = w.s0; h < w.s1; h++)
        for (int c = w.s2; c < w.s3; c++)
            if (values[h * p.in_width + c] > best || (isnan(values[h * p.in_width + c]) && !isnan(best))) { // NaN beats numbers
                best = values[h * p.in_width + c];
                best_index = h * p.in_width + c;
            }
    y[o] = best;
    argmax[o] = best_index;
}

// Backward data: each input element gathers from the windows holding it, in row-major window
// order: dL/dy where the window's argmax is this element (max pooling), or dL/dy / window size
// (averages). One input element per work-item, no atomics.
kernel void pool2d_backward(global const float* restrict dy, global const int* restrict argmax, global float* restrict dx,
                            struct pool_shape p, int items) {
    int i = get_global_id(0);
    if (i >= items) return;
    int c = i % p.in_width, rest = i / p.in_width;
    int h = rest % p.in_height, plane = rest / p.in_height;
    long lowest = (long)h + p.pad_top - p.kernel_h + 1, leftmost = (long)c + p.pad_left - p.kernel_w + 1; // long: paddings reach 2^31
    int oh0 = lowest <= 0 ? 0 : (int)min((lowest + p.stride_h - 1) / p.stride_h, (long)p.out_height);
    int oh1 = (int)min(((long)h + p.pad_top) / p.stride_h, (long)p.out_height - 1);
    int ow0 = leftmost <= 0 ? 0 : (int)min((leftmost + p.stride_w - 1) / p.stride_w, (long)p.out_width);
    int ow1 = (int)min(((long)c + p.pad_left) / p.stride_w, (long)p.out_width - 1);
    int self = h * p.in_width + c;
    float sum = 0.0f;
    for (int oh = oh0; oh <= oh1; oh++)
        for (int ow = ow0; ow <= ow1; ow++) {
            int o = (plane * p.out_height + oh) * p.out_width + ow;
            if (p.algorithm == HC_POOL_MAX) {
                if (argmax[o] == self) sum += dy[o];
            } else {
                int4 w = pool_window(p, oh, ow);
                float count = p.algorithm == HC_POOL_AVERAGE_INCLUDE_PADDING ? (float)(p.kernel_h * p.kernel_w)
                                                                             : (float)((w.s1 - w.s0) * (w.s3 - w.s2));
                sum += dy[o] / count;
            }
        }
    dx[i] = sum;
}

// Forward for strides longer than twice the kernel, where the padded copy would follow the stride
// rather than the image: one output per work-item from the unpadded input, the window clipped to
// the image (max: its maximum, NaN first; averages: the sum over the clipped window divided as
// pool2d_v divides it).
kernel void pool2d_unpadded(global const float* restrict x, global float* restrict y, struct pool_shape p, int items) {
    int o = get_global_id(0);
    if (o >= items) return;
    int4 w;
    global const float* values = output_window(x, p, o, &w);
    float acc = p.algorithm == HC_POOL_MAX ? -INFINITY : 0.0f;
    for (int h = w.s0; h < w.s1; h++)
        for (int c = w.s2; c < w.s3; c++)
            acc = p.algorithm == HC_POOL_MAX ? max_nan(acc, values[h * p.in_width + c]) : acc + values[h * p.in_width + c];
    if (p.algorithm != HC_POOL_MAX)
        acc /= p.algorithm == HC_POOL_AVERAGE_INCLUDE_PADDING ? (float)(p.kernel_h * p.kernel_w) : (float)((w.s1 - w.s0) * (w.s3 - w.s2));
    y[o] = acc;
}
