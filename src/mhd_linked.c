// SPDX-License-Identifier: GPL-2.0-only
/* The static binary: libmicrohttpd is linked in (make static). */
#include "mhd_api.h"

int mhd_api_load(struct mhd_api *api, char *why, size_t len)
{
	if (len)
		why[0] = '\0';	/* nothing can fail: it is linked in */
	api->start_daemon = MHD_start_daemon;
	api->stop_daemon = MHD_stop_daemon;
	api->create_response_from_buffer = MHD_create_response_from_buffer;
	api->add_response_header = MHD_add_response_header;
	api->queue_response = MHD_queue_response;
	api->destroy_response = MHD_destroy_response;
	return 0;
}
