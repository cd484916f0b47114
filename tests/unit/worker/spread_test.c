/*
 * Unit tests for worker/spread.c: when a worker leaves a waiting connection
 * to a peer, and when it stops waiting for a peer that takes nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "worker/spread.h"

/* Three worker slots, each with its two blocks; we are slot 0's first. */
static union counters_block blocks[6];
#define ME (&blocks[0].worker)

static void
peer(int i, bool accepting, uint64_t open)
{
	blocks[i].worker.gate.accepting = accepting;
	blocks[i].worker.gate.open_connections = open;
}

static int
setup(void **state)
{
	(void)state;
	memset(blocks, 0, sizeof(blocks));
	ME->gate.accepting = 1;
	spread_init(blocks, 6, ME);
	return 0;
}

static void
alone_it_always_accepts(void **state)
{
	(void)state;
	ME->gate.open_connections = 1000;
	assert_false(spread_should_yield(10));
}

static void
yields_only_to_a_peer_more_than_the_slack_behind(void **state)
{
	(void)state;
	peer(2, true, 5);
	ME->gate.open_connections = 5 + SPREAD_SLACK;
	assert_false(spread_should_yield(10));
	ME->gate.open_connections = 6 + SPREAD_SLACK;
	assert_true(spread_should_yield(10));
}

static void
ignores_peers_that_do_not_accept(void **state)
{
	(void)state;
	peer(2, false, 0);	/* draining, dead or out of descriptors */
	peer(4, true, 9);
	ME->gate.open_connections = 10;
	assert_false(spread_should_yield(10));
}

/* During a reload the slot's other block is the successor: a peer like any other. */
static void
a_reload_partner_is_a_peer(void **state)
{
	(void)state;
	ME->gate.open_connections = 50;
	peer(1, true, 0);
	assert_true(spread_should_yield(10));
}

static void
takes_it_when_the_peer_took_nothing_meanwhile(void **state)
{
	(void)state;
	peer(2, true, 0);
	ME->gate.open_connections = 5;
	assert_true(spread_should_yield(100));
	/* One pause later the peer has accepted nothing: it is busy or stuck. */
	assert_false(spread_should_yield(100 + SPREAD_PAUSE_MS));
}

static void
keeps_yielding_while_the_peer_takes_connections(void **state)
{
	(void)state;
	peer(2, true, 0);
	ME->gate.open_connections = 5;
	assert_true(spread_should_yield(100));
	blocks[2].worker.gate.accepted++;
	blocks[2].worker.gate.open_connections++;
	assert_true(spread_should_yield(101));
	blocks[2].worker.gate.accepted++;
	blocks[2].worker.gate.open_connections++;
	assert_true(spread_should_yield(102));
	/* ... and once it is within the slack, this worker takes its turn. */
	blocks[2].worker.gate.open_connections = 4;
	assert_false(spread_should_yield(103));
}

/* A yield long ago says nothing about the peer now. */
static void
an_old_yield_does_not_count(void **state)
{
	(void)state;
	peer(2, true, 0);
	ME->gate.open_connections = 5;
	assert_true(spread_should_yield(100));
	assert_true(spread_should_yield(100 + 10 * SPREAD_PAUSE_MS));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(alone_it_always_accepts, setup),
		cmocka_unit_test_setup(yields_only_to_a_peer_more_than_the_slack_behind, setup),
		cmocka_unit_test_setup(ignores_peers_that_do_not_accept, setup),
		cmocka_unit_test_setup(a_reload_partner_is_a_peer, setup),
		cmocka_unit_test_setup(takes_it_when_the_peer_took_nothing_meanwhile, setup),
		cmocka_unit_test_setup(keeps_yielding_while_the_peer_takes_connections, setup),
		cmocka_unit_test_setup(an_old_yield_does_not_count, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
