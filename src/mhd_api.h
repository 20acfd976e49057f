/* SPDX-License-Identifier: GPL-2.0-only */
/* The six calls of libmicrohttpd the --metrics server makes, through a
 * table: the dynamic binary loads the library (and GnuTLS with its eight
 * libraries) only when --metrics is given, instead of at every start
 * (src/mhd_dlopen.c); the static binary has it linked in
 * (src/mhd_linked.c).
 */
#ifndef TCL_MHD_API_H
#define TCL_MHD_API_H

#include <stddef.h>
#include <stdint.h>
#include <microhttpd.h>

struct mhd_api {
	struct MHD_Daemon *(*start_daemon)(unsigned int flags, uint16_t port,
					   MHD_AcceptPolicyCallback apc, void *apc_cls,
					   MHD_AccessHandlerCallback dh, void *dh_cls, ...);
	void (*stop_daemon)(struct MHD_Daemon *daemon);
	struct MHD_Response *(*create_response_from_buffer)(size_t size, void *buffer,
							    enum MHD_ResponseMemoryMode mode);
	enum MHD_Result (*add_response_header)(struct MHD_Response *response,
					       const char *header, const char *content);
	enum MHD_Result (*queue_response)(struct MHD_Connection *connection,
					  unsigned int status_code,
					  struct MHD_Response *response);
	void (*destroy_response)(struct MHD_Response *response);
};

/* Fill api; 0, or -1 with why. */
int mhd_api_load(struct mhd_api *api, char *why, size_t len);

#endif
