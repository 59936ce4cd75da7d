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

// GPU style: one work-group of SOFTMAX_GROUP work-items per row, the maximum and the sum reduced
// in local memory in a fixed tree (one row per work-item leaves a GPU idle at LeNet's and
// ImageNet's batch sizes). With with_loss also the row's loss, as softmax_forward_loss writes it;
// without, labels and row_loss are not read.
#define SOFTMAX_GROUP 256
kernel __attribute__((reqd_work_group_size(SOFTMAX_GROUP, 1, 1)))
void softmax_rows_local(global const float* x, global float* p, global const int* labels, global float* row_loss, long classes, int with_loss) {
    local float partial[SOFTMAX_GROUP];
    const long b = get_group_id(0);
    const int lid = get_local_id(0);
    global const float* row = x + b * classes;
    global float* out = p + b * classes;
    float maximum = -INFINITY;
    for (long j = lid; j < classes; j += SOFTMAX_GROUP) maximum = max_nan(maximum, row[j]);
    partial[lid] = maximum;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = SOFTMAX_GROUP / 2; s > 0; s >>= 1) {
        if (lid < s) partial[lid] = max_nan(partial[lid], partial[lid + s]);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    maximum = partial[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    float sum = 0.0f;
    for (long j = lid; j < classes; j += SOFTMAX_GROUP) {
        const float e = exp(row[j] - maximum);
        out[j] = e;
        sum += e;
    }
    partial[lid] = sum;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = SOFTMAX_GROUP / 2; s > 0; s >>= 1) {
        if (lid < s) partial[lid] += partial[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    sum = partial[0];
    for (long j = lid; j < classes; j += SOFTMAX_GROUP) out[j] /= sum;
    if (with_loss && lid == 0) {
        const int label = labels[b];
        row_loss[b] = label >= 0 && label < classes ? maximum + log(sum) - row[label] : NAN;
    }
}
