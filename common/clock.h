/*
 * clock: the monotonic clock every process measures intervals with
 * (deadlines, backoff, key-set age), never the wall clock, which can jump.
 */
#ifndef MCPD_COMMON_CLOCK_H
#define MCPD_COMMON_CLOCK_H

#include <stdint.h>

/** Monotonic clock in milliseconds (CLOCK_MONOTONIC; no system call: vDSO). */
uint64_t now_ms(void);
/** The same clock in nanoseconds, for rates finer than a millisecond (per-client limits). */
uint64_t now_ns(void);

#endif
