/* Runs in: the supervisor (the process the container starts). */
/*
 * mcpd: the container entrypoint.  Reads flags and MCPD_* variables, binds
 * the listening sockets once and hands them to the supervisor.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/aws_env.h"
#include "common/config.h"
#include "common/log.h"
#include "worker/worker.h"
#include "supervisor/egress_check.h"
#include "supervisor/listener.h"
#include "supervisor/supervisor.h"

int
main(int argc, char **argv)
{
	static struct config cfg;
	struct logline line;
	char err[1024];
	struct listeners listeners = {.mcp_fd = -1, .metrics_fd = -1};
	uint16_t port, metrics_port = 0;
	size_t aws_taken = 0;
	int status, aws_env_fd;

	/*
	 * First, before anything can fork: no AWS variable may reach a worker,
	 * not even through /proc/<pid>/environ (common/aws_env.h).  The sealed
	 * copy is for the egress process alone.
	 */
	aws_env_fd = aws_env_take(&aws_taken, err, sizeof(err));
	if (aws_env_fd < 0) {
		fprintf(stderr, "mcpd: %s\n", err);
		return 2;
	}
	if (config_load(&cfg, argc, argv, err, sizeof(err)) < 0) {
		fprintf(stderr, "mcpd: %s\n", err);
		return 2;
	}
	if (cfg.show_help) {
		config_print_usage(argv[0]);
		return 0;
	}
	if (cfg.show_version) {
		printf("mcpd %s\n", MCPD_VERSION);
		return 0;
	}
	/* The region is no secret: workers get it with the configuration, for mcpd_aws_region. */
	if (aws_env_region(aws_env_fd, cfg.aws_region, sizeof(cfg.aws_region), err, sizeof(err)) < 0) {
		fprintf(stderr, "mcpd: %s\n", err);
		return 2;
	}
	if (config_resolve_user(&cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "mcpd: %s\n", err);
		return 2;
	}
	if (worker_check_tools(err, sizeof(err)) < 0 || egress_check_config(&cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "mcpd: %s\n", err);
		return 2;
	}
	log_init("supervisor", cfg.log_level);
	if (aws_taken > 0)
		log_msg(LOG_INFO, "aws_env_taken", "%zu AWS_* variables taken out of the environment: "
		    "no worker can read them", aws_taken);
	egress_check_warn_unused(&cfg);
	if (cfg.auth == AUTH_NONE)
		log_msg(LOG_WARN, "auth_disabled",
		    "--auth none: tokens are NOT verified; /mcp serves anyone who can reach it. "
		    "Use it only on loopback or behind an authorizer such as AgentCore's");
	listeners.mcp_fd = listener_open(cfg.host, cfg.port, "--port", &port, err, sizeof(err));
	if (listeners.mcp_fd >= 0 && cfg.metrics_listen)
		listeners.metrics_fd = listener_open(cfg.metrics_host, cfg.metrics_port,
		    "--metrics-listen", &metrics_port, err, sizeof(err));
	if (listeners.mcp_fd < 0 || (cfg.metrics_listen && listeners.metrics_fd < 0)) {
		fprintf(stderr, "mcpd: %s\n", err);
		log_msg(LOG_ERROR, "listen_failed", "%s", err);
		return 1;
	}
	logline_begin(&line, LOG_INFO, "listening");
	logline_str(&line, "host", cfg.host);
	logline_int(&line, "port", port);
	if (cfg.metrics_listen) {
		logline_str(&line, "metrics_host", cfg.metrics_host);
		logline_int(&line, "metrics_port", metrics_port);
	}
	logline_int(&line, "workers", cfg.workers);
	logline_str(&line, "version", MCPD_VERSION);
	logline_emit(&line);
	status = supervisor_run(&cfg, &listeners, aws_env_fd);
	config_free(&cfg);
	close(aws_env_fd);
	return status;
}
