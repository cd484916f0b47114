/* Runs in: the supervisor, unsandboxed. See limits.h. */
#include "supervisor/limits.h"

#include <sys/mman.h>
#include <unistd.h>

#include "common/client_limits.h"
#include "common/counters.h"
#include "common/log.h"

static struct client_limits *table;
static int table_columns;

int
limits_create(const struct config *cfg, int *fd)
{
	*fd = -1;
	if (!client_limits_wanted(cfg))
		return 0;
	/* One column per worker counters block: a worker's column follows its block. */
	table_columns = 2 * cfg->workers;
	*fd = client_limits_create(table_columns);
	if (*fd < 0) {
		log_errno("client_limits_failed", "cannot create the shared per-client limits table");
		return -1;
	}
	table = client_limits_map(*fd, table_columns);
	if (table == NULL) {
		log_errno("client_limits_failed", "cannot map the shared per-client limits table");
		return -1;
	}
	/* Workers map it themselves; the fetcher, the metrics process and the egress must not have it. */
	if (madvise(table, client_limits_size(table_columns), MADV_DONTFORK) < 0) {
		log_errno("client_limits_failed", "cannot keep the per-client limits table from children");
		return -1;
	}
	return 0;
}

void
limits_worker_gone(const struct proc *worker)
{
	struct logline line;
	uint64_t held;

	if (table == NULL)
		return;
	held = client_limits_reclaim(table, table_columns,
	    (uint32_t)(worker->counters_block - COUNTERS_WORKER_BLOCK(0, 0)));
	if (held == 0)
		return;
	/* Its requests died with it: they must not hold their clients' --client-concurrency for good. */
	logline_begin(&line, LOG_INFO, "client_limits_reclaimed");
	logline_int(&line, "slot", worker->slot);
	logline_int(&line, "child_pid", worker->pid);
	logline_int(&line, "in_flight", (long long)held);
	logline_emit(&line);
}

void
limits_destroy(int fd)
{
	client_limits_unmap(table, table_columns);
	table = NULL;
	if (fd >= 0)
		close(fd);
}
