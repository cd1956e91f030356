/* pricing.c: the cost of a model's tokens, from llm.pricing ("model=input/output, ..."). */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <stdio.h>

#include "worker/worker.h"
#include "core/arena.h"
#include "core/conf.h"

struct price {
	char	*model;
	double	 input;		/* USD per million prompt tokens */
	double	 output;	/* USD per million completion tokens */
};

struct pricing {
	struct price	*p;
	size_t		 n;
};

static int
price_number(const char *s, double *out)
{
	char *end;

	*out = strtod(s, &end);
	return end != s && *str_trim(end) == '\0' && *out >= 0 && *out < 1e6 ? 0 : -1;
}

struct pricing *
pricing_parse(const char *spec, char *err, size_t errlen)
{
	struct pricing	*pr = sb_calloc(1, sizeof(*pr));
	char		*copy = sb_strdup(spec != NULL ? spec : ""), *item, *save = NULL;
	char		*eq, *slash, *model;

	for (item = strtok_r(copy, ",", &save); item != NULL; item = strtok_r(NULL, ",", &save)) {
		item = str_trim(item);
		if (*item == '\0')
			continue;
		eq = strrchr(item, '=');
		slash = eq != NULL ? strchr(eq, '/') : NULL;
		if (eq == NULL || slash == NULL) {
			snprintf(err, errlen, "llm.pricing: \"%.60s\" is not model=input/output", item);
			goto fail;
		}
		*eq = '\0';
		*slash = '\0';
		model = str_trim(item);
		pr->p = sb_realloc(pr->p, (pr->n + 1) * sizeof(*pr->p));
		if (*model == '\0' || price_number(eq + 1, &pr->p[pr->n].input) < 0 ||
		    price_number(slash + 1, &pr->p[pr->n].output) < 0) {
			snprintf(err, errlen, "llm.pricing: \"%.60s\" needs a model and two prices "
			    "in USD per million tokens", model);
			goto fail;
		}
		pr->p[pr->n++].model = sb_strdup(model);
	}
	free(copy);
	return pr;
fail:
	free(copy);
	pricing_free(pr);
	return NULL;
}

double
pricing_cost(const struct pricing *pr, const char *model, const struct llm_usage *u)
{
	size_t i;

	if (pr == NULL || model == NULL)
		return 0;
	for (i = 0; i < pr->n; i++)
		if (strcmp(pr->p[i].model, model) == 0)
			return ((double)u->prompt_tokens * pr->p[i].input +
			    (double)u->completion_tokens * pr->p[i].output) / 1e6;
	return 0;
}

void
pricing_free(struct pricing *pr)
{
	size_t i;

	if (pr == NULL)
		return;
	for (i = 0; i < pr->n; i++)
		free(pr->p[i].model);
	free(pr->p);
	free(pr);
}
