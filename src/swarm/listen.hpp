#pragma once
// The listen addresses of the bt.listen and bt.ssl_listen settings: comma-separated IP:PORT entries
// ("0.0.0.0:6881,[::]:6881", "127.0.0.1:0"; port 0 picks a free port).
//
// The one reader of those settings: the settings registry checks them with parse_listen(), and the
// session is given libtorrent's listen_interfaces rebuilt from what parse_listen() returned
// (listen_interfaces()), never the user's text. So a value is accepted exactly when the session can
// listen as it says. libtorrent's own parser is not exported by the library, and it skips a bad entry
// with only an alert: "garbage" would leave the node listening nowhere. Stricter than libtorrent on
// purpose: no device names ("eth0:6881") or flag suffixes, because the addresses also become the peer
// hints of magnet links (peer_hints.hpp).
#include <string>
#include <string_view>
#include <vector>

#include "base/endpoint.hpp"
#include "base/error.hpp"

namespace kith::swarm {

// Each entry with base::parse_ip_port (port 0 allowed). Empty text: no entries (an SSL listener that
// is off); whether that is allowed is the caller's call. bad_input naming the entry that is wrong.
Result<std::vector<base::HostPort>> parse_listen(std::string_view text);

// libtorrent's listen_interfaces text for these entries ("[::]:6881,127.0.0.1:0"), each with
// libtorrent's "s" suffix when `ssl`.
std::string listen_interfaces(const std::vector<base::HostPort>& entries, bool ssl);

}  // namespace kith::swarm
