/* Runs in: every child, once, before it serves. */
#define _GNU_SOURCE
#include "common/sandbox.h"

#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <ucontext.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/log.h"

/* A failed step: fatal in strict mode, a warning in best-effort mode. */
static int
step_failed(const struct config *cfg, const char *role, const char *step, int err)
{
	if (cfg->sandbox == SANDBOX_BEST_EFFORT) {
		log_msg(LOG_WARN, "sandbox_degraded", "%s: %s failed (%s); serving anyway because of "
		    "--sandbox best-effort", role, step, strerror(err));
		return 0;
	}
	log_msg(LOG_ERROR, "sandbox_failed", "%s: %s failed (%s); refusing to run unsandboxed "
	    "(pass --sandbox best-effort to allow it)", role, step, strerror(err));
	return -1;
}

static int
set_limit(int resource, rlim_t value)
{
	struct rlimit cur, want;

	if (getrlimit(resource, &cur) < 0)
		return -1;
	want.rlim_cur = want.rlim_max = value < cur.rlim_max ? value : cur.rlim_max;
	return setrlimit(resource, &want);
}

/* Root gives way to --user, with every supplementary group dropped. */
static int
drop_privileges(const struct config *cfg)
{
	if (geteuid() != 0)
		return 0;
	if (setgroups(0, NULL) < 0 || setresgid(cfg->run_gid, cfg->run_gid, cfg->run_gid) < 0 ||
	    setresuid(cfg->run_uid, cfg->run_uid, cfg->run_uid) < 0)
		return -1;
	/* Make sure there is no way back. */
	if (cfg->run_uid != 0 && (setuid(0) == 0 || geteuid() == 0)) {
		errno = EPERM;
		return -1;
	}
	return 0;
}

/*
 * SIGTERM when the supervisor dies: nobody would respawn this child, and a
 * worker would go on serving the shared listener alone.  Set after the
 * credential drop, which clears it.  The supervisor may have died before
 * this call, which then never fires: the child was reparented, so getppid()
 * no longer is the pid recorded before fork (not a test for 1: in a
 * container the supervisor itself is pid 1).
 */
static int
stop_with_supervisor(pid_t supervisor_pid)
{
	if (prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) < 0)
		return -1;
	if (getppid() == supervisor_pid)
		return 0;
	log_msg(LOG_WARN, "supervisor_gone", "the supervisor (pid %d) exited before this child "
	    "started; stopping", (int)supervisor_pid);
	return raise(SIGTERM) == 0 ? 0 : -1;
}

#ifdef MCPD_SECCOMP_DEBUG
/*
 * Debug builds only (cmake -DMCPD_SECCOMP_DEBUG=ON): a forbidden call is
 * reported on stderr and fails with ENOSYS instead of killing, so a policy
 * can be completed from one run.  Never in a release build.
 */
static void
on_sigsys(int sig, siginfo_t *info, void *uctx)
{
	char line[80];
	int n = snprintf(line, sizeof(line), "seccomp: pid %d forbidden syscall %d\n", (int)getpid(),
	    info->si_syscall);

	(void)sig;
	(void)!write(STDERR_FILENO, line, (size_t)n);
	((ucontext_t *)uctx)->uc_mcontext.gregs[REG_RAX] = -ENOSYS;
}

static uint32_t
default_action(void)
{
	struct sigaction sa = {.sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO};

	sigaction(SIGSYS, &sa, NULL);
	return SCMP_ACT_TRAP;
}
#else
static uint32_t
default_action(void)
{
	return SCMP_ACT_KILL_PROCESS;
}
#endif

/*
 * A row whose syscall this architecture does not have (SCMP_SYS gave
 * libseccomp's negative pseudo number) adds nothing to the filter, on
 * purpose: nothing can make that call here, and any number the filter does
 * not list gets the default action (kill).  Only rows the table marks as
 * existing on some architectures may be absent; an unmarked one that is
 * absent means the table is wrong for this architecture, and no filter is
 * loaded.  Returns 1 to add the row, 0 to skip it, -ENOSYS for a wrong table.
 */
static int
row_applies_here(const struct sandbox_policy *p, const struct sandbox_rule *r)
{
	if (r->syscall >= 0)
		return 1;
	if (r->arches != SANDBOX_ON_ALL)
		return 0;
	log_msg(LOG_ERROR, "sandbox_rule_failed", "%s: %s does not exist on this architecture but "
	    "its row is not marked so (SANDBOX_*_X86_64)", p->role, r->name);
	return -ENOSYS;
}

static int
load_filter(const struct sandbox_policy *p)
{
	scmp_filter_ctx ctx = seccomp_init(default_action());
	int rc = -ENOMEM;

	if (ctx == NULL)
		return -1;
	for (size_t i = 0; i < p->nrules; i++) {
		const struct sandbox_rule *r = &p->rules[i];

		rc = row_applies_here(p, r);
		if (rc == 0)
			continue;
		if (rc < 0)
			break;
		rc = r->argc ? seccomp_rule_add(ctx, r->action, r->syscall, 1, r->arg) :
		    seccomp_rule_add(ctx, r->action, r->syscall, 0);
		if (rc < 0) {
			log_msg(LOG_ERROR, "sandbox_rule_failed", "%s: cannot add %s: %s", p->role,
			    r->name, strerror(-rc));
			break;
		}
	}
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	return 0;
}

int
sandbox_enter(const struct sandbox_policy *p, const struct config *cfg, pid_t supervisor_pid)
{
	if ((set_limit(RLIMIT_CORE, 0) < 0 || set_limit(RLIMIT_NOFILE, p->max_files) < 0) &&
	    step_failed(cfg, p->role, "setting resource limits", errno) < 0)
		return -1;
	if (drop_privileges(cfg) < 0 && step_failed(cfg, p->role, "dropping privileges", errno) < 0)
		return -1;
#ifdef MCPD_SANITIZE
	/* Changing uid cleared "dumpable"; LeakSanitizer must ptrace us at exit. */
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
#endif
	/* Before the filter, so that neither prctl nor getppid needs to be allowed. */
	if (stop_with_supervisor(supervisor_pid) < 0 &&
	    step_failed(cfg, p->role, "PR_SET_PDEATHSIG", errno) < 0)
		return -1;
	/*
	 * Threads count too, so only roles without threads get this (seccomp
	 * forbids fork anyway); sanitizer builds need a thread for the leak check.
	 */
#ifndef MCPD_SANITIZE
	if (p->no_threads && set_limit(RLIMIT_NPROC, 0) < 0 &&
	    step_failed(cfg, p->role, "RLIMIT_NPROC", errno) < 0)
		return -1;
#endif
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 &&
	    step_failed(cfg, p->role, "PR_SET_NO_NEW_PRIVS", errno) < 0)
		return -1;
	if (load_filter(p) < 0 && step_failed(cfg, p->role, "loading the seccomp filter", errno) < 0)
		return -1;
	return 0;
}

size_t
sandbox_allowed_count(const struct sandbox_policy *p)
{
	size_t n = 0;

	for (size_t i = 0; i < p->nrules; i++) {
		bool seen = false;

		if (p->rules[i].action != SCMP_ACT_ALLOW)
			continue;
		for (size_t j = 0; j < i && !seen; j++)
			seen = p->rules[j].action == SCMP_ACT_ALLOW && p->rules[j].syscall == p->rules[i].syscall;
		n += !seen;
	}
	return n;
}
