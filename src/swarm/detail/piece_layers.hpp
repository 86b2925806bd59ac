#pragma once
// BEP 52 piece layers, checked at intake.
//
// libtorrent 2.0.8's parser checks that a v2 torrent has a piece layer of the right size for every
// file larger than a piece, but not that the layer hashes up to the file's "pieces root": a torrent
// whose layers do not is accepted and then refused by add_torrent ("invalid piece layer"), so the
// user saw a session error for what is bad input. Here each layer's merkle root is compared with its
// file's root before anything is added.
#include <libtorrent/torrent_info.hpp>

#include "base/error.hpp"

namespace kith::swarm::detail {

// errc::bad_torrent naming the first file whose piece layer does not hash to its root; ok for a
// v1-only torrent.
Status check_piece_layers(const lt::torrent_info& ti);

}  // namespace kith::swarm::detail
