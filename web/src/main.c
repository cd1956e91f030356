/* main.c: the app's entry points in wasm, for web/glue.js: a place to write an input
 * message, the call that handles it, and where the operations it made are.  The only
 * file not built for the host (the unit tests drive app_input directly). */
#include "config.h"

#include <stdint.h>

#include "core/buf.h"
#include "web/src/app.h"

void		*sb_in(uint32_t);
uint32_t	 sb_run(uint32_t);
void		*sb_out(void);

static struct app	*app;
static struct sb_buf	 in;

/* Room for an input message of n bytes; the glue writes it there. */
__attribute__((export_name("sb_in")))
void *
sb_in(uint32_t n)
{
	buf_reset(&in);
	buf_reserve(&in, n);
	return in.data;
}

/* Handles the n bytes written at sb_in(); returns the length of the operations. */
__attribute__((export_name("sb_run")))
uint32_t
sb_run(uint32_t n)
{
	if (app == NULL)
		app = app_new();
	app_input(app, in.data, n);
	return (uint32_t)app->out.len;
}

/* The operations of the last sb_run, valid until the next call. */
__attribute__((export_name("sb_out")))
void *
sb_out(void)
{
	return app != NULL ? app->out.data : NULL;
}
