#pragma once
// What rendezvous needs from a DHT, declared here so that rendezvous does not depend on swarm: the app
// implements it by forwarding to swarm::SessionHost (app/dht_port_adapter.hpp), so a node runs one
// DHT. Tests implement it in memory or over a private loopback DHT.
#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "crypto/sign.hpp"

namespace kith::rendezvous {

using InfoHash = std::array<std::uint8_t, 20>;  // a BEP 5 swarm key

struct DhtItem {
  std::string value;  // opaque bytes, at most MAX_RECORD
  std::int64_t seq = 0;
};

class DhtPort {
 public:
  // Returns `key`'s signature of the BEP 44 signature input; called once per put, on any thread,
  // and must not block.
  using Signer = std::function<crypto::Signature(std::string_view canonical)>;

  virtual ~DhtPort() = default;
  // Stores a BEP 44 mutable item under (key, salt) with sequence number at least `seq`. `done` is
  // called exactly once, on any thread: ok when some DHT node stored it.
  virtual void put_mutable(const crypto::PublicKey& key, std::string salt, std::string value,
                           std::int64_t seq, Signer sign, std::function<void(Status)> done) = 0;
  // Reads the item with the highest seq under (key, salt). `done` is called exactly once, on any
  // thread: an item, std::nullopt when no node holds one, or an error when the DHT is unusable.
  virtual void get_mutable(const crypto::PublicKey& key, std::string salt,
                           std::function<void(Result<std::optional<DhtItem>>)> done) = 0;
  // BEP 5: tells the DHT that TCP `port` on our address, as DHT nodes see it (a NAT's public address),
  // is in swarm `hash`. Fire and forget; announces last about 30 minutes.
  virtual void announce(const InfoHash& hash, std::uint16_t port) = 0;
  // BEP 5 get_peers: the "ip:port" addresses announced under `hash` (maybe none). `done` is called
  // exactly once, on any thread; an error when the DHT is unusable.
  virtual void get_peers(const InfoHash& hash,
                         std::function<void(Result<std::vector<std::string>>)> done) = 0;
};

}  // namespace kith::rendezvous
