// SPDX-License-Identifier: GPL-2.0-only
/* The dynamic binary: libmicrohttpd is loaded when --metrics asks for it.
 * Linked in, it and GnuTLS (nettle, gmp, p11-kit, ...) were mapped and
 * initialised at every start, --help and --check included: 3 ms on this
 * machine, 20 times that in an emulated guest, for a server most runs
 * never start.
 */
#include <dlfcn.h>
#include <stdio.h>
#include "mhd_api.h"

/* the SONAME of the 0.9.x ABI that microhttpd.h describes */
#define MHD_LIBRARY "libmicrohttpd.so.12"

static int find(void *lib, const char *name, void **slot, char *why, size_t len)
{
	*slot = dlsym(lib, name);
	if (*slot)
		return 0;
	snprintf(why, len, "--metrics: %s has no %s: %s", MHD_LIBRARY, name, dlerror());
	return -1;
}

int mhd_api_load(struct mhd_api *api, char *why, size_t len)
{
	/* kept for the life of the process: the server's thread runs in it */
	void *lib = dlopen(MHD_LIBRARY, RTLD_NOW | RTLD_LOCAL);

	if (!lib) {
		snprintf(why, len, "--metrics needs %s (Debian: libmicrohttpd12): %s",
			 MHD_LIBRARY, dlerror());
		return -1;
	}
	/* POSIX allows the cast from void * to a function pointer (dlsym) */
	if (find(lib, "MHD_start_daemon", (void **)&api->start_daemon, why, len) ||
	    find(lib, "MHD_stop_daemon", (void **)&api->stop_daemon, why, len) ||
	    find(lib, "MHD_create_response_from_buffer",
		 (void **)&api->create_response_from_buffer, why, len) ||
	    find(lib, "MHD_add_response_header", (void **)&api->add_response_header, why, len) ||
	    find(lib, "MHD_queue_response", (void **)&api->queue_response, why, len) ||
	    find(lib, "MHD_destroy_response", (void **)&api->destroy_response, why, len))
		return -1;
	return 0;
}
