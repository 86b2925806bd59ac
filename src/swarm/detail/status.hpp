#pragma once
#include <libtorrent/torrent_status.hpp>

#include "swarm/types.hpp"

namespace kith::swarm::detail {

TransferStatus to_status(const lt::torrent_status& st);

}  // namespace kith::swarm::detail

#include <libtorrent/peer_info.hpp>

namespace kith::swarm::detail {

PeerStatus to_peer_status(const lt::peer_info& p);
// "ip:port", "[v6]:port": how endpoints are written in PeerStatus and quarantine records.
std::string endpoint_text(const lt::tcp::endpoint& ep);

}  // namespace kith::swarm::detail
