/* routes.c: the route table: every path Switchboard answers, its handler and needs. */
#include "config.h"

#include "handlers.h"

const struct route routes[] = {
	{ "GET", "/healthz",		h_healthz,	NULL,	0 },
	{ "GET", "/readyz",		h_readyz,	NULL,	0 },
	{ "GET", "/metrics",		h_metrics,	NULL,	ROUTE_LOOPBACK },
	{ "GET", "/api/v1/version",	h_version,	NULL,	0 },
};

const size_t nroutes = sizeof(routes) / sizeof(routes[0]);
