/* Status names and the thread-local last-error message. */
#include <stdarg.h>
#include <stdio.h>

#include "internal.h"

static _Thread_local char last_error[512];

const char* hc_status_string(hc_status status) {
    switch (status) {
    case HC_STATUS_OK: return "ok";
    case HC_STATUS_INVALID_ARGUMENT: return "invalid argument";
    case HC_STATUS_UNSUPPORTED: return "unsupported";
    case HC_STATUS_OUT_OF_MEMORY: return "out of memory";
    case HC_STATUS_INTERNAL: return "internal error";
    }
    return "unknown status";
}

const char* hc_last_error(void) { return last_error; }

void hc_clear_error(void) { last_error[0] = '\0'; }

hc_status hc_fail(hc_status status, const char* format, ...) {
    va_list args;
    va_start(args, format);
    vsnprintf(last_error, sizeof last_error, format, args);
    va_end(args);
    return status;
}
