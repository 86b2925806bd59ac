#pragma once
// rendezvous::DhtPort over the node's one libtorrent session, so presence records share the swarm's
// DHT (one DHT per node, one routing table, one UDP port); the doorbell's BEP 5 announces too.
#include "rendezvous/dht_port.hpp"
#include "swarm/session_host.hpp"

namespace kith::app {

class DhtPortAdapter final : public rendezvous::DhtPort {
 public:
  // `host` must outlive the adapter. Callbacks run on the host's strand.
  explicit DhtPortAdapter(swarm::SessionHost& host) : m_host(host) {}

  void put_mutable(const crypto::PublicKey& key, std::string salt, std::string value, std::int64_t seq,
                   Signer sign, std::function<void(Status)> done) override;
  void get_mutable(const crypto::PublicKey& key, std::string salt,
                   std::function<void(Result<std::optional<rendezvous::DhtItem>>)> done) override;
  void announce(const rendezvous::InfoHash& hash, std::uint16_t port) override;
  void get_peers(const rendezvous::InfoHash& hash,
                 std::function<void(Result<std::vector<std::string>>)> done) override;

 private:
  swarm::SessionHost& m_host;
};

}  // namespace kith::app
