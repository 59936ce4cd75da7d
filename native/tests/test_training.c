/* The training kernels outside the GEMM: Philox4x32-10 against Random123's published answers,
 * dropout's mask (rate, in place, thread counts, backward = forward's mask), the optimizers
 * against their formulas evaluated step by step, and softmax cross-entropy against a double
 * evaluation, with logits of 10^4, and its refusal of bad labels. Links the library's objects
 * for the internal Philox. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/core/philox.h"
#include "hpccnn.h"
#include "check.h"

static float uniform(unsigned* state) {
    *state = *state * 1103515245u + 12345u;
    return (float)((*state >> 8) & 0xFFFF) / 65536.0f * 2.0f - 1.0f;
}

static void test_philox_known_answers(void) {
    /* Random123 (Salmon et al. 2011), tests/kat_vectors: philox4x32 10 rounds. */
    const uint32_t cases[3][10] = {
        {0, 0, 0, 0, 0, 0, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
        {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
        {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, 0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1},
    };
    for (int c = 0; c < 3; c++) {
        uint32_t out[4];
        hc_philox4x32_10(cases[c], cases[c] + 4, out);
        CHECK(memcmp(out, cases[c] + 6, sizeof out) == 0, "philox4x32-10 known answer %d: %08x %08x %08x %08x", c, out[0], out[1], out[2], out[3]);
    }
}

static void test_dropout(void) {
    const int64_t n = 200003; /* not a multiple of 4, above the parallel threshold */
    float* x = malloc((size_t)n * sizeof(float));
    float* y = malloc((size_t)n * sizeof(float));
    float* y2 = malloc((size_t)n * sizeof(float));
    float* dx = malloc((size_t)n * sizeof(float));
    unsigned state = 7;
    for (int64_t i = 0; i < n; i++) x[i] = uniform(&state) + 2.0f; /* never 0 */
    const hc_dropout_desc desc = {.rate = 0.3f, .seed = 0x123456789abcdefULL};
    const hc_plan_options one = {.num_threads = 1}, three = {.num_threads = 3};
    CHECK(hc_dropout_forward(&desc, 5, x, y, n, &one) == HC_STATUS_OK, "dropout forward: %s", hc_last_error());
    CHECK(hc_dropout_forward(&desc, 5, x, y2, n, &three) == HC_STATUS_OK, "dropout forward: %s", hc_last_error());
    CHECK(memcmp(y, y2, (size_t)n * sizeof(float)) == 0, "dropout: 3 threads draw another mask than 1");
    int64_t kept = 0, wrong = 0;
    const float scale = 1.0f / (1.0f - desc.rate);
    for (int64_t i = 0; i < n; i++) {
        float u[4];
        hc_dropout_uniforms(desc.seed, 5, i / 4, u);
        const bool keep = u[i % 4] >= desc.rate;
        kept += keep;
        if (y[i] != (keep ? x[i] * scale : 0.0f)) wrong++;
    }
    CHECK(wrong == 0, "dropout: %lld elements differ from the documented mask", (long long)wrong);
    const double fraction = (double)kept / (double)n;
    CHECK(fabs(fraction - 0.7) < 0.005, "dropout keeps %.4f of the elements, expected 0.7", fraction);
    CHECK(hc_dropout_forward(&desc, 6, x, y2, n, &one) == HC_STATUS_OK && memcmp(y, y2, (size_t)n * sizeof(float)) != 0,
          "dropout: another step draws the same mask");
    /* Backward with the same (seed, step) passes the gradient exactly where forward kept the input. */
    CHECK(hc_dropout_backward(&desc, 5, x, dx, n, &three) == HC_STATUS_OK, "dropout backward: %s", hc_last_error());
    CHECK(memcmp(dx, y, (size_t)n * sizeof(float)) == 0, "dropout backward applies another mask than forward");
    memcpy(y2, x, (size_t)n * sizeof(float));
    CHECK(hc_dropout_forward(&desc, 5, y2, y2, n, &three) == HC_STATUS_OK && memcmp(y2, y, (size_t)n * sizeof(float)) == 0,
          "dropout in place differs");
    const hc_dropout_desc bad = {.rate = 1.0f};
    CHECK(hc_dropout_forward(&bad, 0, x, y, n, &one) == HC_STATUS_INVALID_ARGUMENT && strstr(hc_last_error(), "rate") != NULL,
          "dropout with rate 1 is not refused: %s", hc_last_error());
    CHECK(hc_dropout_forward(&desc, 0, x, x + 1, 10, &one) == HC_STATUS_INVALID_ARGUMENT, "overlapping dropout buffers are not refused");
    free(x);
    free(y);
    free(y2);
    free(dx);
}

static void test_optimizers(void) {
    enum { N = 1000 };
    float w[N], g[N], v[N], m[N], s[N], w_ref[N], v_ref[N], m_ref[N], s_ref[N];
    unsigned state = 3;
    for (int i = 0; i < N; i++) {
        w[i] = w_ref[i] = uniform(&state);
        v[i] = v_ref[i] = m[i] = m_ref[i] = s[i] = s_ref[i] = 0.0f;
    }
    const hc_sgd_desc sgd = {.learning_rate = 0.05f, .momentum = 0.9f, .weight_decay = 0.001f, .nesterov = 1};
    const hc_adam_desc adam = {.learning_rate = 0.001f, .beta1 = 0.9f, .beta2 = 0.999f, .epsilon = 1e-8f, .weight_decay = 0.01f};
    int wrong = 0;
    for (int step = 1; step <= 3; step++) {
        for (int i = 0; i < N; i++) g[i] = uniform(&state);
        CHECK(hc_sgd_update(&sgd, w, g, v, N, NULL) == HC_STATUS_OK, "sgd: %s", hc_last_error());
        for (int i = 0; i < N; i++) {
            volatile float gi = g[i] + sgd.weight_decay * w_ref[i];
            v_ref[i] = sgd.momentum * v_ref[i] + gi;
            volatile float update = gi + sgd.momentum * v_ref[i];
            w_ref[i] = w_ref[i] - sgd.learning_rate * update;
            if (w[i] != w_ref[i] || v[i] != v_ref[i]) wrong++;
        }
    }
    CHECK(wrong == 0, "sgd: %d elements differ from the formula", wrong);
    for (int i = 0; i < N; i++) w_ref[i] = w[i];
    wrong = 0;
    for (int step = 1; step <= 3; step++) {
        for (int i = 0; i < N; i++) g[i] = uniform(&state);
        CHECK(hc_adam_update(&adam, step, w, g, m, s, N, NULL) == HC_STATUS_OK, "adam: %s", hc_last_error());
        const float step_size = (float)(adam.learning_rate / (1.0 - pow(adam.beta1, step)));
        const float root = (float)sqrt(1.0 - pow(adam.beta2, step));
        for (int i = 0; i < N; i++) {
            volatile float gi = g[i] + adam.weight_decay * w_ref[i];
            volatile float a = adam.beta1 * m_ref[i], b = (1.0f - adam.beta1) * gi;
            m_ref[i] = a + b;
            volatile float c = adam.beta2 * s_ref[i], d = (1.0f - adam.beta2) * gi * gi;
            s_ref[i] = c + d;
            volatile float denominator = sqrtf(s_ref[i]) / root + adam.epsilon;
            volatile float ratio = m_ref[i] / denominator;
            w_ref[i] = w_ref[i] - step_size * ratio;
            if (w[i] != w_ref[i] || m[i] != m_ref[i] || s[i] != s_ref[i]) wrong++;
        }
    }
    CHECK(wrong == 0, "adam: %d elements differ from the formula", wrong);
    CHECK(hc_adam_update(&adam, 0, w, g, m, s, N, NULL) == HC_STATUS_INVALID_ARGUMENT, "adam step 0 is not refused");
    const hc_sgd_desc nesterov_without_momentum = {.learning_rate = 0.1f, .nesterov = 1};
    CHECK(hc_sgd_update(&nesterov_without_momentum, w, g, v, N, NULL) == HC_STATUS_INVALID_ARGUMENT, "Nesterov without momentum is not refused");
    CHECK(hc_sgd_update(&sgd, w, w, v, N, NULL) == HC_STATUS_INVALID_ARGUMENT, "sgd with weights = gradients is not refused");
}

static void test_softmax(void) {
    enum { B = 5, C = 7 };
    float x[B * C], p[B * C], dx[B * C], loss = 0.0f;
    int32_t labels[B] = {0, 6, 3, 2, 6};
    unsigned state = 11;
    for (int i = 0; i < B * C; i++) x[i] = uniform(&state) * 3.0f;
    x[2 * C + 3] = 1e4f; /* a logit of 10^4 (a confident right answer) and one of -10^4 */
    x[4 * C + 1] = 1e4f; /* a confident wrong answer: a loss of about 10^4 */
    x[1 * C + 6] = -1e4f;
    hc_plan *forward = NULL, *backward = NULL;
    const hc_softmax_desc desc = {.batch = B, .classes = C};
    CHECK(hc_softmax_create(&desc, HC_DIRECTION_FORWARD_TRAINING, NULL, &forward) == HC_STATUS_OK, "softmax create: %s", hc_last_error());
    CHECK(hc_softmax_create(&desc, HC_DIRECTION_BACKWARD_DATA, NULL, &backward) == HC_STATUS_OK, "softmax create: %s", hc_last_error());
    const hc_arg fargs[] = {{HC_ARG_SRC, x, B * C}, {HC_ARG_LABELS, labels, B}, {HC_ARG_DST, p, B * C}, {HC_ARG_LOSS, &loss, 1}};
    CHECK(hc_plan_execute(forward, fargs, 4) == HC_STATUS_OK, "softmax forward: %s", hc_last_error());
    const hc_arg bargs[] = {{HC_ARG_DST, p, B * C}, {HC_ARG_LABELS, labels, B}, {HC_ARG_DIFF_SRC, dx, B * C}};
    CHECK(hc_plan_execute(backward, bargs, 3) == HC_STATUS_OK, "softmax backward: %s", hc_last_error());
    double total = 0.0, worst = 0.0;
    for (int b = 0; b < B; b++) {
        double maximum = x[b * C];
        for (int j = 1; j < C; j++) maximum = fmax(maximum, x[b * C + j]);
        double sum = 0.0;
        for (int j = 0; j < C; j++) sum += exp((double)x[b * C + j] - maximum);
        total += maximum + log(sum) - x[b * C + labels[b]];
        for (int j = 0; j < C; j++) {
            const double probability = exp((double)x[b * C + j] - maximum) / sum;
            const double gradient = (probability - (j == labels[b])) / B;
            worst = fmax(worst, fabs(p[b * C + j] - probability));
            worst = fmax(worst, fabs(dx[b * C + j] - gradient));
        }
    }
    const double expected = total / B;
    CHECK(isfinite(loss) && fabs(loss - expected) <= 1e-6 * fabs(expected) + 1e-6, "softmax loss %.9g, expected %.9g", (double)loss, expected);
    CHECK(worst < 1e-6, "softmax probabilities or gradient off by %g", worst);
    labels[3] = C;
    CHECK(hc_plan_execute(forward, fargs, 4) == HC_STATUS_INVALID_ARGUMENT && strstr(hc_last_error(), "LABELS[3] = 7") != NULL,
          "a label past the classes is not refused: %s", hc_last_error());
    labels[3] = -1;
    CHECK(hc_plan_execute(backward, bargs, 3) == HC_STATUS_INVALID_ARGUMENT, "a negative label is not refused");
    hc_plan_destroy(forward);
    hc_plan_destroy(backward);
}

int main(void) {
    test_philox_known_answers();
    test_dropout();
    test_optimizers();
    test_softmax();
    return check_summary();
}
