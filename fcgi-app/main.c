/* main.c: switchboard-fcgi's command line. */
#include "config.h"

#include <stdio.h>
#include <stddef.h>

#include "fcgi-app/prefork.h"
#include "core/conf.h"
#include "core/daemon.h"
#include "core/log.h"
#include "core/scope.h"
#include "fcgi-app/router.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: switchboard-fcgi [-RtV] [-c file]\n"
	    "  -c file   configuration file (default $SWITCHBOARD_CONFIG or %s)\n"
	    "  -t        check the configuration and exit\n"
	    "  -R        print the route table (method, path, scope, access) and exit\n"
	    "  -V        print the version and exit\n"
	    "Every key can be overridden by SWITCHBOARD_SECTION_KEY in the environment.\n",
	    SB_SYSCONFDIR "/switchboard.conf");
}

/* One line per route: method, pattern, the scope it needs (- for none) and who may
 * call it: public, session (browser sessions only) or authenticated. */
static void
print_routes(void)
{
	size_t i;

	for (i = 0; i < nroutes; i++)
		printf("%s %s %s %s\n", routes[i].method, routes[i].pattern,
		    routes[i].scope ? scope_name(routes[i].scope) : "-",
		    routes[i].flags & ROUTE_PUBLIC ? "public" :
		    routes[i].flags & ROUTE_SESSION ? "session" : "authenticated");
}

/* -R: the route table, and exit 0. */
static int
own_option(int ch, const char *arg)
{
	(void)ch;
	(void)arg;
	print_routes();
	return 0;
}

int
main(int argc, char *argv[])
{
	struct daemon		 d = { .name = "switchboard-fcgi", .opts = "c:hRtV",
				    .usage = usage, .own = own_option,
				    .flags = DAEMON_HELP_OK | DAEMON_OPERANDS_OK | DAEMON_LOG_CONFIG };
	struct sb_config	 cfg;
	int			 rc;

	if ((rc = daemon_args(&d, argc, argv)) >= 0)
		return rc;
	log_init(d.name, SB_LOG_INFO);
	if (daemon_config(&d, &cfg) < 0)
		return 1;
	if (d.test) {
		printf("configuration ok%s%s\n", d.config ? ": " : " (defaults and environment)",
		    d.config ? d.config : "");
		config_free(&cfg);
		return 0;
	}
	log_init(d.name, cfg.log.level);
	return master_run(&cfg, d.config);
}
