// SessionHost's BEP 44 mutable items and port mapping (the rest of SessionHost is session_host.cpp).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/steady_timer.hpp>
#include <libtorrent/alert_types.hpp>
#include <libtorrent/bencode.hpp>
#include <libtorrent/entry.hpp>
#include <libtorrent/session.hpp>

#include "base/endpoint.hpp"
#include "swarm/session_host.hpp"

namespace kith::swarm {
namespace {

std::string request_key(const DhtPublicKey& key, const std::string& salt) {
  return std::string(key.begin(), key.end()) + salt;
}

std::string request_key(const std::array<char, 32>& key, const std::string& salt) {
  return std::string(key.begin(), key.end()) + salt;
}

std::string bencoded_string(const std::string& value) { return std::to_string(value.size()) + ":" + value; }

// BEP 44's signature input. libtorrent 2.0.8 has this (dht::canonical_string) but does not export it.
std::string canonical(const std::string& salt, std::int64_t seq, const std::string& bencoded_value) {
  std::string out;
  if (!salt.empty()) out += "4:salt" + std::to_string(salt.size()) + ":" + salt;
  out += "3:seqi" + std::to_string(seq) + "e1:v" + bencoded_value;
  return out;
}

constexpr int DHT_PEERS_TIMEOUT_MS = 12'000;

Error dht_error(errc code, std::string message) { return Error{make_error_code(code), std::move(message)}; }

}  // namespace

void SessionHost::dht_put_mutable(const DhtPublicKey& key, std::string salt, std::string value,
                                  std::int64_t seq, DhtSigner sign, std::function<void(Status)> done) {
  if (bencoded_string(value).size() > DHT_MAX_VALUE || salt.size() > DHT_MAX_SALT) {
    done(fail(base::make_error_code(base::errc::invalid_argument), "DHT item value or salt too long"));
    return;
  }
  if (!*m_alive || !m_session->is_dht_running()) {
    done(tl::unexpected(dht_error(errc::dht_failed, "the DHT is not running")));
    return;
  }
  auto rk = request_key(key, salt);
  std::uint64_t id;
  {
    std::lock_guard lock(m_mutex);
    id = ++m_dht_next_id;
    m_dht_puts[rk].push_back({id, std::move(done)});
  }
  arm_dht_timer(rk, id, m_dht_timeout_ms, false);
  std::array<char, 32> k{};
  std::copy(key.begin(), key.end(), k.begin());
  // Runs on libtorrent's network thread once the put traversal found the closest nodes; `item`
  // and `current` are what they hold (empty, 0 if nothing).
  auto cb = [value = std::move(value), seq, sign = std::move(sign)](
                lt::entry& item, std::array<char, 64>& sig, std::int64_t& current, const std::string& s) {
    item = lt::entry(value);
    current = std::max(seq, current + 1);
    auto signature = sign(canonical(s, current, bencoded_string(value)));
    std::copy(signature.begin(), signature.end(), sig.begin());
  };
  m_session->dht_put_item(k, std::move(cb), std::move(salt));
}

void SessionHost::dht_get_mutable(const DhtPublicKey& key, std::string salt,
                                  std::function<void(Result<MutableItem>)> done) {
  if (!*m_alive || !m_session->is_dht_running()) {
    done(tl::unexpected(dht_error(errc::dht_failed, "the DHT is not running")));
    return;
  }
  auto rk = request_key(key, salt);
  std::uint64_t id;
  {
    std::lock_guard lock(m_mutex);
    id = ++m_dht_next_id;
    m_dht_gets[rk].push_back({id, std::move(done), std::nullopt});
  }
  arm_dht_timer(rk, id, m_dht_timeout_ms, true);
  std::array<char, 32> k{};
  std::copy(key.begin(), key.end(), k.begin());
  m_session->dht_get_item(k, std::move(salt));
}

void SessionHost::dht_announce(const DhtInfoHash& hash, std::uint16_t port) {
  if (!*m_alive || !m_session->is_dht_running()) return;
  lt::sha1_hash h;
  std::copy(hash.begin(), hash.end(), h.begin());
  m_session->dht_announce(h, port);
}

void SessionHost::dht_get_peers(const DhtInfoHash& hash,
                                std::function<void(Result<std::vector<std::string>>)> done) {
  if (!*m_alive || !m_session->is_dht_running()) {
    done(tl::unexpected(dht_error(errc::dht_failed, "the DHT is not running")));
    return;
  }
  std::string key(hash.begin(), hash.end());
  std::uint64_t id;
  {
    std::lock_guard lock(m_mutex);
    id = ++m_dht_next_id;
    m_dht_peer_gets[key].push_back({id, std::move(done), {}, false});
  }
  // libtorrent says nothing when a get_peers traversal ends without peers: an empty answer waits for
  // the time limit. Shorter than a mutable get's, since the doorbell's answer polls (every 10 s) run
  // one at a time; traversals that find peers answer within a few seconds.
  arm_peer_get_timer(key, id, std::min(m_dht_timeout_ms, DHT_PEERS_TIMEOUT_MS));
  lt::sha1_hash h;
  std::copy(hash.begin(), hash.end(), h.begin());
  m_session->dht_get_peers(h);
}

// A get_peers' grace or time limit ran out: it answers with the peers gathered so far (maybe none).
void SessionHost::expire_peer_get(const std::string& hash, std::uint64_t id) {
  std::optional<PendingPeers> g;
  {
    std::lock_guard lock(m_mutex);
    auto it = m_dht_peer_gets.find(hash);
    if (it == m_dht_peer_gets.end()) return;
    auto& q = it->second;
    auto pos = std::find_if(q.begin(), q.end(), [id](const PendingPeers& p) { return p.id == id; });
    if (pos == q.end()) return;
    g = std::move(*pos);
    q.erase(pos);
    if (q.empty()) m_dht_peer_gets.erase(it);
  }
  g->done(std::vector<std::string>(g->peers.begin(), g->peers.end()));
}

void SessionHost::map_port(std::uint16_t tcp_port) {
  m_mapped_port = tcp_port;
  m_session->add_port_mapping(lt::portmap_protocol::tcp, tcp_port, tcp_port);
}

void SessionHost::report_mapping() {
  if (!m_port_granted) return;
  // libtorrent 2.0 takes the external IP a router reports as a vote of one listen socket and posts no
  // alert for it; without an external_ip_alert the port goes alone (the messenger pairs it with the
  // public IP its peers see).
  auto address = m_external_ip.empty() ? std::to_string(m_mapped_port.load())
                                       : base::join_host_port(m_external_ip, m_mapped_port);
  if (address == m_reported_mapping) return;
  m_reported_mapping = address;
  spdlog::info("the router forwards {} to our port {}", address, m_mapped_port.load());
  SwarmEvent e{SwarmEvent::Kind::port_mapped};
  e.path = std::move(address);
  m_on_event(e);
}

void SessionHost::add_private_dht_nodes(const std::string& list) {
  std::size_t start = 0;
  while (start < list.size()) {
    auto end = list.find(',', start);
    if (end == std::string::npos) end = list.size();
    auto entry = list.substr(start, end - start);
    start = end + 1;
    if (entry.empty()) continue;
    if (auto node = base::parse_host_port(entry))
      m_session->add_dht_node({node->host, node->port});
    else
      spdlog::warn("ignoring DHT node '{}': not host:port: {}", entry, node.error().message);
  }
}

bool SessionHost::handle_dht_alert(const lt::alert* a) {
  if (const auto* put = lt::alert_cast<lt::dht_put_alert>(a)) {
    std::function<void(Status)> done;
    {
      std::lock_guard lock(m_mutex);
      auto it = m_dht_puts.find(request_key(put->public_key, put->salt));
      if (it == m_dht_puts.end()) return true;  // an immutable put, one that timed out, or not ours
      done = std::move(it->second.front().done);
      it->second.pop_front();
      if (it->second.empty()) m_dht_puts.erase(it);
    }
    if (put->num_success > 0) {
      done({});
    } else {
      done(tl::unexpected(dht_error(errc::dht_failed, "no DHT node stored the item")));
    }
    return true;
  }
  if (const auto* got = lt::alert_cast<lt::dht_mutable_item_alert>(a)) {
    // Non-authoritative alerts come as soon as some node answers; only the last one (after every node
    // asked has answered or timed out) is sure to carry the highest seq, but it may never come.
    auto rk = request_key(got->key, got->salt);
    if (!got->authoritative) {
      if (got->item.type() != lt::entry::string_t) return true;
      std::vector<std::uint64_t> first_values;
      {
        std::lock_guard lock(m_mutex);
        auto it = m_dht_gets.find(rk);
        if (it == m_dht_gets.end()) return true;
        for (auto& g : it->second) {
          if (!g.best) first_values.push_back(g.id);
          if (!g.best || g.best->seq < got->seq) g.best = MutableItem{got->item.string(), got->seq};
        }
      }
      for (auto id : first_values) arm_dht_timer(rk, id, m_dht_grace_ms, true);
      return true;
    }
    std::function<void(Result<MutableItem>)> done;
    {
      std::lock_guard lock(m_mutex);
      auto it = m_dht_gets.find(rk);
      if (it == m_dht_gets.end()) return true;
      done = std::move(it->second.front().done);
      it->second.pop_front();
      if (it->second.empty()) m_dht_gets.erase(it);
    }
    if (got->item.type() != lt::entry::string_t) {
      done(tl::unexpected(
          dht_error(errc::dht_not_found, "no DHT node holds an item under that key and salt")));
    } else {
      done(MutableItem{got->item.string(), got->seq});
    }
    return true;
  }
  if (const auto* peers = lt::alert_cast<lt::dht_get_peers_reply_alert>(a)) {
    // One alert per node that answered with peers; the first starts the grace period.
    const std::string key(peers->info_hash.begin(), peers->info_hash.end());
    std::vector<std::uint64_t> first;
    {
      std::lock_guard lock(m_mutex);
      auto it = m_dht_peer_gets.find(key);
      if (it == m_dht_peer_gets.end()) return true;  // a torrent's lookup, or one that timed out
      for (auto& g : it->second) {
        for (const auto& ep : peers->peers())
          if (g.peers.size() < 64) g.peers.insert(base::join_host_port(ep.address().to_string(), ep.port()));
        if (!std::exchange(g.answered, true)) first.push_back(g.id);
      }
    }
    for (auto id : first) arm_peer_get_timer(key, id, m_dht_grace_ms);
    return true;
  }
  if (const auto* pm = lt::alert_cast<lt::portmap_alert>(a)) {
    spdlog::info("port mapping: {}", pm->message());
    // Ours is the TCP mapping with our port outside too (libtorrent's own listen ports are others;
    // mapping indices are per router protocol, so they cannot tell ours apart).
    if (pm->map_protocol == lt::portmap_protocol::tcp && m_mapped_port != 0 &&
        pm->external_port == m_mapped_port) {
      m_port_granted = true;
      report_mapping();
    }
    return true;
  }
  if (const auto* ip = lt::alert_cast<lt::external_ip_alert>(a)) {
    if (!ip->external_address.is_unspecified()) {
      m_external_ip = ip->external_address.to_string();
      report_mapping();
    }
    return true;
  }
  if (const auto* pe = lt::alert_cast<lt::portmap_error_alert>(a)) {
    spdlog::warn("port mapping: {}", pe->message());
    return true;
  }
  return false;
}

void SessionHost::fail_pending_dht() {
  decltype(m_dht_puts) puts;
  decltype(m_dht_gets) gets;
  decltype(m_dht_peer_gets) peer_gets;
  {
    std::lock_guard lock(m_mutex);
    puts.swap(m_dht_puts);
    gets.swap(m_dht_gets);
    peer_gets.swap(m_dht_peer_gets);
  }
  for (auto& [k, q] : peer_gets)
    for (auto& g : q) g.done(tl::unexpected(dht_error(errc::dht_failed, "the session shut down")));
  for (auto& [k, q] : puts)
    for (auto& p : q) p.done(tl::unexpected(dht_error(errc::dht_failed, "the session shut down")));
  for (auto& [k, q] : gets)
    for (auto& g : q) g.done(tl::unexpected(dht_error(errc::dht_failed, "the session shut down")));
}

void SessionHost::after_ms(int ms, std::function<void()> then) {
  auto timer = std::make_shared<boost::asio::steady_timer>(m_strand, std::chrono::milliseconds(ms));
  std::weak_ptr<std::atomic<bool>> alive = m_alive;
  timer->async_wait([timer, alive, then = std::move(then)](const boost::system::error_code& ec) {
    if (ec) return;
    if (auto a = alive.lock(); a && *a) then();
  });
}

void SessionHost::arm_dht_timer(const std::string& key, std::uint64_t id, int ms, bool get) {
  after_ms(ms, [this, key, id, get] { expire_dht(key, id, get); });
}

void SessionHost::arm_peer_get_timer(const std::string& hash, std::uint64_t id, int ms) {
  after_ms(ms, [this, hash, id] { expire_peer_get(hash, id); });
}

// A get's grace or time limit ran out, or a put's time limit: answers with what there is, if the
// request is still waiting.
void SessionHost::expire_dht(const std::string& key, std::uint64_t id, bool get) {
  if (get) {
    std::optional<PendingGet> g;
    {
      std::lock_guard lock(m_mutex);
      auto it = m_dht_gets.find(key);
      if (it == m_dht_gets.end()) return;
      auto& q = it->second;
      auto pos = std::find_if(q.begin(), q.end(), [id](const PendingGet& p) { return p.id == id; });
      if (pos == q.end()) return;
      g = std::move(*pos);
      q.erase(pos);
      if (q.empty()) m_dht_gets.erase(it);
    }
    if (g->best) {
      g->done(std::move(*g->best));
    } else {
      g->done(tl::unexpected(dht_error(errc::dht_failed, "the DHT lookup did not finish in time")));
    }
    return;
  }
  std::function<void(Status)> done;
  {
    std::lock_guard lock(m_mutex);
    auto it = m_dht_puts.find(key);
    if (it == m_dht_puts.end()) return;
    auto& q = it->second;
    auto pos = std::find_if(q.begin(), q.end(), [id](const PendingPut& p) { return p.id == id; });
    if (pos == q.end()) return;
    done = std::move(pos->done);
    q.erase(pos);
    if (q.empty()) m_dht_puts.erase(it);
  }
  done(tl::unexpected(dht_error(errc::dht_failed, "the DHT store did not finish in time")));
}

}  // namespace kith::swarm
