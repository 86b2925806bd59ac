#include "app/dht_port_adapter.hpp"

namespace kith::app {

// crypto::PublicKey/Signature and swarm::DhtPublicKey/DhtSignature are the same std::array types, so
// keys and signatures pass through unchanged.
static_assert(std::is_same_v<crypto::PublicKey, swarm::DhtPublicKey>);
static_assert(std::is_same_v<crypto::Signature, swarm::DhtSignature>);
static_assert(std::is_same_v<rendezvous::InfoHash, swarm::DhtInfoHash>);

void DhtPortAdapter::announce(const rendezvous::InfoHash& hash, std::uint16_t port) {
  m_host.dht_announce(hash, port);
}

void DhtPortAdapter::get_peers(const rendezvous::InfoHash& hash,
                               std::function<void(Result<std::vector<std::string>>)> done) {
  m_host.dht_get_peers(hash, std::move(done));
}

void DhtPortAdapter::put_mutable(const crypto::PublicKey& key, std::string salt, std::string value,
                                 std::int64_t seq, Signer sign, std::function<void(Status)> done) {
  m_host.dht_put_mutable(key, std::move(salt), std::move(value), seq, std::move(sign), std::move(done));
}

void DhtPortAdapter::get_mutable(const crypto::PublicKey& key, std::string salt,
                                 std::function<void(Result<std::optional<rendezvous::DhtItem>>)> done) {
  m_host.dht_get_mutable(key, std::move(salt), [done = std::move(done)](Result<swarm::MutableItem> r) {
    if (r) {
      done(std::optional<rendezvous::DhtItem>(rendezvous::DhtItem{std::move(r->value), r->seq}));
    } else if (r.error().code == swarm::make_error_code(swarm::errc::dht_not_found)) {
      done(std::optional<rendezvous::DhtItem>{});
    } else {
      done(tl::unexpected(r.error()));
    }
  });
}

}  // namespace kith::app
