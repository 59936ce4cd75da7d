// Softmax with cross-entropy (hpccnn.h), one row per work-item: the row's maximum subtracted
// before exponentiating, the loss as log-sum-exp minus the label's logit. A label outside
// [0, classes) (the host checks the labels it uploads; device buffers it cannot) reads nothing
// and makes the row's loss NaN.

// p = softmax(x) for row b; returns log-sum-exp of the row.
inline float softmax_row(global const float* row, global float* out, long classes) {
    float maximum = row[0];
    for (long j = 1; j < classes; j++) maximum = max_nan(maximum, row[j]);
    float sum = 0.0f;
    for (long j = 0; j < classes; j++) {
        out[j] = exp(row[j] - maximum);
        sum += out[j];
    }
    for (long j = 0; j < classes; j++) out[j] /= sum;
    return maximum + log(sum);
}

kernel void softmax_forward(global const float* x, global float* p, long batch, long classes) {
    const long b = get_global_id(0);
    if (b < batch) softmax_row(x + b * classes, p + b * classes, classes);
}

kernel void softmax_forward_loss(global const float* x, global const int* labels, global float* p, global float* row_loss, long batch,
                                 long classes) {
    const long b = get_global_id(0);
    if (b >= batch) return;
    const float log_sum_exp = softmax_row(x + b * classes, p + b * classes, classes);
    const int label = labels[b];
    row_loss[b] = label >= 0 && label < classes ? log_sum_exp - x[b * classes + label] : NAN;
}

// The mean of the rows' losses, added in row order by one work-item.
kernel void mean_loss(global const float* row_loss, global float* loss, long batch) {
    if (get_global_id(0) != 0) return;
    float total = 0.0f;
    for (long b = 0; b < batch; b++) total += row_loss[b];
    *loss = total / (float)batch;
}

kernel void softmax_cross_entropy_backward(global const float* p, global const int* labels, global float* dx, long batch, long classes) {
    const long i = get_global_id(0);
    if (i >= batch * classes) return;
    const long b = i / classes, j = i % classes;
    const int label = labels[b];
    dx[i] = label >= 0 && label < classes ? (p[i] - (j == label ? 1.0f : 0.0f)) / (float)batch : NAN;
}
