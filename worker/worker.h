/*
 * worker: the life of one worker process.  Inherits the listening socket,
 * builds its own h2o event loop, serves until told to stop, then drains.
 */
#ifndef MCPD_WORKER_WORKER_H
#define MCPD_WORKER_WORKER_H

#include "common/child.h"

/** Entry point of a forked worker; returns its exit status. */
int worker_main(const struct child_args *args);

#endif
