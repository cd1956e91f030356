# fuzz.mk: the libFuzzer targets, built with clang from the project's own sources,
# apart from the autotools build.  Run through tests/fuzz/build.sh, which sets
# ROOT (the source tree) and B (the build directory).
#
# Every project source a target may need goes into one archive: the linker takes
# from it only the objects a target reaches, as it does from libsbcore.a.

CC = clang
PKGS = jansson libsodium libpq libcurl libmemcached fcgi libsystemd libjwt libcrypto

SAN = -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
WARN = -Wall -Wextra -Wshadow -Wmissing-prototypes -Wstrict-prototypes -Wpointer-arith \
	-Wcast-qual -Wsign-compare -Wformat=2
CFLAGS = -std=gnu17 -g -O1 $(WARN) $(SAN) -fsanitize=fuzzer-no-link
CPPFLAGS = -I$(B) -I$(ROOT) \
	-DSB_SYSCONFDIR='"/etc/switchboard"' -DSB_DATADIR='"/usr/share/switchboard"' \
	$(shell pkg-config --cflags $(PKGS))
LDLIBS = $(shell pkg-config --libs $(PKGS)) -lm

# The same modules Makefile.am gives libsbcore.a, switchboard-stream's protocol,
# the worker's wire formats, switchboard-fcgi's app library and handlers, and the
# browser app (but its wasm entry points) with the unit tests' stand-in document.
SRCS = $(wildcard $(ROOT)/core/*.c) \
	$(ROOT)/fcgi-app/fcgi.c \
	$(ROOT)/worker/llm/eventparse.c $(ROOT)/worker/llm/wire.c \
	$(ROOT)/worker/llm/openai.c $(ROOT)/worker/llm/anthropic.c \
	$(ROOT)/fcgi-app/access.c $(ROOT)/fcgi-app/cors.c $(ROOT)/fcgi-app/wake.c \
	$(ROOT)/fcgi-app/dispatch.c $(ROOT)/fcgi-app/router.c $(ROOT)/fcgi-app/request.c \
	$(ROOT)/fcgi-app/response.c $(ROOT)/fcgi-app/page.c \
	$(wildcard $(ROOT)/handlers/*.c) \
	$(filter-out $(ROOT)/web/src/main.c,$(wildcard $(ROOT)/web/src/*.c)) \
	$(ROOT)/tests/unit/websim.c
OBJS = $(patsubst $(ROOT)/%.c,$(B)/obj/%.o,$(SRCS))

TARGETS = $(patsubst $(ROOT)/tests/fuzz/fuzz_%.c,%,$(wildcard $(ROOT)/tests/fuzz/fuzz_*.c))
BINS = $(addprefix $(B)/fuzz_,$(TARGETS))

all: $(BINS)

# What autoconf would write: the fuzz build needs only these.
$(B)/config.h:
	@mkdir -p $(B)
	@v=$$(sed -n 's/^AC_INIT(\[[^]]*\], \[\([^]]*\)\].*/\1/p' $(ROOT)/configure.ac); \
	printf '#define _GNU_SOURCE 1\n#define PACKAGE_VERSION "%s"\n' "$$v" >$@
$(B)/build-info.h:
	@mkdir -p $(B)
	@printf '#define SB_GIT_COMMIT "fuzz"\n#define SB_BUILD_TIME "1970-01-01T00:00:00Z"\n' >$@

$(B)/obj/%.o: $(ROOT)/%.c $(B)/config.h $(B)/build-info.h
	@mkdir -p $(dir $@)
	@echo "  CC      $*.c"
	@$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

# This file is a prerequisite: a module added to SRCS is built into the archive
# (.SECONDARY would otherwise let the archive stand without it).
$(B)/libsb-fuzz.a: $(OBJS) $(ROOT)/tests/fuzz/fuzz.mk
	@rm -f $@
	@ar rcs $@ $(OBJS)

$(B)/fuzz_%: $(B)/obj/tests/fuzz/fuzz_%.o $(B)/libsb-fuzz.a
	@echo "  LINK    fuzz_$*"
	@$(CC) $(SAN) -fsanitize=fuzzer $< $(B)/libsb-fuzz.a $(LDLIBS) -o $@

.SECONDARY:
-include $(OBJS:.o=.d) $(patsubst %,$(B)/obj/tests/fuzz/fuzz_%.d,$(TARGETS))
