#include "swarm/detail/intake_limits.hpp"

#include <spdlog/spdlog.h>

#include <libtorrent/bencode.hpp>
#include <libtorrent/entry.hpp>
#include <set>
#include <unordered_set>
#include <utility>

#include "swarm/limits.hpp"

namespace kith::swarm::detail {
namespace {

// Keeps the first `limit` distinct entries of `list` (in order); returns how many went.
template <class T>
std::size_t keep_first_distinct(std::vector<T>& list, std::size_t limit) {
  std::set<T> seen;
  std::vector<T> kept;
  std::size_t dropped = 0;
  for (auto& item : list) {
    if (kept.size() >= limit || !seen.insert(item).second) {
      ++dropped;
      continue;
    }
    kept.push_back(item);
  }
  if (dropped > 0) list = std::move(kept);
  return dropped;
}

lt::entry verbatim(const lt::bdecode_node& node) {
  auto bytes = node.data_section();
  return lt::entry(lt::entry::preformatted_type(bytes.begin(), bytes.end()));
}

void append(std::string& out, std::size_t n, const char* one, const char* many) {
  if (n == 0) return;
  if (!out.empty()) out += ", ";
  out += std::to_string(n) + " " + (n == 1 ? one : many);
}

}  // namespace

std::string Dropped::describe() const {
  std::string out;
  append(out, trackers, "tracker", "trackers");
  append(out, web_seeds, "web seed", "web seeds");
  append(out, peers, "peer address", "peer addresses");
  append(out, dht_nodes, "DHT node", "DHT nodes");
  return out;
}

Dropped cap_lists(lt::add_torrent_params& p, bool peers) {
  Dropped d;
  {
    // Trackers carry a parallel list of tiers (which may be shorter: missing tiers are 0).
    std::unordered_set<std::string> seen;
    std::vector<std::string> urls;
    std::vector<int> tiers;
    for (std::size_t i = 0; i < p.trackers.size(); ++i) {
      if (urls.size() >= MAX_TRACKERS || !seen.insert(p.trackers[i]).second) {
        ++d.trackers;
        continue;
      }
      urls.push_back(p.trackers[i]);
      tiers.push_back(i < p.tracker_tiers.size() ? p.tracker_tiers[i] : 0);
    }
    if (d.trackers > 0) {
      p.trackers = std::move(urls);
      p.tracker_tiers = std::move(tiers);
    }
  }
  d.web_seeds = keep_first_distinct(p.url_seeds, MAX_WEB_SEEDS);
  d.web_seeds += keep_first_distinct(p.http_seeds, MAX_WEB_SEEDS - p.url_seeds.size());
  if (peers) d.peers = keep_first_distinct(p.peers, MAX_PEER_HINTS);
  d.dht_nodes = keep_first_distinct(p.dht_nodes, MAX_DHT_NODES);
  return d;
}

std::optional<std::string> cap_torrent_lists(const lt::bdecode_node& torrent, Dropped& d) {
  if (torrent.type() != lt::bdecode_node::dict_t) return std::nullopt;
  using list = lt::entry::list_type;

  // announce-list: tiers of URLs; the first MAX_TRACKERS distinct URLs over all tiers stay.
  std::optional<lt::entry> announce;
  if (auto tiers = torrent.dict_find_list("announce-list")) {
    std::unordered_set<std::string> seen;
    list kept_tiers;
    for (int t = 0; t < tiers.list_size(); ++t) {
      auto tier = tiers.list_at(t);
      if (tier.type() != lt::bdecode_node::list_t) continue;  // libtorrent skips these too
      list kept;
      for (int i = 0; i < tier.list_size(); ++i) {
        auto url = tier.list_at(i);
        if (url.type() != lt::bdecode_node::string_t) continue;
        std::string text(url.string_value());
        if (seen.size() >= MAX_TRACKERS || !seen.insert(text).second) {
          ++d.trackers;
          continue;
        }
        kept.emplace_back(std::move(text));
      }
      if (!kept.empty()) kept_tiers.emplace_back(std::move(kept));
    }
    announce = lt::entry(std::move(kept_tiers));
  }

  // url-list (one string or a list) and httpseeds: MAX_WEB_SEEDS distinct URLs between them.
  std::set<std::string> seeds;
  auto take_seeds = [&](const lt::bdecode_node& node) {
    list kept;
    auto one = [&](const lt::bdecode_node& url) {
      if (url.type() != lt::bdecode_node::string_t) return;
      std::string text(url.string_value());
      if (seeds.size() >= MAX_WEB_SEEDS || !seeds.insert(text).second) {
        ++d.web_seeds;
        return;
      }
      kept.emplace_back(std::move(text));
    };
    if (node.type() == lt::bdecode_node::list_t)
      for (int i = 0; i < node.list_size(); ++i) one(node.list_at(i));
    else
      one(node);
    return lt::entry(std::move(kept));
  };
  std::optional<lt::entry> url_list, http_seeds;
  if (auto n = torrent.dict_find("url-list")) url_list = take_seeds(n);
  if (auto n = torrent.dict_find_list("httpseeds")) http_seeds = take_seeds(n);

  // nodes: [host, port] pairs.
  std::optional<lt::entry> nodes;
  if (auto n = torrent.dict_find_list("nodes")) {
    std::set<std::pair<std::string, std::int64_t>> seen;
    list kept;
    for (int i = 0; i < n.list_size(); ++i) {
      auto node = n.list_at(i);
      if (node.type() != lt::bdecode_node::list_t || node.list_size() < 2 ||
          node.list_at(0).type() != lt::bdecode_node::string_t ||
          node.list_at(1).type() != lt::bdecode_node::int_t)
        continue;  // libtorrent ignores malformed entries
      std::pair<std::string, std::int64_t> entry{std::string(node.list_at(0).string_value()),
                                                 node.list_at(1).int_value()};
      if (seen.size() >= MAX_DHT_NODES || !seen.insert(entry).second) {
        ++d.dht_nodes;
        continue;
      }
      kept.emplace_back(list{lt::entry(entry.first), lt::entry(entry.second)});
    }
    nodes = lt::entry(std::move(kept));
  }

  if (!d.any()) return std::nullopt;
  lt::entry out(lt::entry::dictionary_t);
  auto& dict = out.dict();
  for (int i = 0; i < torrent.dict_size(); ++i) {
    auto [key, value] = torrent.dict_at(i);
    std::string k(key);
    if (dict.count(k)) continue;  // a repeated key: libtorrent reads the first one
    if (k == "announce-list" && announce)
      dict[k] = std::move(*announce);
    else if (k == "url-list" && url_list)
      dict[k] = std::move(*url_list);
    else if (k == "httpseeds" && http_seeds)
      dict[k] = std::move(*http_seeds);
    else if (k == "nodes" && nodes)
      dict[k] = std::move(*nodes);
    else
      dict[k] = verbatim(value);
  }
  std::string bytes;
  lt::bencode(std::back_inserter(bytes), out);
  return bytes;
}

void log_dropped(const Dropped& dropped, std::string_view what) {
  if (!dropped.any()) return;
  spdlog::warn("{}: dropped {} (repeated, or over kith's limits for links and torrents)", what,
               dropped.describe());
}

}  // namespace kith::swarm::detail
