#include "swarm/detail/peer_id_filter.hpp"

#include <spdlog/spdlog.h>

#include <libtorrent/error_code.hpp>
#include <libtorrent/operations.hpp>
#include <libtorrent/peer_connection.hpp>  // peer_info_struct(): to mark the peer banned
#include <libtorrent/peer_connection_handle.hpp>
#include <libtorrent/torrent_peer.hpp>

#include "base/hex.hpp"

namespace kith::swarm::detail {
namespace {

class PeerPart : public lt::peer_plugin {
 public:
  PeerPart(std::shared_ptr<PeerIdFilter> filter, lt::peer_connection_handle h)
      : m_filter(std::move(filter)), m_handle(std::move(h)) {}

  lt::string_view type() const override { return "kith_peer_id_filter"; }

  bool on_handshake(lt::span<char const>) override {
    m_handshaken = true;
    check();
    return true;
  }

  // Rules added while a peer is connected apply to it too, within a second.
  void tick() override {
    int generation = 0;
    (void)m_filter->rules(&generation);
    if (m_handshaken && generation != m_checked_generation) check();
  }

 private:
  void check() {
    int generation = 0;
    auto rules = m_filter->rules(&generation);
    m_checked_generation = generation;
    if (m_handle.is_disconnecting() || !PeerIdFilter::matches(*rules, m_handle.pid())) return;
    m_filter->count_refusal();
    const auto& ep = m_handle.remote();
    spdlog::info("refused peer {}:{}: its peer ID {} is on the block list", ep.address().to_string(),
                 ep.port(),
                 base::to_hex(std::string_view(m_handle.pid().data(),
                                               static_cast<std::size_t>(m_handle.pid().size()))));
    // Banned in the torrent's peer list: libtorrent will not dial this endpoint again in this
    // session. Only a flag on the network thread's own record (we are on that thread); the peer
    // list counts it as a non-candidate when the connection closes below.
    if (auto pc = m_handle.native_handle()) {
      if (auto* tp = pc->peer_info_struct()) tp->banned = true;
    }
    m_handle.disconnect(lt::errors::peer_banned, lt::operation_t::bittorrent);
  }

  std::shared_ptr<PeerIdFilter> m_filter;
  lt::peer_connection_handle m_handle;
  bool m_handshaken = false;
  int m_checked_generation = -1;
};

class TorrentPart : public lt::torrent_plugin {
 public:
  explicit TorrentPart(std::shared_ptr<PeerIdFilter> filter) : m_filter(std::move(filter)) {}
  std::shared_ptr<lt::peer_plugin> new_connection(const lt::peer_connection_handle& h) override {
    if (h.type() != lt::connection_type::bittorrent) return {};  // web seeds have no peer ID
    return std::make_shared<PeerPart>(m_filter, h);
  }

 private:
  std::shared_ptr<PeerIdFilter> m_filter;
};

}  // namespace

void PeerIdFilter::set_rules(Rules rules) {
  auto next = std::make_shared<const Rules>(std::move(rules));
  std::lock_guard lock(m_mutex);
  m_rules = std::move(next);
  ++m_generation;
}

std::shared_ptr<const PeerIdFilter::Rules> PeerIdFilter::rules(int* generation) const {
  std::lock_guard lock(m_mutex);
  if (generation) *generation = m_generation;
  return m_rules;
}

bool PeerIdFilter::matches(const Rules& rules, const lt::peer_id& id) {
  std::string_view pid(id.data(), static_cast<std::size_t>(id.size()));
  for (const auto& r : rules) {
    if (r.prefix ? pid.substr(0, r.bytes.size()) == r.bytes : pid == r.bytes) return true;
  }
  return false;
}

std::shared_ptr<lt::torrent_plugin> PeerIdFilter::new_torrent(const lt::torrent_handle&, lt::client_data_t) {
  return std::make_shared<TorrentPart>(shared_from_this());
}

}  // namespace kith::swarm::detail
