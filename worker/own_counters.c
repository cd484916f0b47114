/* Runs in: workers (the block is attached before the sandbox). See own_counters.h. */
#include "worker/own_counters.h"

static struct worker_counters private_block;

struct worker_counters *count = &private_block;

void
count_attach(struct worker_counters *block)
{
	/* A dead predecessor's connections died with it. */
	counter_set(&block->gate.open_connections, 0);
	count = block;
}

void
count_detach(void)
{
	count = &private_block;
}
