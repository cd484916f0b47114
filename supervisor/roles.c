/* Runs in: the supervisor, before each fork: what a child is given. */
#include "supervisor/roles.h"

#include "egress/egress.h"
#include "fetcher/fetcher.h"
#include "metrics/metrics_process.h"
#include "supervisor/egress_links.h"
#include "worker/worker.h"

const struct role worker_role = {"worker", worker_main};
const struct role fetcher_role = {"fetcher", fetcher_main};
const struct role metrics_role = {"metrics", metrics_main};
const struct role egress_role = {"egress", egress_main};

/*
 * The listener and the per-client limits table go to workers, the metrics
 * listener and the tool labels to the metrics process, the key set to
 * workers and the fetcher.  The egress
 * gets no listener, key set or counters (it counts nothing), and only it
 * gets the AWS variables and the tools' declared destinations.
 */
struct child_args
role_args(const struct child_args *all, const struct role *role)
{
	struct child_args args = *all;

	if (role != &worker_role)
		args.listen_fd = args.client_limits_fd = -1;
	if (role != &metrics_role) {
		args.metrics_fd = -1;
		args.tools = NULL;
	}
	if (role == &metrics_role || role == &egress_role)
		args.keyset_fd = args.refresh_fd = -1;
	if (role == &egress_role) {
		args.counters_fd = -1;
	} else {
		args.aws_env_fd = -1;
		args.egress_tools = NULL;
	}
	args.egress_control_fd = args.egress_link_fd = -1;
	return args;
}

enum counters_role
role_counted(const struct role *role)
{
	if (role == &worker_role)
		return ROLE_WORKER;
	if (role == &fetcher_role)
		return ROLE_FETCHER;
	return role == &egress_role ? ROLE_EGRESS : ROLE_METRICS;
}

int
role_open_egress_channel(const struct role *role, bool has_egress, struct child_args *args,
    int *supervisor_end)
{
	int ends[2];

	*supervisor_end = -1;
	if (role != &egress_role && (role != &worker_role || !has_egress))
		return 0;
	if (egress_channel_open(ends) < 0)
		return -1;
	*supervisor_end = ends[0];
	if (role == &egress_role)
		args->egress_control_fd = ends[1];
	else
		args->egress_link_fd = ends[1];
	return 0;
}
