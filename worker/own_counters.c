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

void
egress_counted(size_t tool_index, enum egress_wire_outcome outcome, uint64_t duration_us)
{
	struct counters_egress *e = &own_counters->egress;

	if (tool_index > COUNTERS_MAX_TOOLS)
		tool_index = COUNTERS_MAX_TOOLS;
	/* The enum may hold any number a bug put there: it indexes nothing unchecked. */
	if ((unsigned)outcome >= EGRESS_WIRE_OUTCOME_COUNT)
		outcome = EGRESS_WIRE_OUTCOME_INTERNAL;
	counter_add(&e->requests[tool_index][outcome], 1);
	counter_add(&e->duration_bucket[counters_egress_bucket_of(duration_us)], 1);
	counter_add(&e->duration_sum_us, duration_us);
}
