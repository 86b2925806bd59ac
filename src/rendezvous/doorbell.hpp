#pragma once
// The doorbell (docs/protocol/channel.md § Doorbell): someone who holds a person's invite but cannot
// dial them (they are behind a NAT) leaves word on the DHT where only holders of that invite look, and
// the person dials back — outgoing connections work from behind a NAT.
//   - ringing: a BEP 5 announce of our contact channel's port under bell_hash(their bell, today). DHT
//     nodes record the announcer's address as they see it: our NAT's public address.
//   - answering: get_peers for our own bell's hash (today's and yesterday's, so a ring just before
//     midnight UTC is heard) every poll interval; the addresses go to a RingHandler (the app hands them
//     to the messenger, which dials them; the ringer's node then sends its contact request or Hello).
//     When someone rang, we also announce our own port under answer_hash(our bell, today): a ringer
//     behind a NAT learns our public address there and dials us at the moment we dial it, so that
//     both routers let the other's SYN in (a TCP simultaneous open, as in messaging/punch.cpp).
//   - hearing answers: while ringing a bell, get_peers for its answer hash every answer_poll; the
//     addresses go to an AnswerHandler.
// The bell secret travels only in invites: a stranger who knows only a kith ID cannot compute the
// hash, so cannot ring, see who rings or learn where the person polls from.
//
// Threading: public methods may be called from any thread and post to the service's strand; the
// RingHandler runs there. Destroy on the io_context's thread or after it stopped.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/sign.hpp"
#include "rendezvous/dht_port.hpp"

namespace kith::rendezvous {

struct DoorbellOptions {
  std::chrono::milliseconds poll_interval = std::chrono::seconds(60);  // rendezvous.bell_poll_s
  // Announces last about 30 minutes in other nodes: ring again well before, while still unreachable.
  std::chrono::milliseconds ring_interval = std::chrono::minutes(5);
  // The first ring may go out before the DHT has nodes to store it (just started, a small network): it
  // is repeated `early_rings` times this soon after, then every ring_interval.
  std::chrono::milliseconds early_ring_interval = std::chrono::seconds(20);
  int early_rings = 3;
  // While ringing, how often to look for the answer: the owner's dial back waits about a minute for our
  // SYN (messaging/rings.cpp), so this must be well under that.
  std::chrono::milliseconds answer_poll = std::chrono::seconds(10);
  std::chrono::milliseconds tick = std::chrono::seconds(1);
};

// Our own bell secret (base32 of identity::BELL_BYTES bytes): the first bytes of SHA-256 of our
// signature of a fixed label. Ed25519 signatures are deterministic (RFC 8032), so it is the same on
// every start without being stored, and only the key's holder can compute it.
std::string own_bell(const crypto::SigningKey& me);
// The BEP 5 key a bell is rung under on `day` (days since the Unix epoch, UTC): the first 20 bytes of
// SHA-256("kith-bell-v1:" bell ":" day), bell as the invite carries it (base32, lower case).
InfoHash bell_hash(std::string_view bell, std::int64_t day);
// Where the bell's owner answers: SHA-256("kith-bell-answer-v1:" bell ":" day), first 20 bytes.
InfoHash answer_hash(std::string_view bell, std::int64_t day);

class Doorbell {
 public:
  using Clock = std::function<std::int64_t()>;  // unix milliseconds; injected for tests
  // Addresses that rang us (new to this poll or not; the handler decides whom to dial).
  using RingHandler = std::function<void(std::vector<std::string> addrs)>;
  // The owner of `bell` (one we ring) answered from these addresses.
  using AnswerHandler = std::function<void(std::string bell, std::vector<std::string> addrs)>;

  Doorbell(boost::asio::io_context& io, DhtPort& dht, std::string own_bell, DoorbellOptions options,
           RingHandler on_ring, AnswerHandler on_answer = {}, Clock clock = {});
  ~Doorbell();
  Doorbell(const Doorbell&) = delete;
  Doorbell& operator=(const Doorbell&) = delete;

  void start();  // polls at once, then every poll interval
  void stop();
  // Our contact channel's port: what ringing announces. Nothing is rung before it is set.
  void set_port(std::uint16_t port);
  // The bells to ring now (people we cannot reach): new ones at once, all every ring interval.
  void set_ringing(std::vector<std::string> bells);

  struct Stats {
    std::int64_t rings = 0;    // announces made
    std::int64_t polls = 0;    // get_peers made for our own bell
    std::int64_t heard = 0;    // addresses found ringing (summed over polls)
    std::int64_t answers = 0;  // answers announced (someone rang) and heard (from bells we ring)
  };
  Stats stats() const;  // on the strand, or when the io_context is not running (tests)
  void stats(std::function<void(Stats)> done) const;

 private:
  void on_tick();
  void poll();
  void ring(const std::string& bell);
  void poll_answer(const std::string& bell);
  std::int64_t today() const;

  boost::asio::strand<boost::asio::io_context::executor_type> m_strand;
  boost::asio::steady_timer m_timer;
  DhtPort& m_dht;
  const std::string m_own_bell;
  DoorbellOptions m_options;
  RingHandler m_on_ring;
  AnswerHandler m_on_answer;
  Clock m_clock;
  // On the strand only.
  std::shared_ptr<bool> m_alive;  // cleared in the destructor: late DHT answers do nothing
  bool m_running = false;
  std::uint16_t m_port = 0;
  struct Ringing {
    std::chrono::steady_clock::time_point rung{}, answer_polled{};  // zero: not yet
    int rings = 0;                                                  // so far
    bool polling = false;                                           // an answer poll is in flight
  };
  std::map<std::string, Ringing> m_ringing;  // by bell
  std::chrono::steady_clock::time_point m_next_poll{};
  int m_polls_in_flight = 0;
  Stats m_stats;
};

}  // namespace kith::rendezvous
