/* switchboardctl.c: the operator's command line: dispatch to one command. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <stddef.h>
#include <stdio.h>

#include "cli/ctl.h"
#include "core/conf.h"
#include "core/crypto.h"
#include "core/daemon.h"
#include "core/log.h"
#include "core/tooldef.h"

static const struct {
	const char	*name;
	int		(*fn)(const struct sb_config *, int, char *[]);
	const char	*help;
} commands[] = {
	{ "migrate", cmd_migrate, "apply pending migrations (--status lists them)" },
	{ "check", cmd_check, "validate the configuration and reach every dependency" },
	{ "org", cmd_org, "org add SLUG [NAME]: create a tenant" },
	{ "user", cmd_user, "user add|role|disable|enable|password: accounts (passwords on standard input)" },
	{ "key", cmd_key, "key create|revoke: API keys (a new key is printed alone)" },
	{ "agents", cmd_agents, "agents import [--org SLUG] [FILES|DIRS]: load agent definitions" },
	{ "kb", cmd_kb, "kb import --org SLUG DIR: load an org's knowledge base (*.md, *.txt)" },
};

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: switchboardctl [-c file] command [options]\n\ncommands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\nThe configuration is -c file, else $SWITCHBOARD_CONFIG, else %s;\n"
	    "every key can be overridden by SWITCHBOARD_SECTION_KEY.\n",
	    SB_SYSCONFDIR "/switchboard.conf");
}

int
main(int argc, char *argv[])
{
	struct daemon		 d = { .name = "switchboardctl", .opts = "+c:hV", .usage = usage,
				    .flags = DAEMON_HELP_OK | DAEMON_OPERANDS_OK };
	struct sb_config	 cfg;
	char			 err[512];
	size_t			 i;
	int			 rc;

	if ((rc = daemon_args(&d, argc, argv)) >= 0)
		return rc;
	argc -= d.argi;
	argv += d.argi;
	if (argc < 1) {
		usage(stderr);
		return 2;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[0], commands[i].name) == 0)
			break;
	if (i == sizeof(commands) / sizeof(commands[0])) {
		fprintf(stderr, "switchboardctl: unknown command \"%s\"\n", argv[0]);
		usage(stderr);
		return 2;
	}
	log_init("switchboardctl", SB_LOG_WARN);
	if (config_load(&cfg, d.config, err, sizeof(err)) < 0) {
		fprintf(stderr, "switchboardctl: configuration invalid: %s\n", err);
		config_free(&cfg);
		return 1;
	}
	/* Agents may name the configured tools (agents import); their secrets are the
	 * worker's alone. */
	if (tools_configure(&cfg, 0, err, sizeof(err)) < 0) {
		fprintf(stderr, "switchboardctl: configuration invalid: %s\n", err);
		config_free(&cfg);
		return 1;
	}
	log_init("switchboardctl", cfg.log.level > SB_LOG_WARN ? cfg.log.level : SB_LOG_WARN);
	if (crypto_init() < 0) {
		fprintf(stderr, "switchboardctl: libsodium failed to initialise\n");
		config_free(&cfg);
		return 1;
	}
	/* 0, not 1: GNU getopt then starts afresh, in permuting mode, rather than
	 * keeping the "+" (stop at the first operand) of the parse above. */
	optind = 0;
	rc = commands[i].fn(&cfg, argc, argv);
	config_free(&cfg);
	tool_decls_configure(NULL);
	return rc;
}
