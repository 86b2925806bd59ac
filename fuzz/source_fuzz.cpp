// Fuzz target: what `kith get` accepts from outside — magnet links and .torrent bytes. Invariant:
// whatever parses hands libtorrent no list longer than swarm/limits.hpp allows.
#include <cstdint>
#include <cstdlib>
#include <libtorrent/torrent_info.hpp>
#include <string_view>

#include "swarm/detail/source_data.hpp"
#include "swarm/limits.hpp"
#include "swarm/source.hpp"

using namespace kith::swarm;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  if (auto m = parse_magnet(input)) {
    const auto& p = m->data->params;
    if (p.trackers.size() > MAX_TRACKERS || p.tracker_tiers.size() > MAX_TRACKERS ||
        p.url_seeds.size() + p.http_seeds.size() > MAX_WEB_SEEDS || p.peers.size() > MAX_PEER_HINTS ||
        p.dht_nodes.size() > MAX_DHT_NODES || p.file_priorities.size() > MAX_SELECTED_INDEX + 1)
      std::abort();
  }
  if (auto t = parse_torrent(input)) {
    const auto& ti = *t->data->params.ti;
    if (ti.trackers().size() > MAX_TRACKERS || ti.web_seeds().size() > MAX_WEB_SEEDS ||
        ti.nodes().size() > MAX_DHT_NODES)
      std::abort();
  }
  return 0;
}
