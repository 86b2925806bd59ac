#pragma once
#include <libtorrent/settings_pack.hpp>

#include "swarm/session_host.hpp"

namespace kith::swarm::detail {

// Translates kith's session options into libtorrent settings, with kith's tuning on top.
lt::settings_pack make_settings(const SessionOptions& options);
// listen_interfaces: `listen`, then each `ssl_listen` entry with libtorrent's "s" (SSL) suffix.
std::string listen_interfaces(const SessionOptions& options);

}  // namespace kith::swarm::detail
