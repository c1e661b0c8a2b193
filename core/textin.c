/* Profiles read from text (perf script output, folded stacks), plain or gzip, file or stdin. */
#include "textin.h"
#include "log.h"
#include "session.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define CHUNK (1U << 20)
#define PROGRESS_NS 500000000ULL

/* "\rfold: 45% of 270 MB", for a terminal; @done true clears the line. */
static void progress(const char *what, gzFile gz, off_t size, bool done)
{
	static uint64_t last;
	uint64_t now = session__now();
	off_t at;

	if (done) {
		fprintf(stderr, "\r%*s\r", 60, "");
		return;
	}
	if (now - last < PROGRESS_NS)
		return;
	last = now;
	at = gzoffset(gz);
	if (at < 0 || size <= 0)
		return;
	fprintf(stderr, "\r%s: %3d%% of %lld MB", what, (int)(100 * at / size),
		(long long)(size >> 20));
}

static int open_input(const char *what, const char *path, int *fd, off_t *size)
{
	struct stat st;

	*size = 0;
	if (!strcmp(path, "-")) {
		*fd = dup(STDIN_FILENO);
		return *fd < 0 ? -errno : 0;
	}
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0) {
		int err = -errno;

		pr_warn("%s: cannot open %s: %s", what, path, strerror(-err));
		return err;
	}
	if (fstat(*fd, &st) || S_ISDIR(st.st_mode)) {
		pr_warn("%s: %s is a directory: give a file of perf script output or folded stacks",
			what, path);
		close(*fd);
		return -EISDIR;
	}
	if (S_ISREG(st.st_mode))
		*size = st.st_size;
	return 0;
}

int textin__read(const char *what, const char *path, enum textin_kind kind,
		 const struct perfscript_opts *o, bool want_progress, struct syms *syms,
		 struct stack_table *t, struct textin_result *res)
{
	struct perfscript_opts opts = *o;
	struct perfscript *p = NULL;
	bool show = false;
	char *buf = NULL;
	off_t size;
	gzFile gz;
	int fd, n, err;

	memset(res, 0, sizeof(*res));
	err = open_input(what, path, &fd, &size);
	if (err)
		return err;
	gz = gzdopen(fd, "rb");
	buf = malloc(CHUNK);
	if (!gz || !buf) {
		if (!gz)
			close(fd);
		err = -ENOMEM;
		goto out;
	}
	gzbuffer(gz, CHUNK);
	show = want_progress && size > 0 && isatty(STDERR_FILENO);
	while ((n = gzread(gz, buf, CHUNK)) > 0) {
		if (!p) {
			if (kind == TEXTIN_AUTO)
				kind = perfscript__sniff(buf, (size_t)n) ? TEXTIN_PERF_SCRIPT
									  : TEXTIN_FOLDED;
			opts.folded = kind == TEXTIN_FOLDED;
			p = perfscript__new(&opts, syms, t);
			if (!p) {
				err = -ENOMEM;
				goto out;
			}
		}
		err = perfscript__feed(p, buf, (size_t)n);
		if (err)
			goto out;
		if (show)
			progress(what, gz, size, false);
	}
	if (n < 0) {
		int zerr;
		const char *msg = gzerror(gz, &zerr);

		pr_warn("%s: cannot read %s: %s", what, strcmp(path, "-") ? path : "standard input",
			zerr == Z_ERRNO ? strerror(errno) : msg);
		err = -EIO;
		goto out;
	}
	if (p)
		err = perfscript__finish(p);
	res->kind = kind == TEXTIN_AUTO ? TEXTIN_FOLDED : kind;
	if (p)
		res->st = *perfscript__stats(p);
out:
	if (show)
		progress(what, gz, size, true);
	if (err == -ENOMEM)
		pr_warn("%s: out of memory reading %s", what, path);
	perfscript__delete(p);
	if (gz)
		gzclose(gz);
	free(buf);
	return err;
}

void textin__event_name(char *out, size_t len, const char *event)
{
	const char *colon = strrchr(event, ':');
	size_t n = strlen(event);

	/* Modifiers are letters after the last ':', all of them perf's. */
	if (colon && colon[1] && strspn(colon + 1, "ukhpPGHISDWeb") == strlen(colon + 1))
		n = (size_t)(colon - event);
	snprintf(out, len, "%.*s", (int)n, event);
}

bool textin__warn_malformed(const char *who, const char *path,
			    const struct perfscript_stats *st, bool has_samples, const char *verb)
{
	unsigned long long n = st->malformed, first = st->first_malformed;

	if (has_samples) {
		if (n)
			pr_warn("%s: %s: %llu line%s could not be parsed and %s skipped (first: "
				"line %llu: %s)",
				who, path, n, n == 1 ? "" : "s", n == 1 ? "was" : "were", first,
				st->why);
	} else if (n) {
		pr_warn("%s: %s holds no samples: %llu line%s could not be parsed (first: line %llu: "
			"%s); give folded stacks or perf script output",
			who, path, n, n == 1 ? "" : "s", first, st->why);
	} else {
		pr_warn("%s: %s holds no samples: nothing to %s", who, path, verb);
	}
	return has_samples;
}
