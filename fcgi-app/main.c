/* main.c: switchboard-fcgi's command line. */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "prefork.h"

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

int
main(int argc, char *argv[])
{
	struct sb_config	 cfg;
	const char		*path = NULL;
	char			 err[512];
	int			 c, test_only = 0;

	while ((c = getopt(argc, argv, "c:hRtV")) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 't':
			test_only = 1;
			break;
		case 'V':
			printf("switchboard-fcgi %s (%s)\n", sb_version(), sb_git_commit());
			return 0;
		case 'R':
			print_routes();
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	path = config_resolve_path(path);
	log_init("switchboard-fcgi", SB_LOG_INFO);
	if (config_load(&cfg, path, err, sizeof(err)) < 0) {
		log_error("configuration invalid", "{s:s}", "error", err);
		if (test_only)
			fprintf(stderr, "switchboard-fcgi: %s\n", err);
		config_free(&cfg);
		return 1;
	}
	if (test_only) {
		printf("configuration ok%s%s\n", path ? ": " : " (defaults and environment)",
		    path ? path : "");
		config_free(&cfg);
		return 0;
	}
	log_init("switchboard-fcgi", cfg.log.level);
	return master_run(&cfg, path);
}
