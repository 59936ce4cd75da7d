/* Aligned allocation and the per-thread scratch buffers kernels pack into. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdlib.h>

#include "internal.h"

#define HC_ALIGNMENT 64

void* hc_aligned_alloc(size_t bytes) {
    size_t rounded = (bytes + HC_ALIGNMENT - 1) / HC_ALIGNMENT * HC_ALIGNMENT;
    return aligned_alloc(HC_ALIGNMENT, rounded == 0 ? HC_ALIGNMENT : rounded);
}

void hc_aligned_free(void* pointer) { free(pointer); }

/* Growing buffers per thread, freed when the thread exits. A plan may run on several threads at
 * once, so scratch space cannot live in the plan; steady-state runs allocate nothing. Slot 0 is
 * the kernels' workspace; slot 1 holds what an operation keeps across the kernels it calls on the
 * calling thread (which takes part in those kernels and uses its slot 0 there); slot 2 a matrix
 * it builds for the GEMM driver while slot 1 is in use. */
#define SLOTS 3

typedef struct workspace {
    void* data[SLOTS];
    size_t bytes[SLOTS];
} workspace;

static pthread_key_t workspace_key;
static pthread_once_t workspace_once = PTHREAD_ONCE_INIT;

static void free_workspace(void* pointer) {
    workspace* w = pointer;
    for (int slot = 0; slot < SLOTS; slot++) hc_aligned_free(w->data[slot]);
    free(w);
}

static void create_workspace_key(void) { pthread_key_create(&workspace_key, free_workspace); }

static void* thread_buffer(int slot, size_t bytes) {
    pthread_once(&workspace_once, create_workspace_key);
    workspace* w = pthread_getspecific(workspace_key);
    if (w == NULL) {
        w = calloc(1, sizeof *w);
        if (w == NULL || pthread_setspecific(workspace_key, w) != 0) {
            free(w);
            return NULL;
        }
    }
    if (w->bytes[slot] < bytes) {
        void* grown = hc_aligned_alloc(bytes);
        if (grown == NULL) return NULL;
        hc_aligned_free(w->data[slot]);
        w->data[slot] = grown;
        w->bytes[slot] = bytes;
    }
    return w->data[slot];
}

void* hc_thread_workspace(size_t bytes) { return thread_buffer(0, bytes); }

void* hc_thread_scratch(size_t bytes) { return thread_buffer(1, bytes); }

void* hc_thread_columns(size_t bytes) { return thread_buffer(2, bytes); }
