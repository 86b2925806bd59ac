#pragma once
// Applies swarm/limits.hpp to what a link, a .torrent or stored resume data hands to libtorrent.
#include <libtorrent/add_torrent_params.hpp>
#include <libtorrent/bdecode.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace kith::swarm::detail {

// How many entries of each list were dropped (past the limit, or duplicates).
struct Dropped {
  std::size_t trackers = 0;
  std::size_t web_seeds = 0;
  std::size_t peers = 0;
  std::size_t dht_nodes = 0;
  bool any() const { return trackers + web_seeds + peers + dht_nodes > 0; }
  // "9800 trackers, 3 web seeds" (only the lists that lost entries).
  std::string describe() const;
};

// Dedupes and caps the trackers (keeping their tiers), web seeds, peers and DHT nodes of parsed
// magnet or resume data, in place, keeping the first entries in their order. `peers` false leaves
// the peers alone: resume data lists the peers libtorrent itself collected from the swarm (bounded
// by its peer list), which a restart should keep.
Dropped cap_lists(lt::add_torrent_params& params, bool peers = true);

// The same for the lists outside the info dict of a decoded .torrent (announce-list, url-list,
// httpseeds, nodes): the bencoded torrent with those lists cut and every other key (the info dict
// above all, so the info-hashes) byte for byte as it was; nullopt when nothing had to go or `torrent`
// is not a dictionary (then the parser reports what is wrong with it).
std::optional<std::string> cap_torrent_lists(const lt::bdecode_node& torrent, Dropped& dropped);

// Logs one line naming what was dropped from `what` (a transfer, by id: never the link's own text),
// if anything was.
void log_dropped(const Dropped& dropped, std::string_view what);

}  // namespace kith::swarm::detail
