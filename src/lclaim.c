/* lclaim.c: a .new label across the mounts of one account (SPEC: "the .new
 * labels, exactly once across mounts"). Before a label's request may leave,
 * the label is claimed in Redis; a label another mount claimed is not sent
 * here: its outcome there is this label's too, the same task. When Redis is
 * unavailable the mount carries on alone, as with everything shared. Knows
 * no FUSE, no curl, no JSON. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aifs/api.h"
#include "aifs/cluster.h"
#include "aifs/config.h"
#include "aifs/err.h"
#include "aifs/log.h"
#include "tree_int.h"

int lclaim_take(struct tprov *p, const char *name, char **id, bool *unknown, struct aifs_err *err)
{
	enum cval_label st = CVAL_LABEL_SENDING;
	char *text = NULL;
	int rc;

	if (!p->acct)
		return LCLAIM_SEND;
	for (int tries = 0; tries < 2; tries++) {
		rc = cluster_label_claim(p->acct, name, &st, &text);
		if (rc == 1)
			return LCLAIM_CLAIMED;
		if (rc < 0)
			return LCLAIM_SEND; /* Redis lost: alone, as SPEC says */
		if (st == CVAL_LABEL_SENDING) {
			free(text);
			text = NULL;
			rc = cluster_label_wait(p->acct, name, api_deadline(p->api), &st, &text);
			if (rc < 0)
				return LCLAIM_SEND;
			if (rc == 0)
				continue; /* released (not taken there), or no answer in time */
		}
		break;
	}
	if (!text || st == CVAL_LABEL_SENDING) {
		free(text);
		aifs_err_set(err, -EBUSY, "another mount of this account is sending this label");
		return -EBUSY;
	}
	if (st == CVAL_LABEL_CREATED) {
		*id = text;
		log_msg(LOGL_INFO, "%s: label %s: created by another mount: %s", p->pc->name, name, text);
		return LCLAIM_SETTLED;
	}
	aifs_err_set(err, -EIO, "unknown: sent by another mount: %s", text);
	err->retry = AIFS_RETRY_NO;
	*unknown = true;
	free(text);
	return LCLAIM_SETTLED;
}

void lclaim_settle(struct tprov *p, const char *name, int claim, int rc, bool unknown,
		   const char *id, const struct aifs_err *err)
{
	if (claim != LCLAIM_CLAIMED)
		return;
	if (rc == 0)
		cluster_label_set(p->acct, name, CVAL_LABEL_CREATED, id);
	else if (unknown)
		cluster_label_set(p->acct, name, CVAL_LABEL_UNKNOWN, err->msg);
	else
		cluster_label_release(p->acct, name); /* surely not taken: may be sent again */
}
