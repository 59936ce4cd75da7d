/* The pooling plan and its algorithms, for every direction. */
#ifndef HPCCNN_POOL_POOL2D_INTERNAL_H
#define HPCCNN_POOL_POOL2D_INTERNAL_H

#include "../core/plan.h"
#include "../core/vmath.h"

typedef struct hc_pool2d {
    hc_plan base; /* first: a plan pointer converts to this and back */
    hc_pool2d_desc desc;
    int64_t out_height;
    int64_t out_width;
    int64_t input_length;
    int64_t output_length;
} hc_pool2d;

static inline const hc_pool2d* hc_pool(const hc_plan* plan) { return (const hc_pool2d*)plan; }

/* A forward algorithm written against pooling's own types: accepts(plan) and
 * run(plan, input, output); the macro defines the hc_algorithm `symbol` that adapts them. */
#define HC_POOL2D_FORWARD_ALGORITHM(symbol, name_text, isa_value, accepts_fn, run_fn)                                  \
    static bool symbol##_accepts(const hc_plan* plan) { return accepts_fn(hc_pool(plan)); }                           \
    static hc_status symbol##_run(const hc_plan* plan, const hc_args* args) {                                         \
        return run_fn(hc_pool(plan), hc_arg_in(args, HC_ARG_SRC), hc_arg_out(args, HC_ARG_DST));                      \
    }                                                                                                                 \
    const hc_algorithm symbol = {.name = name_text, .isa = isa_value, .accepts = symbol##_accepts, .pack = NULL,      \
                                 .run = symbol##_run}

/* Kernel for one (image, channel) plane; scratch is the thread's buffer, or NULL if none was asked for. */
typedef void (*hc_pool2d_plane_fn)(const hc_pool2d* plan, const float* input, float* output, float* scratch);

/* Threads a call over every plane uses: one below 32K input elements, where a parallel region
 * costs more than it saves, else as hc_threads_for decides for `bytes_per_plane` moved a plane. */
int hc_pool2d_threads(const hc_pool2d* plan, double bytes_per_plane);

/* Runs `plane` over every plane of the batch, in parallel when there is enough work, each thread
 * with its own scratch buffer of scratch_bytes (0 for none). One task per plane, so results do
 * not depend on the thread count. */
hc_status hc_pool2d_run_planes(const hc_pool2d* plan, const float* input, float* output, size_t scratch_bytes,
                               hc_pool2d_plane_fn plane);

/* The window of output (oh, ow) clipped to the image: rows [h0, h1), columns [w0, w1). Every
 * window holds at least one image element (each padding is smaller than the kernel). */
typedef struct hc_pool_window {
    int64_t h0, h1, w0, w1;
} hc_pool_window;

static inline hc_pool_window hc_pool_window_at(const hc_pool2d* plan, int64_t oh, int64_t ow) {
    const hc_pool2d_desc* d = &plan->desc;
    const int64_t top = oh * d->stride_height - d->pad_top, left = ow * d->stride_width - d->pad_left;
    return (hc_pool_window){
        .h0 = top > 0 ? top : 0,
        .h1 = top + d->kernel_height < d->in_height ? top + d->kernel_height : d->in_height,
        .w0 = left > 0 ? left : 0,
        .w1 = left + d->kernel_width < d->in_width ? left + d->kernel_width : d->in_width,
    };
}

/* ---- forward ---- */

/* 3x3 windows with stride 2, left padding 0 or 1, AVX-512. */
extern const hc_algorithm hc_pool2d_3x3s2_avx512;
/* 2x2 windows with stride 2 and no padding, AVX2. */
extern const hc_algorithm hc_pool2d_2x2s2_avx2;
/* Separable window passes (rows, then columns) vectorised along the width, AVX-512. */
extern const hc_algorithm hc_pool2d_separable_avx512;
/* Separable window passes (rows, then columns) vectorised along the width, AVX2. */
extern const hc_algorithm hc_pool2d_separable_avx2;
/* Window loops in plain C: every algorithm, any CPU. The last entry of the forward lists. */
extern const hc_algorithm hc_pool2d_direct_generic;

/* ---- training ---- */

/* Max pooling forward that also writes each window's argmax (the first maximum in row-major
 * window order) into the workspace; the same C compiled per instruction set. */
extern const hc_algorithm hc_pool2d_max_argmax_avx512;
extern const hc_algorithm hc_pool2d_max_argmax_avx2;
extern const hc_algorithm hc_pool2d_max_argmax_generic;
/* Backward data: max pooling routes dL/dy to the saved argmax; averages give each input element
 * the sum of dL/dy / window size over the windows holding it; per instruction set likewise. */
extern const hc_algorithm hc_pool2d_backward_avx512;
extern const hc_algorithm hc_pool2d_backward_avx2;
extern const hc_algorithm hc_pool2d_backward_generic;

#endif
