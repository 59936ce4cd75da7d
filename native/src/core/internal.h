/* Internal helpers shared by every op family: error reporting, argument checks, threads. */
#ifndef HPCCNN_CORE_INTERNAL_H
#define HPCCNN_CORE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hpccnn.h"
#include "activation.h"

#if defined(__GNUC__)
#define HC_PRINTF(fmt_index, first_arg) __attribute__((format(printf, fmt_index, first_arg)))
#else
#define HC_PRINTF(fmt_index, first_arg)
#endif

/* Clears this thread's last error; every public entry point calls it first. */
void hc_clear_error(void);
/* Records a formatted message as this thread's last error and returns status. */
hc_status hc_fail(hc_status status, const char* format, ...) HC_PRINTF(2, 3);

/* Each check records a message naming `name` and returns false when the rule is broken. */
bool hc_check_not_null(const void* pointer, const char* name);
/* Largest accepted size, stride, padding or dilation. Bounding every operand keeps all
 * index arithmetic (dilation * kernel, in + 2 * pad, ...) far from int64 overflow. */
#define HC_MAX_DIMENSION INT64_C(2147483647)

/* Fails unless minimum <= value <= HC_MAX_DIMENSION (minimum is 0 or 1). */
bool hc_check_dimension(int64_t value, int64_t minimum, const char* name);
/* *product = a * b, failing with a message naming `what` on overflow. */
bool hc_checked_mul(int64_t a, int64_t b, int64_t* product, const char* what);
/* Fails unless buffer `name` of `length` elements holds at least `required`. */
bool hc_check_length(int64_t length, int64_t required, const char* name);
/* a * b * c * d when every factor is non-negative and the product fits int64, else INT64_MAX:
 * for sizing scratch from factors that are each bounded but whose product may not be. */
static inline int64_t hc_saturating_product(int64_t a, int64_t b, int64_t c, int64_t d) {
    int64_t ab, abc, abcd;
    if (a < 0 || b < 0 || c < 0 || d < 0 || __builtin_mul_overflow(a, b, &ab) || __builtin_mul_overflow(ab, c, &abc) ||
        __builtin_mul_overflow(abc, d, &abcd))
        return INT64_MAX;
    return abcd;
}
/* True when [a, a+a_len) and [b, b+b_len) share a byte; lengths in floats. */
bool hc_ranges_overlap(const float* a, int64_t a_len, const float* b, int64_t b_len);

/* Spatial output size, or a value <= 0 when the (dilated) kernel does not fit the padded input. */
int64_t hc_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad_before, int64_t pad_after, int64_t dilation);


/* Chunk size for `schedule(dynamic, ...)` over `items` independent items. Kernels schedule
 * dynamically so the calling thread starts at once and workers still waking up (tens of µs
 * with OMP_WAIT_POLICY=PASSIVE in a VM) take whatever is left; about 8 chunks per thread keep
 * the shared counter cheap. Results do not depend on it: each item is computed by one thread. */
static inline int64_t hc_dynamic_chunk(int64_t items, int threads) { return items / ((int64_t)threads * 8) + 1; }

/* Ends a thread's part of a kernel's parallel region; every thread of the team calls it once,
 * after a `nowait` work-sharing loop, with the same zero-initialised counter. It spins (pause,
 * within the call, bounded) until every thread has finished its share, so that all reach the
 * region's closing barrier together. With OMP_WAIT_POLICY=PASSIVE (the managed loader's default,
 * so that no worker spins after a call returns) a thread that reaches that barrier early sleeps
 * there, and waking a sleeping vCPU takes 10-40 us in a VM: paid at the end of the call when the
 * calling thread slept, or at the start of the next one, whose calling thread waits in libgomp's
 * dock for a worker that had to be woken first. Measured with timestamps: the calling thread
 * entered back-to-back regions 7-44 us late; 2-thread resnet_3x3 ran 3-5% faster with this. */
void hc_parallel_join(int* finished);

/* Whether a parallel region pays. Waking a team costs what the machine and OpenMP's wait policy
 * make it: in a 2-vCPU VM, 3 us with spinning workers and 25 us with sleeping ones
 * (OMP_WAIT_POLICY=PASSIVE, the .NET binding's default), measured, where a whole LeNet-5 layer
 * takes 10-100 us. So it is measured, once, by the first call that asks (the median of empty
 * two-thread regions), and a kernel runs on one thread unless its estimated single-thread time
 * is several times that. The thread count never changes results, only speed. */
double hc_parallel_wake_ns(void);
/* `threads`, or 1 when `work_ns` of single-thread work would not pay for waking them. */
int hc_threads_for(double work_ns, int32_t threads);
/* Estimated single-thread time of compute-bound work (a core's kernels at about half its
 * AVX-512 FMA peak) and of memory-bound work (streaming from L2 or L3), in ns. */
static inline double hc_flops_ns(double flops) { return flops / 100.0; }
static inline double hc_bytes_ns(double bytes) { return bytes / 50.0; }
/* Threads for `flops` of compute-bound work (a GEMM, a convolution): one below 2 MFLOP, where a
 * parallel region costs more than it saves even when waking the team is cheap, else as
 * hc_threads_for decides. */
int hc_threads_for_flops(double flops, int32_t threads);

/* Elementwise work: body(context, begin, end) over fixed chunks of [0, length) (a multiple of 16
 * elements each, whatever the thread count), on up to `threads` threads once length is large
 * enough to pay for them. */
typedef void (*hc_chunk_fn)(const void* context, int64_t begin, int64_t end);
void hc_for_chunks(int64_t length, int32_t threads, hc_chunk_fn body, const void* context);

/* Threads a plan uses: options->num_threads, or the default when options is NULL or says 0. */
bool hc_resolve_num_threads(const hc_plan_options* options, int32_t* num_threads);

/* The instruction set a plan may use: the best allowed by CPU, HPCCNN_MAX_ISA and options. */
bool hc_resolve_isa(const hc_plan_options* options, hc_isa* isa);

/* The per-core L2 cache size, read once at run time (1 MiB when the system does not say). */
int64_t hc_l2_cache_bytes(void);

/* HPCCNN_VERBOSE: one stderr line per plan creation and run. */
bool hc_verbose(void);
void hc_log(const char* format, ...) HC_PRINTF(1, 2);
double hc_now_ms(void);

/* 64-byte aligned memory. */
void* hc_aligned_alloc(size_t bytes);
void hc_aligned_free(void* pointer);
/* This thread's scratch buffer of at least `bytes` (64-byte aligned), or NULL when out of memory.
 * Valid until the thread's next call; freed at thread exit. */
void* hc_thread_workspace(size_t bytes);
/* hc_thread_workspace for a work item of a parallel loop: NULL, with *failed set, when out of
 * memory (the item is then skipped and the call reports the failure). */
static inline void* hc_item_workspace(size_t bytes, int* failed) {
    void* workspace = hc_thread_workspace(bytes);
    if (workspace == NULL) {
#pragma omp atomic write
        *failed = 1;
    }
    return workspace;
}
/* This thread's second scratch buffer, for an operation that calls kernels (which use the
 * workspace above) while keeping data of its own; same rules. */
void* hc_thread_scratch(size_t bytes);
/* A third buffer, for a matrix an operation builds between the two above (im2col columns). */
void* hc_thread_columns(size_t bytes);

/* benchdnn text of a problem, for the verbose log. */
void hc_describe_conv2d(const hc_conv2d_desc* desc, char* text, size_t size);
void hc_describe_pool2d(const hc_pool2d_desc* desc, char* text, size_t size);
void hc_describe_eltwise(const hc_eltwise_desc* desc, char* text, size_t size);
void hc_describe_softmax(const hc_softmax_desc* desc, char* text, size_t size);
void hc_describe_dense(const hc_dense_desc* desc, char* text, size_t size);

#endif
