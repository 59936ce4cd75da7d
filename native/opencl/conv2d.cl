// Forward convolution, NCHW input and output, weights packed by the host.
//
// The input is first copied (pad_input) into a zero-padded buffer whose rows are split by column
// stride phase: padded column X of a row is stored at (X % stride_w) * phase_width + X / stride_w.
// Then the VW input columns that feed VW neighbouring outputs of one tap are contiguous for any
// stride, every load is one vector load, and the hot loops have no bounds checks. The host skips
// the copy when the input already has that shape (unit stride, no padding, rows long enough;
// 1x1 convolutions run on the flattened plane). Sizes are kernel arguments, not -D options, so
// one program serves every problem: PoCL spends about half a second per program build.

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
            FOR_EACH_TAP(p, p.kernel_w, xr, column, {
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
        FOR_EACH_TAP(p, p.kernel_w, x, column, {
            acc = fma(vloadV(0, column), (floatV)(*w), acc);
            w++;
        })
    }
    if (p.has_bias) acc += bias[k];
    global float* out = y + (((long)n * out_channels + k) * p.out_height + oh) * p.out_width + col_tile * VW;
    store_lanes(activate(acc, p.activation, p.alpha), out, p.out_width - col_tile * VW);
}

// Implicit GEMM with local-memory tiles, for GPUs: Y[k, pixel] = sum over (c, r, s) of
// W[k, crs] * X[crs, pixel], one 64x64 tile of (output channels x output pixels of one image) per
// work-group of 256 work-items, each accumulating 4x4 in registers. Per 16-deep step the group
// stages a 16x64 slice of the weights (packed [groups][crs][k padded to 64], so neighbouring
// work-items load neighbouring addresses) and a 16x64 slice of the input gathered from the
// padded, phase-split copy (neighbouring pixels are neighbouring addresses there too) in local
// memory; every staged value is then read by 16 work-items. tap_offsets[crs] holds the offset of
// tap (c, r, s) within one image of the padded input.
#define GEMM_TM 64
#define GEMM_TN 64
#define GEMM_TK 16
#define GEMM_GROUP 256

kernel __attribute__((reqd_work_group_size(GEMM_GROUP, 1, 1)))
void conv2d_gemm_local(global const float* restrict padded, global const float* restrict weights,
                       global const float* restrict bias, global float* restrict y,
                       struct conv_shape p, global const int* restrict tap_offsets, int crs,
                       int m_tiles, int n_tiles) {
    local float a_tile[GEMM_TK][GEMM_TM];
    local float b_tile[GEMM_TK][GEMM_TN];
    int lid = get_local_id(0);
    int group = get_group_id(0);
    int n_tile = group % n_tiles;
    int rest = group / n_tiles;
    int m_tile = rest % m_tiles;
    rest /= m_tiles;
    int g = rest % p.groups;
    int n = rest / p.groups;

    int pixels = p.out_height * p.out_width;
    int in_channels = p.groups * p.in_per_group;
    long plane = (long)p.padded_height * p.row_length;
    global const float* image = padded + ((long)n * in_channels + (long)g * p.in_per_group) * plane;
    int k_padded = m_tiles * GEMM_TM;
    global const float* w = weights + (long)g * crs * k_padded + m_tile * GEMM_TM;

    // Each work-item stages the same column of both slices at every step: column `lane`, rows
    // lid / 64 + 4i. Its pixel's offset in the padded image is fixed for the whole loop.
    int lane = lid % GEMM_TN, row0 = lid / GEMM_TN;
    int pixel = min(n_tile * GEMM_TN + lane, pixels - 1);
    int oh = pixel / p.out_width, ow = pixel - oh * p.out_width;
    long pixel_offset = (long)oh * p.stride_h * p.row_length + ow;

    int tx = lid % 16, ty = lid / 16;  // this work-item's 4 pixels (tx) and 4 channels (ty)
    float4 acc0 = 0.0f, acc1 = 0.0f, acc2 = 0.0f, acc3 = 0.0f;
    for (int k0 = 0; k0 < crs; k0 += GEMM_TK) {
        for (int i = 0; i < GEMM_TK; i += GEMM_GROUP / GEMM_TN) {
            int k = k0 + row0 + i;
            bool inside = k < crs;
            a_tile[row0 + i][lane] = inside ? w[(long)k * k_padded + lane] : 0.0f;
            b_tile[row0 + i][lane] = inside ? image[tap_offsets[k] + pixel_offset] : 0.0f;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int kk = 0; kk < GEMM_TK; kk++) {
            float4 a = vload4(ty, a_tile[kk]);
            float4 b = vload4(tx, b_tile[kk]);
            acc0 = fma((float4)(a.s0), b, acc0);
            acc1 = fma((float4)(a.s1), b, acc1);
            acc2 = fma((float4)(a.s2), b, acc2);
            acc3 = fma((float4)(a.s3), b, acc3);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    int out_channels = p.groups * p.out_per_group;
    int first_pixel = n_tile * GEMM_TN + tx * 4;
    float4 accs[4] = {acc0, acc1, acc2, acc3};
    for (int i = 0; i < 4; i++) {
        int k = m_tile * GEMM_TM + ty * 4 + i;
        if (k >= p.out_per_group) break;
        int channel = g * p.out_per_group + k;
        float4 v = accs[i];
        if (p.has_bias) v += bias[channel];
        v = activate4(v, p.activation, p.alpha);
        global float* out = y + ((long)n * out_channels + channel) * pixels;
        float lanes[4];
        vstore4(v, 0, lanes);
        for (int j = 0; j < 4 && first_pixel + j < pixels; j++) out[first_pixel + j] = lanes[j];
    }
}

// ---- backward ----
// The shape of the backward kernels: the forward problem's sizes (no padded copy is involved).
struct conv_backward_shape {
    int batch, in_channels, in_height, in_width, out_channels, out_height, out_width, groups;
    int kernel_h, kernel_w, stride_h, stride_w, pad_top, pad_left, dilation_h, dilation_w;
};

// Offsets of the backward-data gather: 32-bit unless the host builds with -D WIDE_INDEX (paddings
// or dilations near 2^31), since a 64-bit division costs a GPU several times a 32-bit one.
#ifdef WIDE_INDEX
typedef long index_t;
#else
typedef int index_t;
#endif

// Backward data, any shape: one input element per work-item gathers, over the group's output
// channels k and the taps (r, s) that reach it from a whole output position,
// dL/dz[n][k][oh][ow] * w[k][c][r][s], in (k, r, s) order. With only_nan set it runs after
// backward data as a forward convolution and computes again just the elements that came out NaN:
// that convolution also multiplies its zero padding, which beside a NaN or infinite weight makes
// a NaN the definition does not have (hpccnn.h); a NaN that belongs there comes out NaN again.
kernel void conv2d_backward_data(global const float* restrict dz, global const float* restrict w, global float* dx,
                                 struct conv_backward_shape p, int items, int only_nan) {
    int i = get_global_id(0);
    if (i >= items || (only_nan && !isnan(dx[i]))) return;
    int j = i % p.in_width, rest = i / p.in_width;
    int row = rest % p.in_height;
    rest /= p.in_height;
    int c = rest % p.in_channels, n = rest / p.in_channels;
    int c_per_group = p.in_channels / p.groups, k_per_group = p.out_channels / p.groups;
    int g = c / c_per_group, cg = c % c_per_group, taps = p.kernel_h * p.kernel_w;
    float sum = 0.0f;
    for (int k = g * k_per_group; k < (g + 1) * k_per_group; k++) {
        global const float* grad = dz + ((long)n * p.out_channels + k) * p.out_height * p.out_width;
        global const float* weights = w + ((long)k * c_per_group + cg) * taps;
        for (int r = 0; r < p.kernel_h; r++) {
            index_t y = (index_t)row + p.pad_top - (index_t)r * p.dilation_h;
            if (y < 0 || y % p.stride_h != 0 || y / p.stride_h >= p.out_height) continue;
            for (int s = 0; s < p.kernel_w; s++) {
                index_t x = (index_t)j + p.pad_left - (index_t)s * p.dilation_w;
                if (x < 0 || x % p.stride_w != 0 || x / p.stride_w >= p.out_width) continue;
                sum += grad[(int)(y / p.stride_h) * p.out_width + (int)(x / p.stride_w)] * weights[r * p.kernel_w + s];
            }
        }
    }
    dx[i] = sum;
}

// Weights gradient, in chunks of images so that small layers still fill a device: work-item
// (chunk, i) sums weight i's products over images [chunk·per, chunk·per + per) and pixels, in
// order, into partial[chunk][i]; conv2d_sum_chunks then adds the chunks in order. The chunking
// depends on the problem alone, so every device sums in the same order.
kernel void conv2d_backward_weights(global const float* restrict x, global const float* restrict dz, global float* restrict partial,
                                    struct conv_backward_shape p, int items, int per_chunk) {
    const int gid = get_global_id(0);
    const int chunks = (p.batch + per_chunk - 1) / per_chunk;
    if (gid >= items * chunks) return;
    const int chunk = gid / items, i = gid % items;
    int c_per_group = p.in_channels / p.groups, k_per_group = p.out_channels / p.groups;
    int s = i % p.kernel_w, rest = i / p.kernel_w;
    int r = rest % p.kernel_h;
    rest /= p.kernel_h;
    int c = rest % c_per_group, k = rest / c_per_group;
    int channel = k / k_per_group * c_per_group + c;
    // Output columns [first, last) read the image at iw = ow*stride_w + shift; the others, and rows
    // outside the image, read padding: their dL/dz times 0 goes to `padding`, which stays +0 unless
    // one of them is infinite or NaN (then the gradient is NaN, as hpccnn.h says padding gives).
    const long shift = (long)s * p.dilation_w - p.pad_left; // long: paddings and dilations reach 2^31
    const int first = shift >= 0 ? 0 : (int)min((long)p.out_width, (-shift + p.stride_w - 1) / p.stride_w);
    const int last = max(first, p.in_width - 1 - shift < 0 ? 0 : (int)min((long)p.out_width, (p.in_width - 1 - shift) / p.stride_w + 1));
    float sum = 0.0f, padding = 0.0f;
    const int last_image = min(p.batch, (chunk + 1) * per_chunk);
    for (int n = chunk * per_chunk; n < last_image; n++) {
        global const float* grad = dz + ((long)n * p.out_channels + k) * p.out_height * p.out_width;
        global const float* image = x + ((long)n * p.in_channels + channel) * p.in_height * p.in_width;
        for (int oh = 0; oh < p.out_height; oh++, grad += p.out_width) {
            long ih = (long)oh * p.stride_h - p.pad_top + (long)r * p.dilation_h;
            if (ih < 0 || ih >= p.in_height) {
                for (int ow = 0; ow < p.out_width; ow++) padding += grad[ow] * 0.0f;
                continue;
            }
            global const float* row = image + ih * p.in_width;
            for (int ow = 0; ow < first; ow++) padding += grad[ow] * 0.0f;
            for (int ow = first; ow < last; ow++) sum += grad[ow] * row[ow * (long)p.stride_w + shift];
            for (int ow = last; ow < p.out_width; ow++) padding += grad[ow] * 0.0f;
        }
    }
    partial[(long)chunk * items + i] = sum + padding;
}

// Bias gradient in the same chunks: work-item (chunk, k) sums channel k over the chunk's images and pixels in order.
kernel void conv2d_backward_bias(global const float* restrict dz, global float* restrict partial, struct conv_backward_shape p, int per_chunk) {
    const int gid = get_global_id(0);
    const int chunks = (p.batch + per_chunk - 1) / per_chunk;
    if (gid >= p.out_channels * chunks) return;
    const int chunk = gid / p.out_channels, k = gid % p.out_channels;
    long plane = (long)p.out_height * p.out_width;
    float sum = 0.0f;
    const int last = min(p.batch, (chunk + 1) * per_chunk);
    for (int n = chunk * per_chunk; n < last; n++) {
        global const float* grad = dz + ((long)n * p.out_channels + k) * plane;
        for (long o = 0; o < plane; o++) sum += grad[o];
    }
    partial[(long)chunk * p.out_channels + k] = sum;
}

// out[i] = partial[0][i] + partial[1][i] + ... in chunk order.
kernel void conv2d_sum_chunks(global const float* restrict partial, global float* restrict out, int length, int chunks) {
    const int i = get_global_id(0);
    if (i >= length) return;
    float sum = 0.0f;
    for (int c = 0; c < chunks; c++) sum += partial[(long)c * length + i];
    out[i] = sum;
}

// Forward for strides longer than twice the kernel's reach, where a padded copy would hold mostly
// what no tap reads (its size follows the stride, not the image): one output per work-item reads
// the unpadded input with bounds tests, weights plain KCRS, padding multiplied as zeros (hpccnn.h).
// The arguments before q are those of the tiled kernels, so plans set them alike.
kernel void conv2d_direct_unpadded(global const float* restrict x, global const float* restrict w, global const float* restrict bias,
                                   global float* restrict y, struct conv_shape p, struct conv_backward_shape q, int items) {
    int o = get_global_id(0);
    if (o >= items) return;
    int ow = o % q.out_width, rest = o / q.out_width;
    int oh = rest % q.out_height;
    rest /= q.out_height;
    int k = rest % q.out_channels, n = rest / q.out_channels;
    int c_per_group = q.in_channels / q.groups, g = k / (q.out_channels / q.groups);
    global const float* filter = w + (long)k * c_per_group * q.kernel_h * q.kernel_w;
    float sum = p.has_bias ? bias[k] : 0.0f;
    for (int c = 0; c < c_per_group; c++) {
        global const float* image = x + ((long)n * q.in_channels + g * c_per_group + c) * q.in_height * q.in_width;
        for (int r = 0; r < q.kernel_h; r++) {
            long ih = (long)oh * q.stride_h - q.pad_top + (long)r * q.dilation_h;
            for (int s = 0; s < q.kernel_w; s++) {
                long iw = (long)ow * q.stride_w - q.pad_left + (long)s * q.dilation_w;
                float value = ih >= 0 && ih < q.in_height && iw >= 0 && iw < q.in_width ? image[ih * q.in_width + iw] : 0.0f;
                sum += value * filter[(c * q.kernel_h + r) * q.kernel_w + s];
            }
        }
    }
    y[o] = activate1(sum, p.activation, p.alpha);
}
