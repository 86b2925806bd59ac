#pragma once
// How much of each list a magnet link or a .torrent may hand to libtorrent (src/swarm/README.md says
// why each number). Links and torrents come from strangers; libtorrent 2.0.8 adds trackers and web
// seeds in time quadratic in their number (each add searches the list for a duplicate) and resolves
// every DHT node name it is given, on its network thread, so one crafted link could stall the node
// for minutes. Entries past a limit, and duplicates, are dropped at intake and the drop is logged.
#include <cstddef>
#include <cstdint>

namespace kith::swarm {

// A .torrent larger than this is refused, from a file or from API bytes alike. The largest real
// torrents (tens of thousands of files, small pieces) are a few MiB.
inline constexpr std::uintmax_t MAX_TORRENT_BYTES = 32u << 20;
// Trackers (magnet tr=, announce-list over all its tiers). Public tracker lists that users paste
// in whole have about 100 entries.
inline constexpr std::size_t MAX_TRACKERS = 200;
// Web seeds (magnet ws=, .torrent url-list and httpseeds together).
inline constexpr std::size_t MAX_WEB_SEEDS = 32;
// Peer addresses in a magnet (x.pe): kith writes one per interface address of the sharing node.
inline constexpr std::size_t MAX_PEER_HINTS = 64;
// DHT nodes (magnet dht=, .torrent nodes): each is a name libtorrent resolves and pings.
inline constexpr std::size_t MAX_DHT_NODES = 32;
// so= (select only): libtorrent's parser ignores indices over 10000, so a selection never holds more
// than this many entries whatever the link says; nothing for kith to cut.
inline constexpr std::size_t MAX_SELECTED_INDEX = 10000;

}  // namespace kith::swarm
