/*
 * aws_env: the AWS_* environment variables, taken out of the process's
 * environment before the supervisor forks anything.
 *
 * Credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 * AWS_SESSION_TOKEN) are meant for the egress process alone: a worker runs
 * tools, and a tool must never read them.  unsetenv is not enough:
 * /proc/<pid>/environ reads the environment block the kernel placed at
 * exec, which unsetenv leaves as it was and every forked child inherits.
 * So aws_env_take copies each AWS_* variable into a sealed memfd,
 * overwrites the variable's bytes where they lie (the block included) with
 * zeros, drops it from environ, and wipes its own copies: after it, the
 * supervisor's memory (which every child inherits at fork) holds no AWS
 * value, and only a process given the memfd can read them (aws_env_load).
 * Every other AWS_* setting (AWS_REGION, AWS_ENDPOINT_URL_<SERVICE>,
 * AWS_EC2_METADATA_*) is taken the same way, so that no AWS variable at all
 * is readable in a worker.
 */
#ifndef MCPD_COMMON_AWS_ENV_H
#define MCPD_COMMON_AWS_ENV_H

#include <stddef.h>

#define AWS_ENV_MAX 64

struct aws_env {
	size_t count;
	char *names[AWS_ENV_MAX];
	char *values[AWS_ENV_MAX];
};

/**
 * Takes every AWS_* variable out of `environ` into a new sealed memfd
 * (close-on-exec) as NAME=VALUE entries, each ending in a NUL (see above).
 * Returns the memfd, or -1 with what is wrong in err (more than AWS_ENV_MAX
 * such variables, no memory, the memfd refused); the environment is then
 * left unchanged.  `taken` (may be NULL) gets how many were taken.
 */
int aws_env_take(size_t *taken, char *err, size_t errlen);
/**
 * Reads the variables aws_env_take sealed in `fd` into `out`.  Returns 0, or
 * -1 with what is wrong in err.  Free with aws_env_free.
 */
int aws_env_load(int fd, struct aws_env *out, char *err, size_t errlen);
/** The value of `name` as taken, or NULL. */
const char *aws_env_get(const struct aws_env *env, const char *name);
/**
 * Copies the region of the sealed variables in `fd` (AWS_REGION, else
 * AWS_DEFAULT_REGION, as the SDKs read them) into region[0..len): "" when
 * neither is set.  Returns 0, or -1 with what is wrong in err (the memfd
 * unreadable, or a value that is no region: 1 to 31 of [a-z0-9-]).
 */
int aws_env_region(int fd, char *region, size_t len, char *err, size_t errlen);
/** Wipes and frees what aws_env_take copied. */
void aws_env_free(struct aws_env *env);

#endif
