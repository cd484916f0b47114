/* Runs in: the supervisor, before it forks anything; the egress process. See aws_env.h. */
#define _GNU_SOURCE	/* memfd_create */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "common/aws_env.h"
#include "common/fail.h"

extern char **environ;

/* The most the sealed file may hold: AWS_ENV_MAX entries of a page each is plenty. */
#define AWS_ENV_FILE_MAX (AWS_ENV_MAX * 4096)

static int
is_aws(const char *entry)
{
	return strncmp(entry, "AWS_", 4) == 0 && strchr(entry, '=') != NULL;
}

/* Writes every AWS_* entry, NUL-terminated, to `fd`; touches nothing of the environment. */
static int
write_all(int fd, size_t *taken, char *err, size_t errlen)
{
	size_t n = 0, total = 0;

	for (char **e = environ; *e != NULL; e++) {
		size_t len;

		if (!is_aws(*e))
			continue;
		len = strlen(*e) + 1;
		if (++n > AWS_ENV_MAX || (total += len) > AWS_ENV_FILE_MAX)
			return fail_because(err, errlen, "more than %d AWS_* environment variables, or more than "
			    "%d bytes of them", AWS_ENV_MAX, AWS_ENV_FILE_MAX);
		for (size_t off = 0; off < len;) {
			ssize_t w = write(fd, *e + off, len - off);

			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return fail_because(err, errlen, "cannot keep the AWS_* variables: write: %s",
				    strerror(errno));
			off += (size_t)w;
		}
	}
	*taken = n;
	return 0;
}

/* Zeroes each AWS_* entry where it lies and closes the gaps in environ. */
static void
erase_all(void)
{
	char **kept = environ;

	for (char **e = environ; *e != NULL; e++) {
		if (is_aws(*e))
			sodium_memzero(*e, strlen(*e));
		else
			*kept++ = *e;
	}
	*kept = NULL;
}

int
aws_env_take(size_t *taken, char *err, size_t errlen)
{
	size_t n = 0;
	int fd = memfd_create("mcpd-aws-env", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0)
		return fail_because(err, errlen, "cannot keep the AWS_* variables: memfd_create: %s",
		    strerror(errno));
	if (write_all(fd, &n, err, errlen) < 0) {
		close(fd);
		return -1;
	}
	/* Sealed, nobody given the fd can change what the egress will read. */
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) {
		fail_because(err, errlen, "cannot seal the AWS_* variables: %s", strerror(errno));
		close(fd);
		return -1;
	}
	erase_all();
	if (taken != NULL)
		*taken = n;
	return fd;
}

/* Splits the file's NAME=VALUE entries into `out`. */
static int
parse(const char *data, size_t size, struct aws_env *out, char *err, size_t errlen)
{
	for (size_t off = 0; off < size;) {
		const char *entry = data + off, *end = memchr(entry, '\0', size - off), *eq;

		if (end == NULL || (eq = memchr(entry, '=', (size_t)(end - entry))) == NULL ||
		    strncmp(entry, "AWS_", 4) != 0 || out->count == AWS_ENV_MAX)
			return fail_because(err, errlen, "the AWS_* variables' file is damaged at byte %zu", off);
		out->names[out->count] = strndup(entry, (size_t)(eq - entry));
		out->values[out->count] = strdup(eq + 1);
		out->count++;
		if (out->names[out->count - 1] == NULL || out->values[out->count - 1] == NULL)
			return fail_because(err, errlen, "out of memory reading the AWS_* variables");
		off = (size_t)(end - data) + 1;
	}
	return 0;
}

int
aws_env_load(int fd, struct aws_env *out, char *err, size_t errlen)
{
	struct stat st;
	void *map;
	int rc;

	memset(out, 0, sizeof(*out));
	if (fstat(fd, &st) < 0)
		return fail_because(err, errlen, "cannot read the AWS_* variables: fstat: %s", strerror(errno));
	if (st.st_size == 0)
		return 0;
	if (st.st_size > AWS_ENV_FILE_MAX)
		return fail_because(err, errlen, "the AWS_* variables' file is %lld bytes, over %d",
		    (long long)st.st_size, AWS_ENV_FILE_MAX);
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED)
		return fail_because(err, errlen, "cannot read the AWS_* variables: mmap: %s", strerror(errno));
	rc = parse(map, (size_t)st.st_size, out, err, errlen);
	munmap(map, (size_t)st.st_size);
	if (rc < 0)
		aws_env_free(out);
	return rc;
}

const char *
aws_env_get(const struct aws_env *env, const char *name)
{
	for (size_t i = 0; i < env->count; i++)
		if (strcmp(env->names[i], name) == 0)
			return env->values[i];
	return NULL;
}

/* A region as AWS names them (us-east-1, eu-central-2, us-gov-west-1): no URL can be bent by it. */
static bool
region_valid(const char *r)
{
	size_t n = strlen(r);

	if (n == 0 || n > 31)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((r[i] >= 'a' && r[i] <= 'z') || (r[i] >= '0' && r[i] <= '9') || r[i] == '-'))
			return false;
	return true;
}

int
aws_env_region(int fd, char *region, size_t len, char *err, size_t errlen)
{
	struct aws_env env;
	const char *name = "AWS_REGION", *value;
	int rc = 0;

	region[0] = '\0';
	if (fd < 0)
		return 0;
	if (aws_env_load(fd, &env, err, errlen) < 0)
		return -1;
	value = aws_env_get(&env, name);
	if (value == NULL || value[0] == '\0')
		value = aws_env_get(&env, name = "AWS_DEFAULT_REGION");
	if (value != NULL && value[0] != '\0') {
		if (region_valid(value) && strlen(value) < len) {
			snprintf(region, len, "%s", value);
		} else {
			snprintf(err, errlen, "%s is not an AWS region (1 to 31 of a-z, 0-9 and -, e.g. us-east-1)",
			    name);
			rc = -1;
		}
	}
	aws_env_free(&env);
	return rc;
}

void
aws_env_free(struct aws_env *env)
{
	for (size_t i = 0; i < env->count; i++) {
		if (env->values[i] != NULL)
			sodium_memzero(env->values[i], strlen(env->values[i]));
		free(env->names[i]);
		free(env->values[i]);
	}
	memset(env, 0, sizeof(*env));
}
