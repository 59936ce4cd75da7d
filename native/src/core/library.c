/* Version, CPU feature report and the default thread count: the library's only global state
 * besides the CPU dispatch table. */
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <omp.h>

#include "internal.h"

#ifndef HC_VERSION_STRING
#error "HC_VERSION_STRING comes from version.txt through CMake"
#endif

const char* hc_version(void) { return HC_VERSION_STRING; }

/* Appends name to the space-separated list that starts after the last '='. */
static void append_feature(char* buffer, size_t size, const char* name, int present) {
    if (!present) return;
    size_t used = strlen(buffer);
    snprintf(buffer + used, size - used, "%s%s", buffer[used - 1] == '=' ? "" : " ", name);
}

const char* hc_cpu_features(void) {
    static char report[256];
    static atomic_int ready;
    if (atomic_load_explicit(&ready, memory_order_acquire)) return report;
    /* Racing first callers write identical text, so the race is benign; the flag only saves work. */
    char text[256];
    snprintf(text, sizeof text, "path=%s cpu=", hc_isa_string(hc_best_isa()));
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    append_feature(text, sizeof text, "sse4.2", __builtin_cpu_supports("sse4.2"));
    append_feature(text, sizeof text, "avx", __builtin_cpu_supports("avx"));
    append_feature(text, sizeof text, "avx2", __builtin_cpu_supports("avx2"));
    append_feature(text, sizeof text, "fma", __builtin_cpu_supports("fma"));
    append_feature(text, sizeof text, "avx512f", __builtin_cpu_supports("avx512f"));
    append_feature(text, sizeof text, "avx512vl", __builtin_cpu_supports("avx512vl"));
#else
    append_feature(text, sizeof text, "non-x86", 1);
#endif
    const size_t used = strlen(text);
    snprintf(text + used, sizeof text - used, " l2=%" PRId64 "KiB", hc_l2_cache_bytes() / 1024);
    memcpy(report, text, sizeof report);
    atomic_store_explicit(&ready, 1, memory_order_release);
    return report;
}

static atomic_int default_num_threads; /* 0 until first asked or set */

int32_t hc_default_num_threads(void) {
    int value = atomic_load(&default_num_threads);
    if (value > 0) return value;
    value = omp_get_num_procs();
    return value > 0 ? value : 1;
}

/* Upper bound that keeps a typo (or a negative number cast to unsigned) from asking OpenMP for
 * millions of threads. */
#define HC_MAX_THREADS 1024

hc_status hc_set_default_num_threads(int32_t num_threads) {
    hc_clear_error();
    if (num_threads < 1 || num_threads > HC_MAX_THREADS)
        return hc_fail(HC_STATUS_INVALID_ARGUMENT,
                       "num_threads must be between 1 and %d, got %" PRId32, HC_MAX_THREADS, num_threads);
    atomic_store(&default_num_threads, num_threads);
    return HC_STATUS_OK;
}

bool hc_resolve_num_threads(const hc_plan_options* options, int32_t* num_threads) {
    int32_t requested = options != NULL ? options->num_threads : 0;
    if (requested < 0 || requested > HC_MAX_THREADS) {
        hc_fail(HC_STATUS_INVALID_ARGUMENT,
                "options->num_threads must be between 0 (default) and %d, got %" PRId32,
                HC_MAX_THREADS, requested);
        return false;
    }
    *num_threads = requested > 0 ? requested : hc_default_num_threads();
    return true;
}
