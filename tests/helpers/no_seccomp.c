/*
 * no-seccomp (tests only): runs a command in a process where installing a
 * seccomp filter fails with ENOSYS, as under qemu-user or a container
 * runtime that forbids it.  Everything else is allowed.
 *
 *     no-seccomp COMMAND [ARG...]
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <seccomp.h>

int
main(int argc, char **argv)
{
	scmp_filter_ctx ctx;
	int rc;

	if (argc < 2) {
		fprintf(stderr, "usage: no-seccomp COMMAND [ARG...]\n");
		return 2;
	}
	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (ctx == NULL) {
		fprintf(stderr, "no-seccomp: seccomp_init failed\n");
		return 1;
	}
	rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(seccomp), 0);
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(prctl), 1,
		    SCMP_A0(SCMP_CMP_EQ, PR_SET_SECCOMP));
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc != 0) {
		fprintf(stderr, "no-seccomp: cannot install the filter: %s\n", strerror(-rc));
		return 1;
	}
	execvp(argv[1], argv + 1);
	fprintf(stderr, "no-seccomp: cannot run %s: %s\n", argv[1], strerror(errno));
	return 127;
}
