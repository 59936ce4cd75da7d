/* The end of a kernel's parallel region: the team waits for its last thread awake; and the
 * chunked loop of the elementwise kernels (internal.h). */
#include <omp.h>
#include <stdatomic.h>
#include <stdlib.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HC_CPU_RELAX() _mm_pause()
#else
#define HC_CPU_RELAX() ((void)0)
#endif

#include "internal.h"

#if defined(HC_WRAP_GOMP_PARALLEL)
/* libgomp's GOMP_parallel, which GCC calls for every `#pragma omp parallel`, wrapped (the link
 * passes --wrap=GOMP_parallel): a region of one thread (num_threads(1), or an if clause that is
 * false, which GCC passes as 1) outside any other region runs its body directly. libgomp builds
 * a team even for one thread, and the closing barrier of that team wakes a futex with a system
 * call: 1.3 us per region in this VM, measured, as long as a whole small kernel. Inside the body
 * there is then no team, as in code outside any region: omp_get_num_threads() is 1,
 * work-sharing loops run whole on the calling thread, barriers return at once. A region inside
 * another (a kernel calling the GEMM driver from its loop) goes to libgomp as before: its loops
 * need a context of their own, which only a team gives them. */
static _Thread_local int direct_regions;

void __real_GOMP_parallel(void (*fn)(void*), void* data, unsigned num_threads, unsigned flags);
void __wrap_GOMP_parallel(void (*fn)(void*), void* data, unsigned num_threads, unsigned flags);
void __wrap_GOMP_parallel(void (*fn)(void*), void* data, unsigned num_threads, unsigned flags) {
    if (num_threads == 1 && direct_regions == 0 && omp_get_level() == 0) {
        direct_regions++;
        fn(data);
        direct_regions--;
        return;
    }
    __real_GOMP_parallel(fn, data, num_threads, flags);
}
#endif

/* Longest a thread spins for the others. A kernel's finishing skew is one work item, tens of
 * microseconds; far past that the others are not running (more threads than CPUs) and spinning
 * would only keep a CPU from them. */
#define JOIN_SPIN_MS 0.25

void hc_parallel_join(int* finished) {
#pragma omp atomic update
    (*finished)++;
    const int team = omp_get_num_threads();
    const double deadline = hc_now_ms() + JOIN_SPIN_MS;
    for (unsigned spins = 1;; spins++) {
        int count;
#pragma omp atomic read
        count = *finished;
        if (count >= team) return;
        HC_CPU_RELAX();
        if (spins % 64 == 0 && hc_now_ms() > deadline) return;
    }
}

/* Work worth a parallel region: this many times the cost of waking the team. */
#define PAYBACK 4.0
/* The wake cost assumed until measured (and where it cannot be: one processor, or asked from
 * inside another parallel region). */
#define WAKE_NS_UNMEASURED 5000.0

static atomic_int wake_state; /* 0 unmeasured, 1 being measured, 2 measured */
static double wake_ns = WAKE_NS_UNMEASURED;

static int compare_doubles(const void* a, const void* b) {
    const double x = *(const double*)a, y = *(const double*)b;
    return x < y ? -1 : x > y;
}

static void measure_wake(void) {
    enum { WARM_UP = 3, REGIONS = 15 };
    double times[REGIONS];
    for (int i = 0; i < WARM_UP + REGIONS; i++) {
        const double start = hc_now_ms();
#pragma omp parallel num_threads(2)
        {
            HC_CPU_RELAX();
        }
        if (i >= WARM_UP) times[i - WARM_UP] = (hc_now_ms() - start) * 1e6;
    }
    qsort(times, REGIONS, sizeof times[0], compare_doubles);
    wake_ns = times[REGIONS / 2];
    if (hc_verbose())
        hc_log("waking a team of two takes %.1f us here; kernels estimated under %.0f us run on one thread", wake_ns / 1000.0,
               PAYBACK * wake_ns / 1000.0);
}

double hc_parallel_wake_ns(void) {
    if (atomic_load_explicit(&wake_state, memory_order_acquire) == 2) return wake_ns;
    int expected = 0;
    if (omp_get_level() == 0 && omp_get_num_procs() > 1 && atomic_compare_exchange_strong(&wake_state, &expected, 1)) {
        measure_wake();
        atomic_store_explicit(&wake_state, 2, memory_order_release);
        return wake_ns;
    }
    return WAKE_NS_UNMEASURED; /* another thread is measuring, or this one cannot */
}

int hc_threads_for(double work_ns, int32_t threads) {
    if (threads <= 1) return 1;
    return work_ns < PAYBACK * hc_parallel_wake_ns() ? 1 : threads;
}

/* Below this many FLOPs a parallel region does not pay wherever it runs. */
#define PARALLEL_MIN_FLOPS 2000000.0

int hc_threads_for_flops(double flops, int32_t threads) {
    return flops < PARALLEL_MIN_FLOPS ? 1 : hc_threads_for(hc_flops_ns(flops), threads);
}

/* Fixed chunks, a multiple of every vector width and of Philox's block of 4. */
#define CHUNK 16384
/* Below this many elements a parallel region costs more than it saves. */
#define PARALLEL_MIN 65536

/* Bytes an elementwise element moves, about: two or three arrays of floats. */
#define CHUNK_BYTES_PER_ELEMENT 12.0

void hc_for_chunks(int64_t length, int32_t threads, hc_chunk_fn body, const void* context) {
    threads = length < PARALLEL_MIN ? 1 : hc_threads_for(hc_bytes_ns(CHUNK_BYTES_PER_ELEMENT * (double)length), threads);
    const int64_t chunks = (length + CHUNK - 1) / CHUNK;
    int finished = 0;
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
#pragma omp for schedule(dynamic, hc_dynamic_chunk(chunks, threads)) nowait
        for (int64_t c = 0; c < chunks; c++) body(context, c * CHUNK, c * CHUNK + CHUNK < length ? c * CHUNK + CHUNK : length);
        hc_parallel_join(&finished);
    }
}
