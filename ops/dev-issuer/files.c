/*
 * mcpd-dev-issuer (development tool, never in the server): failure reporting
 * and the file system: whole-file reads, atomic replacement, mkdir -p, and
 * the file:// URLs that mcpd is given.
 *
 * Files that a verifier may read at any moment are replaced atomically
 * (written aside, then renamed), so it never sees half a document.
 */
#define _XOPEN_SOURCE 700	/* mkstemp, O_CLOEXEC under any -std */

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dev_issuer.h"

#define FILE_MAX (1024 * 1024)	/* largest document or key we read */
#define DIR_MODE 0755		/* DIR and missing parents: public documents */

/* Reports a failure: one line on stderr, by the code that knows the cause. */
int
fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

char *
path_join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);

	if (p == NULL) {
		fail("out of memory");
		return NULL;
	}
	snprintf(p, n, "%s/%s", dir, name);
	return p;
}

/* Reads a whole file (at most FILE_MAX bytes), NUL-terminated. */
char *
read_file(const char *path, size_t *lenp)
{
	char *buf = NULL;
	size_t len = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fail("cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	buf = malloc(FILE_MAX + 1);
	if (buf == NULL) {
		fail("out of memory");
		goto fail;
	}
	for (;;) {
		n = read(fd, buf + len, FILE_MAX + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fail("cannot read %s: %s", path, strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > FILE_MAX) {
			fail("%s is larger than %d bytes", path, FILE_MAX);
			goto fail;
		}
	}
	close(fd);
	buf[len] = '\0';
	if (lenp != NULL)
		*lenp = len;
	return buf;
fail:
	close(fd);
	free(buf);
	return NULL;
}

int
write_all(int fd, const char *data, size_t len, const char *path)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail("cannot write %s: %s", path, strerror(errno));
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Replaces dir/name with `data` atomically: a temporary file in the same
 * directory, fsync, rename.  A reader sees the old or the new document.
 */
int
write_file_atomic(const char *dir, const char *name, const char *data, size_t len, mode_t mode)
{
	char *path = NULL, *tmp = NULL;
	int fd = -1, rc = -1;

	if ((path = path_join(dir, name)) == NULL)
		return -1;
	if ((tmp = malloc(strlen(path) + 16)) == NULL) {
		fail("out of memory");
		goto done;
	}
	sprintf(tmp, "%s.tmp.XXXXXX", path);
	fd = mkstemp(tmp);
	if (fd < 0) {
		fail("cannot create a file in %s: %s", dir, strerror(errno));
		goto done;
	}
	if (fchmod(fd, mode) < 0) {
		fail("cannot chmod %s: %s", tmp, strerror(errno));
		goto unlink;
	}
	if (write_all(fd, data, len, tmp) < 0)
		goto unlink;
	if (fsync(fd) < 0) {
		fail("cannot sync %s: %s", tmp, strerror(errno));
		goto unlink;
	}
	if (close(fd) < 0) {
		fd = -1;
		fail("cannot write %s: %s", tmp, strerror(errno));
		goto unlink;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		fail("cannot rename %s to %s: %s", tmp, path, strerror(errno));
		goto unlink;
	}
	rc = 0;
	goto done;
unlink:
	unlink(tmp);
done:
	if (fd >= 0)
		close(fd);
	free(tmp);
	free(path);
	return rc;
}

/* mkdir -p; missing components get DIR_MODE. */
int
make_dirs(const char *dir)
{
	struct stat st;
	char *p = strdup(dir);
	int rc = -1;

	if (p == NULL)
		return fail("out of memory");
	for (char *s = p + 1;; s++) {
		char saved = *s;

		if (saved != '/' && saved != '\0')
			continue;
		*s = '\0';
		if (mkdir(p, DIR_MODE) == 0) {
			/* Our own directory: its mode, whatever the umask. */
			if (chmod(p, DIR_MODE) < 0) {
				fail("cannot chmod %s: %s", p, strerror(errno));
				goto done;
			}
		} else if (errno != EEXIST) {
			fail("cannot create directory %s: %s", p, strerror(errno));
			goto done;
		}
		*s = saved;
		if (saved == '\0')
			break;
	}
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		fail("%s is not a directory", dir);
		goto done;
	}
	rc = 0;
done:
	free(p);
	return rc;
}

/*
 * mcpd started as root fetches the discovery document as its unprivileged
 * --user (nobody by default).  Says so, once, when that user could not
 * reach DIR: every directory on the way must be searchable by others.
 */
void
note_if_hidden(const char *abs)
{
	char *p;
	struct stat st;

	if (geteuid() != 0 || (p = strdup(abs)) == NULL)
		return;
	for (char *s = p + 1;; s++) {
		char saved = *s;

		if (saved != '/' && saved != '\0')
			continue;
		*s = '\0';
		if (stat(p, &st) == 0 && (st.st_mode & S_IXOTH) == 0) {
			fprintf(stderr, PROG ": note: %s is not searchable by other users, so mcpd started "
			    "as root (its fetcher runs as --user, default nobody) cannot read %s\n", p, abs);
			break;
		}
		*s = saved;
		if (saved == '\0')
			break;
	}
	free(p);
}

/* Percent-encodes a path for a file:// URL (unreserved and '/' stay). */
char *
file_url(const char *abspath, const char *name)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(abspath), m = strlen(name);
	char *url = malloc(7 + 3 * (n + 1 + m) + 1), *o;

	if (url == NULL) {
		fail("out of memory");
		return NULL;
	}
	o = url + sprintf(url, "file://");
	for (size_t i = 0; i < n + 1 + m; i++) {
		unsigned char c = (unsigned char)(i < n ? abspath[i] : i == n ? '/' : name[i - n - 1]);

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
			*o++ = (char)c;
		} else {
			*o++ = '%';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
	}
	*o = '\0';
	return url;
}
