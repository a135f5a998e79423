// notify_systemd: the service manager's readiness protocol (sd_notify(3), Type=notify units)
// without libsystemd: one datagram of "KEY=value" lines to the socket $NOTIFY_SOCKET names.
// The daemon says READY=1 once it serves, RELOADING=1 and READY=1 around a SIGHUP reload, and
// STOPPING=1 when it stops. Without $NOTIFY_SOCKET (not under systemd) nothing is sent.
#pragma once

#include <string_view>

namespace tern::net {

// Sends `state` ("READY=1\nSTATUS=...") when $NOTIFY_SOCKET is set; true when it was sent.
bool notify_systemd(std::string_view state);

}  // namespace tern::net
