// clock.h — monotonic wall time in seconds.
#pragma once
#include <time.h>

static inline double slm_now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
