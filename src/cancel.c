/* cancel.c: rmdir of a task (SPEC: "Cancelling and deleting"). The API is
 * asked; a cancelled task stays and is looked at again, a deleted one
 * leaves the directory, the registry and the cache. Knows no FUSE, no curl,
 * no JSON. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "aifs/api.h"
#include "aifs/config.h"
#include "aifs/err.h"
#include "aifs/idenc.h"
#include "aifs/log.h"
#include "aifs/provider.h"
#include "aifs/strmap.h"
#include "aifs/task.h"
#include "aifs/tree.h"
#include "tree_int.h"

/* SPEC: rmdir PROVIDER/ID cancels a queued task and, with delete = yes,
 * deletes a finished one: its directory, registry entry and cached outputs
 * go. */
static int rmdir_(struct tree *t, uint64_t parent, const char *name)
{
	struct tprov *p = tree_prov_dir(t, parent);
	struct aifs_err err;
	struct task *tk = NULL;
	bool forget = false;
	size_t len;
	int rc;

	if (!p)
		return tree_names_change(t, parent) ? -ENOTDIR : -EPERM;
	if (!strcmp(name, ".new"))
		return -EPERM;
	char *id = idenc_decode(name, &len);
	if (!id)
		return -ENOENT;
	pthread_mutex_lock(&p->mu);
	if (!(tk = strmap_get(&p->byid, id, len)) && !(tk = tree_task_get(p, id, len))) {
		rc = -ENOMEM;
		goto out;
	}
	if ((rc = fresh_task(tk, 0)))
		goto out;
	enum task_status st = tk->info->status;
	bool finished = task_status_finished(st);
	if (!api_ops(p->api)->delete_request || (finished && !p->pc->allow_delete)) {
		rc = -EPERM; /* nothing sent */
		goto out;
	}
	bool archived = tk->archived;
	pthread_mutex_unlock(&p->mu);
	rc = api_delete(p->api, tk->id, &err);
	if (rc == -ENOENT && archived)
		rc = 0; /* the API forgot it already; the archive's copy goes now */
	pthread_mutex_lock(&p->mu);
	if (rc == 0 && finished) {
		tk->in_listing = false;
		tk->neg_until = tree_now() + NEG_TTL;
		slim_forget(tk);
		task_info_unref(tk->info);
		tk->info = NULL;
		tree_task_known(tk, false);
		tk->archived = false;
		forget = true;
		log_msg(LOGL_INFO, "%s: deleted %s", p->pc->name, tk->id);
	} else if (rc == 0) {
		tk->fetched_at = 0; /* cancelled: the next look asks */
		log_msg(LOGL_INFO, "%s: cancelled %s", p->pc->name, tk->id);
	}
out:
	pthread_mutex_unlock(&p->mu);
	if (forget) {
		outputs_forget(tk); /* the cached outputs go with it, outside the lock */
		archive_forget(tk);
	}
	free(id);
	return rc;
}

int tree_rmdir(struct tree *t, uint64_t parent, const char *name)
{
	int rc = rmdir_(t, parent, name);
	tree_settle(t);
	return rc;
}
