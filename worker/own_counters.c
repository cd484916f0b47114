/* Runs in: workers (the block is attached before the sandbox). See own_counters.h. */
#include "worker/own_counters.h"

static struct worker_counters private_block;

struct worker_counters *own_counters = &private_block;

void
own_counters_attach(struct worker_counters *block)
{
	/* A dead predecessor's connections died with it. */
	counter_set(&block->gate.open_connections, 0);
	own_counters = block;
}

void
own_counters_detach(void)
{
	own_counters = &private_block;
}
