/* The skeleton every operation's plans share: the plan header, the algorithm contract, the
 * ordered algorithm lists keyed by (operation, direction), argument specifications and their
 * checks, weights storage, and the verbose log. An operation supplies only what is its own:
 * validating its descriptor, the arguments each direction reads and writes, its algorithms,
 * and its benchdnn text. */
#ifndef HPCCNN_CORE_PLAN_H
#define HPCCNN_CORE_PLAN_H

#include "internal.h"

#define HC_DIRECTION_COUNT 4
#define HC_ARG_KIND_COUNT 10 /* hc_arg_kind values are 1 .. HC_ARG_KIND_COUNT - 1 */
#define HC_MAX_ARGS 6

/* What a direction of an operation reads or writes under one role. */
typedef struct hc_arg_spec {
    hc_arg_kind kind;
    bool output;
    bool optional;
    bool int32;         /* elements are int32, not float */
    int64_t length;     /* elements needed */
    hc_arg_kind alias;  /* a role this one may be exactly equal to (in place), or 0 */
} hc_arg_spec;

/* The buffers of one call, by role; NULL for a role not given. */
typedef struct hc_args {
    void* at[HC_ARG_KIND_COUNT];
} hc_args;

static inline const float* hc_arg_in(const hc_args* args, hc_arg_kind kind) { return (const float*)args->at[kind]; }
static inline float* hc_arg_out(const hc_args* args, hc_arg_kind kind) { return (float*)args->at[kind]; }

struct hc_plan;

/* One entry of an (operation, direction)'s algorithm list. An algorithm is tried only when its
 * isa is allowed; `accepts` looks at the validated plan only; `pack` (may be NULL) rearranges the
 * weights into plan->packed whenever they are set; `run` may assume the arguments were checked
 * against the plan's specs, must write every output element, and must give the same bits for any
 * thread count. */
typedef struct hc_algorithm {
    const char* name;
    hc_isa isa;
    bool (*accepts)(const struct hc_plan* plan);
    hc_status (*pack)(struct hc_plan* plan);
    hc_status (*run)(const struct hc_plan* plan, const hc_args* args);
    /* Optional: runs once when chosen, before any weights (creates a plan it runs through, say). */
    hc_status (*prepare)(struct hc_plan* plan);
} hc_algorithm;

/* What an operation tells the skeleton. */
typedef struct hc_operation {
    const char* name;
    /* Per direction, a NULL-terminated list, fastest first and a portable one last; NULL for a
     * direction the operation does not have. */
    const hc_algorithm* const* algorithms[HC_DIRECTION_COUNT];
    /* benchdnn text of the problem, for the log. */
    void (*describe)(const struct hc_plan* plan, char* text, size_t size);
    /* Frees what the operation's part of the plan owns besides the skeleton's (may be NULL). */
    void (*release)(struct hc_plan* plan);
} hc_operation;

/* The header of every plan; an operation's plan struct starts with it, so a pointer to either
 * converts to the other. */
typedef struct hc_plan {
    const hc_operation* operation;
    hc_direction direction;
    hc_isa isa;          /* the best instruction set the plan may use */
    int32_t num_threads;
    const hc_algorithm* algorithm;
    hc_arg_spec args[HC_MAX_ARGS];
    int32_t arg_count;
    /* Weights, for plans that use them (weights_length > 0): the plan's own copies (bias NULL
     * for none) and the algorithm's packing of them. */
    int64_t weights_length, bias_length;
    bool weights_set;
    float* weights;
    float* bias;
    float* packed;
    size_t packed_bytes;
    char text[192];
    /* A plan this one runs its work through (prepare sets it; owned by the operation), whose
     * algorithm the info and log name after this one's: "as_forward:gemm_implicit_8x32_avx512". */
    const struct hc_plan* delegate;
    char algorithm_name[96];
    hc_isa algorithm_isa;
} hc_plan;

/* Starts a plan: checks the direction against the operation's lists and resolves threads and
 * instruction set. The operation then adds its argument specs and calls hc_plan_finish. */
hc_status hc_plan_begin(hc_plan* plan, const hc_operation* operation, hc_direction direction, const hc_plan_options* options);

/* Adds an argument spec. */
void hc_plan_add_arg(hc_plan* plan, hc_arg_kind kind, bool output, bool optional, int64_t length);
/* The spec of a role, or NULL. */
hc_arg_spec* hc_plan_arg(hc_plan* plan, hc_arg_kind kind);

/* Chooses the first accepting algorithm of the plan's list, describes the problem, stores the
 * weights if given (weights_length must be set first for operations that use weights), and logs
 * the creation. On failure the caller destroys the plan. */
hc_status hc_plan_finish(hc_plan* plan, const float* weights, int64_t weights_length, const float* bias, int64_t bias_length,
                         double start_ms);

/* The packed buffer of at least `bytes` (64-byte aligned), allocated once: repacking new
 * weights of the same problem reuses it. */
float* hc_plan_packed(hc_plan* plan, size_t bytes);

/* An algorithm's `accepts` for one that takes every problem (the portable last entry of a list). */
bool hc_plan_accepts_any(const hc_plan* plan);

/* Checks a fused or standalone activation for a plan of `direction`: a known value, a finite
 * LeakyReLU slope (named alpha_name in the message), and for the backward passes, which read the
 * output's sign, a slope of at least 0. */
bool hc_check_activation(hc_activation activation, float alpha, hc_direction direction, const char* alpha_name);

/* Runs another plan's algorithm on the given buffers, without checks (for composed plans). */
static inline hc_status hc_plan_run_unchecked(const hc_plan* plan, const hc_args* args) { return plan->algorithm->run(plan, args); }

/* Name of a direction as benchdnn writes it. */
const char* hc_direction_name(hc_direction direction);

#endif
