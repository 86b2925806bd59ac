#pragma once
#include <libtorrent/torrent_status.hpp>

#include "swarm/types.hpp"

namespace kith::swarm::detail {

TransferStatus to_status(const lt::torrent_status& st);

}  // namespace kith::swarm::detail

#include <libtorrent/peer_info.hpp>

namespace kith::swarm::detail {

PeerStatus to_peer_status(const lt::peer_info& p);

}  // namespace kith::swarm::detail
