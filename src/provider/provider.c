/* provider.c: the table of API families and the page that every list
 * parser fills.
 *
 * It refuses to know any family's requests, answers or config keys: adding
 * a family is its file and one line in provider_table. */
#include "aifs/provider.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aifs/task.h"

static const struct provider_ops *const provider_table[] = {
	&provider_ark,
	&provider_chanjing,
};

const struct provider_ops *provider_find(const char *type)
{
	if (!type)
		return NULL;
	for (size_t i = 0; i < sizeof provider_table / sizeof provider_table[0]; i++)
		if (strcasecmp(provider_table[i]->type, type) == 0)
			return provider_table[i];
	return NULL;
}

const struct provider_ops *provider_at(size_t i)
{
	return i < sizeof provider_table / sizeof provider_table[0] ? provider_table[i] : NULL;
}

void provider_page_clear(struct provider_page *pg)
{
	if (!pg)
		return;
	for (size_t i = 0; i < pg->n_tasks; i++)
		task_info_unref(pg->tasks[i]);
	free(pg->tasks);
	*pg = (struct provider_page){ 0 };
}
