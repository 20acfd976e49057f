/* SPDX-License-Identifier: GPL-2.0-only */
/* systemd's readiness protocol (sd_notify(3)) over NOTIFY_SOCKET. */
#ifndef TCL_NOTIFY_H
#define TCL_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

/* NOTIFY_SOCKET's value as a socket address: a path, or '@' for an
 * abstract name. 0, or -1 when it is neither or too long.
 */
int notify_address(const char *value, struct sockaddr_un *sa, socklen_t *len);
/* Connect to NOTIFY_SOCKET if set, and unset it. Before privileges are
 * dropped: systemd's socket may be root's. A socket that cannot be
 * reached is a one-line warning, never an error: messages then go nowhere.
 */
void notify_open(void);
/* One message ("READY=1\nSTATUS=..."). wait: may block until systemd
 * takes it (READY, STOPPING); otherwise dropped if its queue is full.
 */
void notify_send(const char *msg, bool wait);
void notify_close(void);
bool notify_enabled(void);

#endif
