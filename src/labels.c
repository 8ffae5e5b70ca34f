/* labels.c: a provider's .new directory (SPEC: "Creating tasks"). Each
 * LABEL.json is a draft buffered per open file; at close a complete JSON
 * object is submitted through the provider's API, once: the label's record
 * goes to disk, fsync'd, before the request leaves and again after the
 * answer, so that no crash or remount can send it twice. A record found in
 * state "sending" at start is a request whose answer nobody saw: unknown,
 * never sent again. Knows no FUSE, no curl and no JSON (the provider layer
 * checks a request's shape). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "aifs/api.h"
#include "aifs/config.h"
#include "aifs/err.h"
#include "aifs/idenc.h"
#include "aifs/journal.h"
#include "aifs/log.h"
#include "aifs/provider.h"
#include "aifs/strmap.h"
#include "aifs/tree.h"
#include "tree_int.h"

#define JSON_SUFFIX ".json"
#define ERROR_SUFFIX ".error"

static uint64_t label_ino(const struct label *l, unsigned k)
{
	return ((uint64_t)(l->p->idx + 1) << INO_PROV_SHIFT) | INO_LABEL_BIT |
	       ((l->idx + 1) << INO_TASK_SHIFT) | k;
}

/* SPEC: 1 to 100 bytes of A-Z a-z 0-9 . _ -, not starting with '.'. */
static bool label_name_ok(const char *s, size_t n)
{
	if (n == 0 || n > LABEL_NAME_MAX || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* Splits "NAME.json" / "NAME.error" / "NAME" into the label and k. */
static bool parse_name(const char *name, char *label, unsigned *k)
{
	size_t n = strlen(name), sl;
	*k = LK_LINK;
	if (n > (sl = strlen(JSON_SUFFIX)) && !strcmp(name + n - sl, JSON_SUFFIX)) {
		*k = LK_JSON;
		n -= sl;
	} else if (n > (sl = strlen(ERROR_SUFFIX)) && !strcmp(name + n - sl, ERROR_SUFFIX)) {
		*k = LK_ERROR;
		n -= sl;
	}
	if (!label_name_ok(name, n))
		return false;
	memcpy(label, name, n);
	label[n] = '\0';
	return true;
}

static struct label *find(struct tprov *p, const char *name)
{
	return strmap_get(&p->label_byname, name, strlen(name));
}

/* The label of a label inode and its k, or NULL. Caller holds p->mu. */
static struct label *ino_label(struct tprov *p, uint64_t ino, unsigned *k)
{
	uint64_t l = (ino & (INO_LABEL_BIT - 1)) >> INO_TASK_SHIFT;
	*k = (unsigned)(ino & ((1u << INO_TASK_SHIFT) - 1));
	if (l < 1 || l > p->n_labels)
		return NULL;
	struct label *lb = p->labels[l - 1];
	return lb->gone ? NULL : lb;
}

static bool writable(const struct label *l)
{
	return !l->busy && (l->state == LABEL_DRAFT || l->state == LABEL_FAILED);
}

static struct label *label_new(struct tprov *p, const char *name)
{
	if (p->n_labels == p->cap_labels) {
		size_t cap = p->cap_labels ? 2 * p->cap_labels : 16;
		struct label **a = realloc(p->labels, cap * sizeof *a);
		if (!a)
			return NULL;
		p->labels = a;
		p->cap_labels = cap;
	}
	struct label *l = calloc(1, sizeof *l);
	if (!l)
		return NULL;
	l->p = p;
	l->idx = p->n_labels;
	snprintf(l->name, sizeof l->name, "%s", name);
	l->mtime = time(NULL);
	if (strmap_put(&p->label_byname, l->name, strlen(l->name), l)) {
		free(l);
		return NULL;
	}
	p->labels[p->n_labels++] = l;
	return l;
}

static void label_free(struct label *l)
{
	free(l->body);
	free(l->id);
	free(l->error);
	free(l);
}

/* Replaces *dst with a copy of n bytes (NULL when n is 0). */
static int set_bytes(char **dst, size_t *dst_len, const char *src, size_t n)
{
	char *c = NULL;
	if (n) {
		if (!(c = malloc(n + 1)))
			return -ENOMEM;
		memcpy(c, src, n);
		c[n] = '\0';
	}
	free(*dst);
	*dst = c;
	*dst_len = n;
	return 0;
}

static int set_error(struct label *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int set_error(struct label *l, const char *fmt, ...)
{
	char text[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= sizeof text - 1) {
		n = (int)aifs_text_cut_len(text, strlen(text), sizeof text - 2);
		text[n] = '\0';
	}
	if (n == 0 || text[n - 1] != '\n') {
		text[n++] = '\n';
		text[n] = '\0';
	}
	return set_bytes(&l->error, &l->error_len, text, (size_t)n);
}

/* ---- records on disk ---- */

/* Writes l's record crash-safely: a temporary file, fsync, rename, and an
 * fsync of the directory. Caller holds no lock; l->busy keeps others off
 * the fields it reads. */
static int record_write(const struct label *l)
{
	struct label_rec r = { .state = l->state, .time = l->mtime, .id = l->id,
			       .id_len = l->id_len, .error = l->error, .error_len = l->error_len,
			       .body = l->body, .body_len = l->body_len };
	char *enc = NULL, *path = NULL, *tmp = NULL;
	size_t len;
	int fd = -1, dfd = -1, rc;

	if ((rc = journal_encode(&r, &enc, &len)))
		return rc;
	if (asprintf(&path, "%s/%s", l->p->label_dir, l->name) < 0 ||
	    asprintf(&tmp, "%s/.%s.tmp", l->p->label_dir, l->name) < 0) {
		rc = -ENOMEM;
		goto out;
	}
	if (mkdir(l->p->label_dir, 0700) < 0 && errno == ENOENT) {
		/* the cache directory was removed under the mount: made anew */
		for (char *q = l->p->label_dir + 1; *q; q++) {
			if (*q != '/')
				continue;
			*q = '\0';
			mkdir(l->p->label_dir, 0700);
			*q = '/';
		}
		mkdir(l->p->label_dir, 0700);
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fd, enc + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			rc = -errno;
			goto out;
		}
		off += (size_t)w;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		fd = -1;
		rc = -errno;
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		rc = -errno;
		goto out;
	}
	dfd = open(l->p->label_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0)
		rc = -errno;
out:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	if (rc && tmp)
		unlink(tmp);
	free(enc);
	free(path);
	free(tmp);
	return rc;
}

static int record_remove(struct tprov *p, const char *name)
{
	char *path = NULL;
	if (asprintf(&path, "%s/%s", p->label_dir, name) < 0)
		return -ENOMEM;
	int rc = unlink(path) < 0 && errno != ENOENT ? -errno : 0;
	free(path);
	return rc;
}

/* Reads one record into a new label; a torn or foreign file is logged and
 * skipped. A request that was on its way when the mount stopped is unknown
 * from now on. */
static int record_load(struct tprov *p, int dfd, const char *name)
{
	struct label_rec r;
	struct stat st;
	char why[128], *buf = NULL;
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK), rc = 0;

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > (off_t)(JOURNAL_BODY_MAX + 4 * JOURNAL_TEXT_MAX)) {
		log_msg(LOGL_WARN, "%s: label record %s: not a readable file; skipped", p->pc->name,
			name);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		rc = -ENOMEM;
		goto out;
	}
	ssize_t n = pread(fd, buf, (size_t)st.st_size, 0);
	if (n != st.st_size || journal_decode(buf, (size_t)n, &r, why, sizeof why)) {
		log_msg(LOGL_WARN, "%s: label record %s: %s; skipped", p->pc->name, name,
			n != st.st_size ? "cannot read it" : why);
		goto out;
	}
	struct label *l = label_new(p, name);
	if (!l) {
		label_rec_clear(&r);
		rc = -ENOMEM;
		goto out;
	}
	l->state = r.state;
	l->mtime = r.time;
	l->body = r.body;
	l->body_len = r.body_len;
	l->id = r.id;
	l->id_len = r.id_len;
	l->error = r.error;
	l->error_len = r.error_len;
	if (l->state == LABEL_SENDING) {
		l->state = LABEL_UNKNOWN;
		rc = set_error(l, "unknown: the mount stopped before the API answered; "
				  "this label is never sent again");
		if (rc == 0 && (rc = record_write(l)))
			log_msg(LOGL_WARN, "%s: label %s: cannot record it: %s", p->pc->name, name,
				strerror(-rc));
		rc = rc == -ENOMEM ? rc : 0;
	}
	if (l->state == LABEL_CREATED) {
		struct task *tk = tree_task_get(p, l->id, l->id_len);
		if (tk)
			tk->known = true; /* the registry has it too, or gets it at its next write */
	}
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return rc;
}

int labels_load(struct tprov *p, const char *cache_dir)
{
	strmap_init(&p->label_byname);
	char *top = NULL;
	if (asprintf(&top, "%s/labels", cache_dir) < 0 ||
	    asprintf(&p->label_dir, "%s/%s", top, p->pc->name) < 0) {
		free(top);
		p->label_dir = NULL;
		return -ENOMEM;
	}
	mkdir(top, 0700);
	free(top);
	int dfd = open(p->label_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return errno == ENOENT ? 0 : -errno;
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return -errno;
	}
	int rc = 0;
	for (struct dirent *de; rc == 0 && (de = readdir(d));) {
		if (de->d_name[0] == '.' && de->d_name[1] != '\0' && de->d_name[1] != '.') {
			unlinkat(dirfd(d), de->d_name, 0); /* a temporary a crash left */
			continue;
		}
		if (label_name_ok(de->d_name, strlen(de->d_name)))
			rc = record_load(p, dirfd(d), de->d_name);
	}
	closedir(d);
	return rc;
}

void labels_free(struct tprov *p)
{
	for (size_t i = 0; i < p->n_labels; i++)
		label_free(p->labels[i]);
	free(p->labels);
	strmap_free(&p->label_byname);
	free(p->label_dir);
}

/* ---- the directory ---- */

static void file_attr(const struct label *l, unsigned k, struct tree_attr *a)
{
	*a = (struct tree_attr){ .ino = label_ino(l, k), .nlink = 1, .mtime = l->mtime };
	switch (k) {
	case LK_JSON:
		a->mode = S_IFREG | (writable(l) ? 0644 : 0444);
		a->size = l->body_len;
		break;
	case LK_LINK: {
		char *enc = idenc_encode(l->id, l->id_len);
		a->mode = S_IFLNK | 0777;
		a->size = enc ? 3 + strlen(enc) : 0;
		free(enc);
		break;
	}
	default:
		a->mode = S_IFREG | 0444;
		a->size = l->error_len;
		break;
	}
}

static bool has(const struct label *l, unsigned k)
{
	return k == LK_JSON || (k == LK_LINK && l->state == LABEL_CREATED) ||
	       (k == LK_ERROR && l->error_len);
}

int labels_attr(struct tprov *p, uint64_t ino, struct tree_attr *a)
{
	unsigned k;
	if ((ino & ((INO_LABEL_BIT << 1) - 1)) == INO_LABEL_BIT) {
		*a = (struct tree_attr){ .ino = ino, .mode = S_IFDIR | 0755, .nlink = 2,
					 .mtime = p->t->mount_time };
		return 0;
	}
	struct label *l = ino_label(p, ino, &k);
	if (!l || !has(l, k))
		return -ENOENT;
	file_attr(l, k, a);
	return 0;
}

int labels_lookup(struct tprov *p, const char *name, struct tree_attr *a)
{
	char label[LABEL_NAME_MAX + 1];
	unsigned k;
	struct label *l;
	if (!parse_name(name, label, &k) || !(l = find(p, label)) || !has(l, k))
		return -ENOENT;
	file_attr(l, k, a);
	return 0;
}

int labels_readdir(struct tprov *p, struct tree_dir *d, size_t *cap)
{
	char name[LABEL_NAME_MAX + sizeof ERROR_SUFFIX];
	int rc = 0;
	for (size_t i = 0; i < p->n_labels && !rc; i++) {
		struct label *l = p->labels[i];
		if (l->gone)
			continue;
		snprintf(name, sizeof name, "%s" JSON_SUFFIX, l->name);
		rc = tree_dir_add_copy(d, cap, name, label_ino(l, LK_JSON), S_IFREG);
		if (!rc && has(l, LK_LINK))
			rc = tree_dir_add_copy(d, cap, l->name, label_ino(l, LK_LINK), S_IFLNK);
		snprintf(name, sizeof name, "%s" ERROR_SUFFIX, l->name);
		if (!rc && has(l, LK_ERROR))
			rc = tree_dir_add_copy(d, cap, name, label_ino(l, LK_ERROR), S_IFREG);
	}
	return rc;
}

/* ---- opening, writing ---- */

static int draft_open(struct label *l, int oflags, struct tree_file *f)
{
	f->label = l;
	f->writable = true;
	if (!(oflags & O_TRUNC) && l->body_len) {
		if (!(f->w = malloc(l->body_len)))
			return -ENOMEM;
		memcpy(f->w, l->body, l->body_len);
		f->w_len = f->w_cap = l->body_len;
	}
	f->dirty = (oflags & O_TRUNC) != 0;
	return 0;
}

int labels_create(struct tprov *p, const char *name, int oflags, struct tree_attr *a,
		  struct tree_file *f)
{
	char label[LABEL_NAME_MAX + 1];
	unsigned k;
	if (!parse_name(name, label, &k) || k != LK_JSON)
		return -EINVAL; /* SPEC: only LABEL.json can be made in .new */
	struct label *l = find(p, label);
	if (l && ((oflags & O_EXCL) || !writable(l)))
		return -EEXIST;
	if (!l && !(l = label_new(p, label)))
		return -ENOMEM;
	int rc = draft_open(l, oflags | O_TRUNC * !l->body_len, f);
	if (rc == 0)
		file_attr(l, LK_JSON, a);
	return rc;
}

int labels_open(struct tprov *p, uint64_t ino, int oflags, struct tree_file *f, bool *direct)
{
	unsigned k;
	struct label *l = ino_label(p, ino, &k);
	if (!l || !has(l, k))
		return -ENOENT;
	*direct = true; /* a label's files change under the kernel */
	if ((oflags & O_ACCMODE) != O_RDONLY) {
		if (k != LK_JSON)
			return -EACCES;
		if (!writable(l))
			return -EEXIST; /* SPEC: read-only once submitted */
		return draft_open(l, oflags, f);
	}
	f->label = l;
	const char *src = k == LK_JSON ? l->body : l->error;
	size_t n = k == LK_JSON ? l->body_len : l->error_len;
	if (n && !(f->own = malloc(n)))
		return -ENOMEM;
	if (n)
		memcpy(f->own, src, n);
	f->data = f->own;
	f->len = n;
	return 0;
}

ssize_t tree_write(struct tree *t, struct tree_file *f, const char *buf, size_t size, off_t off)
{
	(void)t;
	if (!f->writable)
		return -EBADF;
	if (off < 0)
		return -EINVAL;
	if ((uint64_t)off + size > JOURNAL_BODY_MAX)
		return -EFBIG;
	size_t end = (size_t)off + size;
	if (end > f->w_cap) {
		size_t cap = f->w_cap ? f->w_cap : 4096;
		while (cap < end)
			cap *= 2;
		if (cap > JOURNAL_BODY_MAX)
			cap = JOURNAL_BODY_MAX;
		char *w = realloc(f->w, cap);
		if (!w)
			return -ENOMEM;
		f->w = w;
		f->w_cap = cap;
	}
	if ((size_t)off > f->w_len)
		memset(f->w + f->w_len, 0, (size_t)off - f->w_len);
	memcpy(f->w + off, buf, size);
	if (end > f->w_len)
		f->w_len = end;
	f->dirty = true;
	return (ssize_t)size;
}

int labels_truncate(struct tprov *p, uint64_t ino, struct tree_file *f, uint64_t size,
		    struct tree_attr *a)
{
	unsigned k;
	struct label *l = ino_label(p, ino, &k);
	if (!l || !has(l, k))
		return -ENOENT;
	if (k != LK_JSON || !writable(l))
		return -EPERM;
	if (size > JOURNAL_BODY_MAX)
		return -EFBIG;
	if (f && f->writable) {
		if (size > f->w_len) {
			char zero[1] = { 0 };
			ssize_t n = size ? tree_write(p->t, f, zero, 1, (off_t)size - 1) : 0;
			if (n < 0)
				return (int)n;
		}
		f->w_len = (size_t)size;
		f->dirty = true;
	} else if (size < l->body_len) {
		l->body_len = (size_t)size; /* truncate(1) by path: the draft itself */
		l->mtime = time(NULL);
	} else if (size > l->body_len) {
		return -EINVAL;
	}
	file_attr(l, LK_JSON, a);
	return 0;
}

int labels_readlink(struct tprov *p, uint64_t ino, char *buf, size_t size)
{
	unsigned k;
	struct label *l = ino_label(p, ino, &k);
	if (!l || !has(l, k))
		return -ENOENT;
	if (k != LK_LINK)
		return -EINVAL;
	char *enc = idenc_encode(l->id, l->id_len);
	if (!enc)
		return -EIO;
	int n = snprintf(buf, size, "../%s", enc);
	free(enc);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int labels_unlink(struct tprov *p, const char *name)
{
	char label[LABEL_NAME_MAX + 1];
	unsigned k;
	struct label *l;
	int rc = 0;

	pthread_mutex_lock(&p->mu);
	if (!parse_name(name, label, &k) || !(l = find(p, label)) || !has(l, k)) {
		rc = -ENOENT;
	} else if (k == LK_ERROR) {
		rc = -EPERM; /* SPEC: rm LABEL.json or LABEL forgets a label */
	} else if (l->busy) {
		rc = -EBUSY;
	} else {
		l->gone = true;
		l->busy = true; /* no submission starts on a forgotten label */
		strmap_del(&p->label_byname, l->name, strlen(l->name));
	}
	pthread_mutex_unlock(&p->mu);
	if (rc == 0 && (rc = record_remove(p, label)))
		log_msg(LOGL_WARN, "%s: label %s: cannot remove its record: %s", p->pc->name, label,
			strerror(-rc));
	return rc;
}

/* ---- submission ---- */

/* The answer's state, error and id into l (under p->mu). */
static void take_answer(struct label *l, int rc, bool unknown, char *id, const struct aifs_err *err)
{
	l->mtime = time(NULL);
	if (rc == 0) {
		l->state = LABEL_CREATED;
		set_bytes(&l->error, &l->error_len, NULL, 0);
		free(l->id);
		l->id = id;
		l->id_len = strlen(id);
		return;
	}
	free(id);
	l->state = unknown ? LABEL_UNKNOWN : LABEL_FAILED;
	if (unknown) /* SPEC: LABEL.error starts with "unknown:" */
		set_error(l, "%s%s", strncmp(err->msg, "unknown:", 8) ? "unknown: " : "", err->msg);
	else if (err->pcode[0])
		set_error(l, "%s: %s", err->pcode, err->msg);
	else
		set_error(l, "%s: %s", aifs_errno_name(rc), err->msg);
}

int labels_flush(struct tprov *p, struct tree_file *f, int flags)
{
	struct label *l = f->label;
	struct aifs_err err;
	char why[128];
	int rc;

	if (!f->writable)
		return 0;
	pthread_mutex_lock(&p->mu);
	if (!f->dirty || l->gone) {
		f->dirty = false;
		pthread_mutex_unlock(&p->mu);
		return 0;
	}
	if (!writable(l)) {
		pthread_mutex_unlock(&p->mu);
		return -EEXIST; /* another handle submitted it meanwhile */
	}
	if (f->w_len == 0) { /* SPEC: an empty file stays a draft */
		f->dirty = false;
		set_bytes(&l->body, &l->body_len, NULL, 0);
		l->mtime = time(NULL);
		pthread_mutex_unlock(&p->mu);
		return 0;
	}
	if (provider_request_check(f->w, f->w_len, why, sizeof why)) {
		f->dirty = false;
		rc = set_bytes(&l->body, &l->body_len, f->w, f->w_len);
		l->mtime = time(NULL);
		if (rc == 0)
			rc = set_error(l, "EINVAL: not sent: %s", why);
		pthread_mutex_unlock(&p->mu);
		return rc ? rc : -EINVAL;
	}
	if (flags & TREE_NOWAIT) {
		pthread_mutex_unlock(&p->mu);
		return -EWOULDBLOCK;
	}
	/* sending: recorded on disk before the request may leave */
	f->dirty = false;
	if ((rc = set_bytes(&l->body, &l->body_len, f->w, f->w_len))) {
		pthread_mutex_unlock(&p->mu);
		return rc;
	}
	enum label_state before = l->state;
	l->state = LABEL_SENDING;
	l->busy = true;
	l->mtime = time(NULL);
	pthread_mutex_unlock(&p->mu);

	char *id = NULL;
	bool unknown = false;
	aifs_err_clear(&err);
	/* cluster mode: claimed across the account's mounts, or settled there */
	int claim = lclaim_take(p, l->name, &id, &unknown, &err);
	if (claim == -EBUSY || (claim != LCLAIM_SETTLED && (rc = record_write(l)))) {
		if (claim != -EBUSY)
			log_msg(LOGL_ERROR, "%s: label %s: cannot record it, not sent: %s",
				p->pc->name, l->name, strerror(-rc));
		lclaim_settle(p, l->name, claim, -EIO, false, NULL, &err);
		pthread_mutex_lock(&p->mu);
		l->state = before;
		if (claim == -EBUSY)
			set_error(l, "EBUSY: not sent: %s", err.msg);
		else
			set_error(l, "EIO: not sent: the label cannot be recorded (%s)",
				  strerror(-rc));
		l->busy = false;
		pthread_mutex_unlock(&p->mu);
		return claim == -EBUSY ? -EBUSY : -EIO;
	}
	if (claim == LCLAIM_SETTLED) {
		rc = id ? 0 : -EIO;
	} else {
		rc = api_create(p->api, l->body, l->body_len, &id, &unknown, &err);
		lclaim_settle(p, l->name, claim, rc, unknown, id, &err);
	}
	if (rc == -EOPNOTSUPP)
		aifs_err_set(&err, rc = -EOPNOTSUPP, "this API does not create tasks (HTTP %ld)",
			     err.http_status);

	pthread_mutex_lock(&p->mu);
	take_answer(l, rc, unknown, id, &err);
	pthread_mutex_unlock(&p->mu);
	int wrc = record_write(l); /* l is still busy: its fields are ours */
	if (wrc)
		log_msg(LOGL_ERROR, "%s: label %s: cannot record the answer: %s", p->pc->name,
			l->name, strerror(-wrc));
	pthread_mutex_lock(&p->mu);
	l->busy = false;
	if (rc == 0) {
		struct task *tk = tree_task_get(p, l->id, l->id_len);
		if (tk) { /* SPEC: the new id joins the directory at once */
			tk->neg_until = 0;
			tree_task_known(tk, true);
		}
		log_msg(LOGL_INFO, "%s: label %s: created %s", p->pc->name, l->name, l->id);
	} else {
		log_msg(LOGL_WARN, "%s: label %s: %s", p->pc->name, l->name, l->error);
	}
	pthread_mutex_unlock(&p->mu);
	if (rc == -EOPNOTSUPP)
		rc = -EPERM;
	return rc;
}

/* ---- the tree's calls for .new ---- */

int tree_create(struct tree *t, uint64_t parent, const char *name, int oflags,
		struct tree_attr *out, struct tree_file **fp)
{
	struct tprov *p = tree_label_prov(t, parent);
	if (!p || (parent & ((INO_LABEL_BIT << 1) - 1)) != INO_LABEL_BIT)
		return -EPERM; /* SPEC: outside .new the tree is read-only */
	struct tree_file *f = calloc(1, sizeof *f);
	if (!f)
		return -ENOMEM;
	atomic_init(&f->refs, 1);
	pthread_mutex_lock(&p->mu);
	int rc = labels_create(p, name, oflags, out, f);
	pthread_mutex_unlock(&p->mu);
	if (rc) {
		tree_release(f);
		return rc;
	}
	*fp = f;
	return 0;
}

int tree_flush(struct tree *t, struct tree_file *f, int flags)
{
	if (!f->writable)
		return 0;
	int rc = labels_flush(f->label->p, f, flags);
	tree_settle(t);
	return rc;
}

int tree_truncate(struct tree *t, uint64_t ino, struct tree_file *f, uint64_t size,
		  struct tree_attr *out)
{
	struct tprov *p = tree_label_prov(t, ino);
	if (!p)
		return -EPERM;
	pthread_mutex_lock(&p->mu);
	int rc = labels_truncate(p, ino, f, size, out);
	pthread_mutex_unlock(&p->mu);
	return rc;
}

int tree_unlink(struct tree *t, uint64_t parent, const char *name)
{
	struct tprov *p = tree_label_prov(t, parent);
	if (!p || (parent & ((INO_LABEL_BIT << 1) - 1)) != INO_LABEL_BIT)
		return -EPERM; /* SPEC: files in task directories cannot be removed */
	return labels_unlink(p, name);
}

int tree_readlink(struct tree *t, uint64_t ino, char *buf, size_t size)
{
	struct tprov *p = tree_label_prov(t, ino);
	if (!p)
		return -EINVAL;
	pthread_mutex_lock(&p->mu);
	int rc = labels_readlink(p, ino, buf, size);
	pthread_mutex_unlock(&p->mu);
	return rc;
}
