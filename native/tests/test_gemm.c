/* The GEMM driver and the micro-kernels on their own, on every instruction set this CPU has:
 * - each micro-kernel on every partial tile (m < MR, n < NR), with and without a row and a column
 *   bias, continuing a sum (first = false), and the activation only on the last block;
 * - the driver against a plain double GEMM: transposed and plain operands, packed B, accumulate,
 *   biases, activations, sizes around every block edge; integer data compares bit for bit;
 * - the same bits for 1, 2 and 3 threads;
 * - the batched driver over a produced B, packed and (where the kernel reads B in place) in place
 *   with padding columns dropped by the store, against the same plain GEMM per batch member.
 * Links the library's objects, so it reaches the internal functions. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/gemm/gemm.h"
#include "check.h"

static unsigned seed_state = 12345u;

/* Small integers times a power of two: every sum of their products is exact in float. */
static float small_integer(void) {
    seed_state = seed_state * 1103515245u + 12345u;
    return (float)((int)((seed_state >> 16) % 9u) - 4) * 0.25f;
}

static float* random_matrix(int64_t count) {
    float* m = malloc((size_t)(count > 0 ? count : 1) * sizeof(float));
    for (int64_t i = 0; i < count; i++) m[i] = small_integer();
    return m;
}

static double activate(hc_activation activation, float alpha, double x) {
    switch (activation) {
    case HC_ACTIVATION_RELU: return x > 0 ? x : 0;
    case HC_ACTIVATION_LEAKY_RELU: return x > 0 ? x : alpha * x;
    default: return x;
    }
}

/* One micro-kernel call against the definition of its contract. */
static void test_ukernel(const hc_sgemm_kernel* kernel, const char* isa) {
    const int MR = kernel->mr, NR = kernel->nr;
    const int64_t kc = 7, ldc = NR + 3;
    float* a = random_matrix(kc * MR);
    float* b = hc_aligned_alloc((size_t)(kc * NR) * sizeof(float));
    for (int64_t i = 0; i < kc * NR; i++) b[i] = small_integer();
    float row_bias[32], column_bias[32];
    for (int i = 0; i < 32; i++) row_bias[i] = small_integer(), column_bias[i] = small_integer();
    float* c = malloc((size_t)((MR + 1) * ldc) * sizeof(float));
    for (int m = 1; m <= MR; m++)
        for (int n = 1; n <= NR; n++)
            for (int variant = 0; variant < 3; variant++) {
                /* 0: first with both biases, ReLU; 1: continuing an existing sum; 2: first without biases, not last. */
                for (int64_t i = 0; i < (MR + 1) * ldc; i++) c[i] = -100.0f;
                const hc_gemm_epilogue e = {
                    .bias = variant == 0 ? row_bias : NULL,
                    .column_bias = variant == 0 ? column_bias : NULL,
                    .activation = HC_ACTIVATION_RELU,
                    .first = variant != 1,
                    .last = variant != 2,
                };
                hc_sgemm_ukernel_fn run = kernel->run_half != NULL && 2 * n <= NR ? kernel->run_half : kernel->run;
                run(kc, a, b, NR, c, ldc, m, n, &e);
                int wrong = 0;
                for (int i = 0; i <= MR; i++)
                    for (int j = 0; j < ldc; j++) {
                        double expected = -100.0;
                        if (i < m && j < n) {
                            double sum = variant == 0 ? (double)row_bias[i] + column_bias[j] : variant == 1 ? -100.0 : 0.0;
                            for (int64_t k = 0; k < kc; k++) sum += (double)a[k * MR + i] * b[k * NR + j];
                            expected = e.last ? activate(e.activation, 0, sum) : sum;
                        }
                        if (c[i * ldc + j] != (float)expected) wrong++;
                    }
                CHECK(wrong == 0, "%s micro-kernel %dx%d, m=%d n=%d variant %d: %d elements wrong", isa, MR, NR, m, n, variant, wrong);
            }
    free(a);
    hc_aligned_free(b);
    free(c);
}

/* op(X)[r][c] of a row-major matrix stored plain or transposed. */
static float at(hc_gemm_matrix x, int64_t r, int64_t c) { return x.transposed ? x.data[c * x.ld + r] : x.data[r * x.ld + c]; }

static void test_driver_case(hc_isa isa, int64_t m, int64_t n, int64_t k, bool ta, bool tb, bool packed, bool accumulate, bool biases,
                             hc_activation activation) {
    float* a_data = random_matrix(m * k);
    float* b_data = random_matrix(k * n);
    const hc_gemm_matrix a = {.data = a_data, .ld = ta ? m : k, .transposed = ta};
    const hc_gemm_matrix b = {.data = b_data, .ld = tb ? k : n, .transposed = tb};
    float* row_bias = random_matrix(m);
    float* column_bias = random_matrix(n);
    const int64_t ldc = n + 5;
    float* initial = random_matrix(m * ldc);
    float* packed_b = NULL;
    if (packed) {
        packed_b = hc_aligned_alloc((size_t)hc_gemm_packed_b_floats(isa, k, n) * sizeof(float));
        hc_gemm_pack_b(isa, b, k, n, packed_b);
    }
    float* first = NULL;
    for (int threads = 1; threads <= 3; threads++) {
        float* c = malloc((size_t)(m * ldc) * sizeof(float));
        memcpy(c, initial, (size_t)(m * ldc) * sizeof(float));
        const hc_gemm_args args = {
            .m = m, .n = n, .k = k, .a = a, .b = b, .packed_b = packed_b, .c = c, .ldc = ldc, .accumulate = accumulate,
            .row_bias = biases ? row_bias : NULL, .column_bias = biases ? column_bias : NULL, .activation = activation, .alpha = 0.25f,
        };
        CHECK(hc_gemm(&args, isa, threads) == HC_STATUS_OK, "hc_gemm failed");
        int wrong = 0;
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < ldc; j++) {
                double expected = initial[i * ldc + j];
                if (j < n) {
                    double sum = accumulate ? (double)initial[i * ldc + j] : biases ? (double)row_bias[i] + column_bias[j] : 0.0;
                    for (int64_t kk = 0; kk < k; kk++) sum += (double)at(a, i, kk) * at(b, kk, j);
                    expected = activate(activation, 0.25f, sum);
                }
                if (c[i * ldc + j] != (float)expected) wrong++;
            }
        CHECK(wrong == 0, "%s gemm m=%lld n=%lld k=%lld ta=%d tb=%d packed=%d accumulate=%d biases=%d: %d elements wrong with %d threads",
              hc_isa_string(isa), (long long)m, (long long)n, (long long)k, ta, tb, packed, accumulate, biases, wrong, threads);
        if (first == NULL) {
            first = c;
        } else {
            CHECK(memcmp(first, c, (size_t)(m * ldc) * sizeof(float)) == 0, "%s gemm: %d threads differ from 1", hc_isa_string(isa), threads);
            free(c);
        }
    }
    free(first);
    free(a_data);
    free(b_data);
    free(row_bias);
    free(column_bias);
    free(initial);
    hc_aligned_free(packed_b);
}

/* B given as gathered rows of Bᵀ (runs of `width` elements `pitch` apart, rows at scattered
 * offsets), as convolution's weight gradient reads a padded image. */
static void test_rows_case(hc_isa isa, int64_t m, int64_t n, int64_t k, int64_t width, int64_t pitch) {
    const int64_t row_span = width == INT64_MAX ? k : (k / width + 1) * pitch, storage_length = (n + 2) * row_span;
    float* storage = random_matrix(storage_length);
    float* a_data = random_matrix(m * k);
    int64_t* offsets = malloc((size_t)n * sizeof(int64_t));
    for (int64_t j = 0; j < n; j++) offsets[j] = (j * 7 % n) * row_span + j % 3; /* out of order, unaligned */
    const hc_gemm_rows rows = {.base = storage, .offsets = offsets, .width = width, .pitch = pitch};
    float* c = malloc((size_t)(m * n) * sizeof(float));
    for (int threads = 1; threads <= 2; threads++) {
        const hc_gemm_args args = {.m = m, .n = n, .k = k, .a = {.data = a_data, .ld = k}, .b_rows = &rows, .c = c, .ldc = n};
        CHECK(hc_gemm(&args, isa, threads) == HC_STATUS_OK, "hc_gemm failed");
        int wrong = 0;
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) {
                double sum = 0.0;
                for (int64_t kk = 0; kk < k; kk++) sum += (double)a_data[i * k + kk] * storage[offsets[j] + hc_gemm_rows_offset(&rows, kk)];
                if (c[i * n + j] != (float)sum) wrong++;
            }
        CHECK(wrong == 0, "%s gemm with gathered B rows m=%lld n=%lld k=%lld width=%lld: %d elements wrong with %d threads",
              hc_isa_string(isa), (long long)m, (long long)n, (long long)k, (long long)width, wrong, threads);
    }
    free(c);
    free(offsets);
    free(a_data);
    free(storage);
}

/* A produced B for the batched driver: B_b is `b + b_index * k * stride`, k rows of `stride`
 * floats; column j of unit u is at u * unit_columns + j (the last `padding` columns of each unit
 * are padding, skipped by the GEMM's true columns). */
typedef struct test_source {
    const float* b;
    int64_t k, stride, unit_columns, padding, m, units;
    float* c; /* in place: the true C_b, m x (units * (unit_columns - padding)) */
} test_source;

static void test_pack(const void* context, const hc_gemm_item* item, const float* scratch, int64_t k0, int64_t kc, float* block, int64_t ldb) {
    (void)scratch;
    const test_source* s = context;
    for (int64_t kk = 0; kk < kc; kk++) {
        const float* row = s->b + (item->gemm * s->k + k0 + kk) * s->stride + item->j0;
        for (int64_t j = 0; j < ldb; j++) block[kk * ldb + j] = j < item->columns ? row[j] : 0.0f;
    }
}

static size_t test_scratch(const void* context, int64_t block_units) {
    const test_source* s = context;
    return (size_t)(s->k * block_units * s->unit_columns + 32);
}

/* In place: the item's columns copied into scratch (a window), rows k apart by its width. */
static void test_prepare(const void* context, const hc_gemm_item* item, float* scratch, int32_t* offsets) {
    const test_source* s = context;
    const int64_t width = item->units * s->unit_columns;
    for (int64_t kk = 0; kk < s->k; kk++) {
        memcpy(scratch + kk * width, s->b + (item->gemm * s->k + kk) * s->stride + item->j0, (size_t)width * sizeof(float));
        offsets[kk] = (int32_t)(kk * width);
    }
}

static void test_store(const void* context, const hc_gemm_item* item, const float* block, int64_t ldc) {
    const test_source* s = context;
    const int64_t true_units = s->unit_columns - s->padding, n = s->units * true_units;
    for (int64_t i = item->row_begin; i < item->row_end; i++)
        for (int64_t u = 0; u < item->units; u++)
            memcpy(s->c + (item->gemm * s->m + i) * n + (item->first_unit + u) * true_units, block + (i - item->row_begin) * ldc + u * s->unit_columns,
                   (size_t)true_units * sizeof(float));
}

static void test_batched_case(hc_isa isa, int64_t batch, int64_t groups, int64_t m, int64_t k, int64_t units, int64_t unit_columns, int64_t padding,
                              bool in_place, bool bias, hc_activation activation) {
    const int64_t true_units = unit_columns - padding, n = units * true_units, stride = units * unit_columns + 16;
    const int64_t a_floats = hc_gemm_packed_a_floats(isa, m, k);
    float* a_data = random_matrix(groups * m * k);
    float* b_data = random_matrix(batch * k * stride);
    float* row_bias = random_matrix(groups * m);
    float* packed_a = hc_aligned_alloc((size_t)(groups * a_floats) * sizeof(float));
    for (int64_t g = 0; g < groups; g++) hc_gemm_pack_a(isa, (hc_gemm_matrix){.data = a_data + g * m * k, .ld = k}, m, k, packed_a + g * a_floats);
    float* first = NULL;
    for (int threads = 1; threads <= 3; threads++) {
        float* c = calloc((size_t)(batch * m * n), sizeof(float));
        test_source source = {.b = b_data, .k = k, .stride = stride, .unit_columns = unit_columns, .padding = padding, .m = m, .units = units, .c = c};
        const hc_gemm_batched_args args = {
            .batch = batch, .groups = groups, .m = m, .n = n, .k = k, .packed_a = packed_a, .c = c, .ldc = n, .c_stride = m * n,
            .row_bias = bias ? row_bias : NULL, .activation = activation, .alpha = 0.25f,
            .source = {.context = &source, .units = units, .unit_columns = unit_columns, .last_unit_columns = true_units,
                       .granule = in_place ? 1 : hc_gemm_kernel(isa)->nr, .nc_max = in_place ? 3 * unit_columns : 64,
                       .scratch_floats = in_place ? test_scratch : NULL, .prepare = in_place ? test_prepare : NULL,
                       .pack = in_place ? NULL : test_pack, .store = in_place ? test_store : NULL},
        };
        CHECK(hc_gemm_batched(&args, isa, threads) == HC_STATUS_OK, "hc_gemm_batched failed");
        int wrong = 0;
        for (int64_t b = 0; b < batch; b++)
            for (int64_t i = 0; i < m; i++)
                for (int64_t j = 0; j < n; j++) {
                    const int64_t g = b % groups, column = in_place ? j / true_units * unit_columns + j % true_units : j;
                    double sum = bias ? row_bias[g * m + i] : 0.0;
                    for (int64_t kk = 0; kk < k; kk++) sum += (double)a_data[(g * m + i) * k + kk] * b_data[(b * k + kk) * stride + column];
                    if (c[(b * m + i) * n + j] != (float)activate(activation, 0.25f, sum)) wrong++;
                }
        CHECK(wrong == 0, "%s batched gemm batch=%lld groups=%lld m=%lld k=%lld units=%lld in_place=%d: %d elements wrong with %d threads",
              hc_isa_string(isa), (long long)batch, (long long)groups, (long long)m, (long long)k, (long long)units, in_place, wrong, threads);
        if (first == NULL) {
            first = c;
        } else {
            CHECK(memcmp(first, c, (size_t)(batch * m * n) * sizeof(float)) == 0, "%s batched gemm: %d threads differ from 1", hc_isa_string(isa), threads);
            free(c);
        }
    }
    free(first);
    free(a_data);
    free(b_data);
    free(row_bias);
    hc_aligned_free(packed_a);
}

static void test_batched(hc_isa isa) {
    const hc_sgemm_kernel* kernel = hc_gemm_kernel(isa);
    const int64_t MR = kernel->mr, KC = kernel->kc_max;
    /* One GEMM (rows split between threads), several with groups; partial panels, several k blocks. */
    test_batched_case(isa, 1, 1, 4 * MR + 3, KC + 7, 150, 1, 0, false, true, HC_ACTIVATION_RELU);
    test_batched_case(isa, 5, 2, MR - 1, 2 * KC + 5, 37, 1, 0, false, false, HC_ACTIVATION_NONE);
    test_batched_case(isa, 3, 3, MR + 1, 9, 300, 1, 0, false, true, HC_ACTIVATION_LEAKY_RELU);
    test_batched_case(isa, 2, 1, MR, 0, 40, 1, 0, false, true, HC_ACTIVATION_RELU); /* no reduction: the bias, activated */
    if (kernel->run_rows != NULL) {
        test_batched_case(isa, 1, 1, 3 * MR + 2, KC + 7, 9, 19, 2, true, true, HC_ACTIVATION_RELU);
        test_batched_case(isa, 4, 2, MR - 3, 2 * KC + 1, 5, 40, 3, true, false, HC_ACTIVATION_NONE);
    }
}

static void test_driver(hc_isa isa) {
    const hc_sgemm_kernel* kernel = hc_gemm_kernel(isa);
    const int64_t MR = kernel->mr, NR = kernel->nr, KC = kernel->kc_max;
    /* Sizes around every edge: one element, partial panels, whole panels, several k blocks and items. */
    const int64_t ms[] = {1, MR - 1, MR + 1, 16 * MR + 3}, ns[] = {1, NR - 1, NR + 1, 520}, ks[] = {0, 1, KC + 1, 2 * KC + 5};
    for (size_t im = 0; im < 4; im++)
        for (size_t in = 0; in < 4; in++)
            for (size_t ik = 0; ik < 4; ik++) {
                const int variant = (int)(im * 16 + in * 4 + ik);
                test_driver_case(isa, ms[im], ns[in], ks[ik], variant % 2, variant / 2 % 2, variant % 3 == 0, variant % 5 == 1, variant % 4 == 2,
                                 variant % 3 == 1 ? HC_ACTIVATION_LEAKY_RELU : HC_ACTIVATION_NONE);
            }
    /* Runs shorter than, equal to and longer than a tile of the transposing packer, and a plain row. */
    const int64_t widths[] = {1, 5, 14, 16, 29, INT64_MAX};
    for (size_t w = 0; w < 6; w++) test_rows_case(isa, MR + 1, 2 * NR + 3, 2 * KC + 37, widths[w], widths[w] == INT64_MAX ? 0 : widths[w] + 3);
}

int main(void) {
    const hc_isa best = hc_best_isa();
    test_ukernel(&hc_sgemm_kernel_4x16__generic, "generic");
    test_driver(HC_ISA_GENERIC);
    test_batched(HC_ISA_GENERIC);
    if (best >= HC_ISA_AVX2) {
        test_ukernel(&hc_sgemm_kernel_6x16__avx2, "avx2");
        test_driver(HC_ISA_AVX2);
        test_batched(HC_ISA_AVX2);
    }
    if (best >= HC_ISA_AVX512) {
        test_ukernel(&hc_sgemm_kernel_8x32__avx512, "avx512");
        test_driver(HC_ISA_AVX512);
        test_batched(HC_ISA_AVX512);
    }
    return check_summary();
}
