/* CPU dispatch: which instruction set plans may use, and the HPCCNN_VERBOSE log. Both are read
 * from the environment once, on first use, and never change afterwards. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

static pthread_once_t dispatch_once = PTHREAD_ONCE_INIT;
static hc_isa best_isa = HC_ISA_GENERIC;
static bool verbose;
static int64_t l2_bytes;

/* The per-core L2 size from the C library (CPUID on x86), else 1 MiB: the size blockings aim at. */
static int64_t detect_l2_bytes(void) {
#ifdef _SC_LEVEL2_CACHE_SIZE
    const long bytes = sysconf(_SC_LEVEL2_CACHE_SIZE);
    if (bytes >= 64 * 1024 && bytes <= 64L * 1024 * 1024) return bytes;
#endif
    return 1024 * 1024;
}

static hc_isa detect_cpu_isa(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    /* libgcc's checks include the OS's XSAVE support for the ymm state. */
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        return __builtin_cpu_supports("avx512f") ? HC_ISA_AVX512 : HC_ISA_AVX2;
    }
#endif
    return HC_ISA_GENERIC;
}

static void init_dispatch(void) {
    const char* verbose_env = getenv("HPCCNN_VERBOSE");
    verbose = verbose_env != NULL && verbose_env[0] != '\0' && strcmp(verbose_env, "0") != 0;
    best_isa = detect_cpu_isa();
    l2_bytes = detect_l2_bytes();
    const char* cap = getenv("HPCCNN_MAX_ISA");
    if (cap == NULL || cap[0] == '\0') return;
    if (strcmp(cap, "generic") == 0) {
        best_isa = HC_ISA_GENERIC;
    } else if (strcmp(cap, "avx2") == 0) {
        if (best_isa > HC_ISA_AVX2) best_isa = HC_ISA_AVX2;
    } else if (strcmp(cap, "avx512") == 0) {
        if (best_isa > HC_ISA_AVX512) best_isa = HC_ISA_AVX512;
    } else {
        fprintf(stderr, "hpccnn: ignoring HPCCNN_MAX_ISA=%s (expected generic, avx2 or avx512)\n", cap);
    }
}

hc_isa hc_best_isa(void) {
    pthread_once(&dispatch_once, init_dispatch);
    return best_isa;
}

int64_t hc_l2_cache_bytes(void) {
    pthread_once(&dispatch_once, init_dispatch);
    return l2_bytes;
}

const char* hc_isa_string(hc_isa isa) {
    switch (isa) {
    case HC_ISA_AUTO: return "auto";
    case HC_ISA_GENERIC: return "generic";
    case HC_ISA_AVX2: return "avx2";
    case HC_ISA_AVX512: return "avx512";
    }
    return "unknown";
}

bool hc_resolve_isa(const hc_plan_options* options, hc_isa* isa) {
    hc_isa requested = options != NULL ? options->max_isa : HC_ISA_AUTO;
    if (requested < HC_ISA_AUTO || requested > HC_ISA_AVX512) {
        hc_fail(HC_STATUS_INVALID_ARGUMENT, "options->max_isa has unknown value %d", (int)requested);
        return false;
    }
    hc_isa best = hc_best_isa();
    *isa = requested != HC_ISA_AUTO && requested < best ? requested : best;
    return true;
}

bool hc_verbose(void) {
    pthread_once(&dispatch_once, init_dispatch);
    return verbose;
}

void hc_log(const char* format, ...) {
    char line[512];
    va_list args;
    va_start(args, format);
    vsnprintf(line, sizeof line, format, args);
    va_end(args);
    fprintf(stderr, "hpccnn: %s\n", line); /* one call per line, so lines from threads do not interleave */
}

double hc_now_ms(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec * 1e3 + (double)now.tv_nsec * 1e-6;
}
