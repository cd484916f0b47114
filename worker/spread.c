/* Runs in: workers, on each wake-up of the listening socket. See spread.h. */
#include "worker/spread.h"

static struct {
	const union counters_block *peers;
	size_t n;
	const struct worker_counters *mine;
	bool yielding;		/* the last decision was to yield */
	uint64_t yield_since_ms;
	uint64_t peers_accepted_then;	/* the peers' accepted total when we yielded */
} spread;

void
spread_init(const union counters_block *blocks, size_t n, const struct worker_counters *mine)
{
	spread.peers = blocks;
	spread.n = n;
	spread.mine = mine;
	spread.yielding = false;
}

/* The fewest open connections of an accepting peer (UINT64_MAX: none accepts), and their accepted total. */
static uint64_t
fewest_open_of_peers(uint64_t *accepted)
{
	uint64_t fewest = UINT64_MAX;

	*accepted = 0;
	for (size_t i = 0; i < spread.n; i++) {
		const struct counters_gate *g = &spread.peers[i].worker.gate;
		uint64_t open;

		if (&spread.peers[i].worker == spread.mine || !__atomic_load_n(&g->accepting, __ATOMIC_RELAXED))
			continue;
		open = counter_get(&g->open_connections);
		if (open < fewest)
			fewest = open;
		*accepted += counter_get(&g->accepted);
	}
	return fewest;
}

bool
spread_should_yield(uint64_t now_ms)
{
	uint64_t accepted, fewest = fewest_open_of_peers(&accepted);
	uint64_t mine = counter_get(&spread.mine->gate.open_connections);
	bool recent = spread.yielding && now_ms - spread.yield_since_ms <= 2 * SPREAD_PAUSE_MS;

	if (fewest == UINT64_MAX || mine <= fewest + SPREAD_SLACK) {
		spread.yielding = false;
		return false;
	}
	/* We yielded a moment ago and no peer has taken anything since: take it. */
	if (recent && accepted == spread.peers_accepted_then) {
		spread.yielding = false;
		return false;
	}
	spread.yielding = true;
	spread.yield_since_ms = now_ms;
	spread.peers_accepted_then = accepted;
	return true;
}
