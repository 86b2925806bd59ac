#pragma once
// Presence on the Mainline DHT, private to contacts: publishes where this node's contact channel can
// be reached, one sealed record per contact (record.hpp), and looks contacts' records up.
//
// Threading: every public method may be called from any thread; the work runs on the service's strand,
// and every callback (lookup's `done`, the PresenceHandler) runs there. Destroy the service on that
// io_context's thread or after the io_context stopped; callbacks still pending then are dropped.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "crypto/sign.hpp"
#include "rendezvous/dht_port.hpp"
#include "rendezvous/record.hpp"

namespace kith::rendezvous {

struct Options {
  // BEP 44 nodes drop an item about 2 h after its last put (libtorrent: dht_item_lifetime, 2 h by
  // default): republish well before, so a contact never finds nothing while we are online.
  std::chrono::milliseconds republish_interval = std::chrono::minutes(20);
  // Contacts not marked online are looked up this often; each miss doubles the wait up to the maximum.
  std::chrono::milliseconds lookup_interval = std::chrono::seconds(60);
  std::chrono::milliseconds max_lookup_interval = std::chrono::minutes(15);
  // Records older than this are not believed (the addresses are likely gone). A record republished
  // every 20 minutes is never that old while its publisher is online.
  std::chrono::milliseconds max_age = std::chrono::hours(2);
  // A periodic lookup without an answer after this long counts as a miss (a DHT that never answers
  // must not stop a contact from being looked up again).
  std::chrono::milliseconds lookup_timeout = std::chrono::seconds(90);
  // How often the schedule is checked; the intervals above are met to this precision.
  std::chrono::milliseconds tick = std::chrono::seconds(1);
  bool publish = true;  // false: only look up (a node that must not be found)
};

class Rendezvous {
 public:
  using Clock = std::function<std::int64_t()>;  // unix milliseconds; injected for tests
  // A contact's record was found (periodic lookup) with addresses newer than any seen before.
  using PresenceHandler = std::function<void(const crypto::PublicKey& contact, const Presence& presence)>;

  // `me` (the person's key) must outlive the service; its secret stays inside crypto.
  Rendezvous(boost::asio::io_context& io, DhtPort& dht, const crypto::SigningKey& me, Options options,
             PresenceHandler on_presence = {}, Clock clock = {});
  ~Rendezvous();
  Rendezvous(const Rendezvous&) = delete;
  Rendezvous& operator=(const Rendezvous&) = delete;

  // Starts the periodic publish and lookups. Publishing starts once addresses and contacts are set.
  void start();
  void stop();

  // Where our contact channel listens ("host:port"); republishes at once when they change.
  void set_addresses(std::vector<std::string> addrs);
  // The people allowed to find us; publishes at once for new ones. A removed contact's old record
  // stays in the DHT until it expires (at most ~2 h) with the addresses it had then.
  void set_contacts(std::vector<crypto::PublicKey> contacts);
  // Contacts marked online (a contact channel is up) are not looked up periodically.
  void set_online(const crypto::PublicKey& contact, bool online);

  // One lookup of `contact`'s record for us, now. not_found when there is none (offline, or we are
  // not their contact); stale, replayed or bad_record when there is one we must not believe.
  void lookup(const crypto::PublicKey& contact, std::function<void(Result<Presence>)> done);

  struct Stats {
    std::int64_t puts_ok = 0, puts_failed = 0, lookups = 0, found = 0;
  };
  Stats stats() const;  // call on the strand, or when the io_context is not running (tests)
  // From any thread: `done` gets the stats on the service's strand.
  void stats(std::function<void(Stats)> done) const;

 private:
  struct Contact {
    bool usable = false;                               // false: the key makes no pair secret (bad_key)
    PairKeys out;                                      // records we write for them
    PairKeys in;                                       // records they write for us
    std::shared_ptr<const crypto::SigningKey> signer;  // from out.dht_seed; captured by in-flight puts
    bool online = false;
    std::chrono::milliseconds backoff{0};
    std::chrono::steady_clock::time_point next_lookup{};
    bool lookup_in_flight = false;
    std::uint64_t lookup_id = 0;  // which lookup is in flight: a late answer to a timed-out one is ignored
    std::chrono::steady_clock::time_point lookup_started{};
    bool published = false;  // a record with the current addresses was stored for them
  };

  void on_tick();
  void schedule();
  void publish_all();
  void publish_to(const crypto::PublicKey& key, Contact& c, std::int64_t published_at);
  std::int64_t next_published_at();
  void do_lookup(const crypto::PublicKey& key, std::function<void(Result<Presence>)> done);
  Contact make_contact(const crypto::PublicKey& key) const;
  std::int64_t now_ms() const;

  boost::asio::strand<boost::asio::io_context::executor_type> m_strand;
  boost::asio::steady_timer m_timer;
  DhtPort& m_dht;
  const crypto::SigningKey& m_me;
  Options m_options;
  PresenceHandler m_on_presence;
  Clock m_clock;
  // State below: on the strand only.
  std::shared_ptr<bool> m_alive;  // cleared in the destructor: late DHT callbacks do nothing
  bool m_running = false;
  std::vector<std::string> m_addrs;
  std::map<crypto::PublicKey, Contact> m_contacts;
  // Highest published_at read from each key looked up (contact or not): an older record is a replay.
  std::map<crypto::PublicKey, std::int64_t> m_newest_seen;
  std::int64_t m_last_published_at = 0;
  std::chrono::steady_clock::time_point m_next_publish{};
  Stats m_stats;
};

}  // namespace kith::rendezvous
