#pragma once
// The harness of the messenger tests (messenger_test.cpp, messenger_reach_test.cpp): messengers in one
// process, each with its own io_context (run by two threads), its own in-memory database and an
// injected clock, talking over real TLS channels on 127.0.0.1. Every wait has a deadline that fails
// the test; no test asserts a duration.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <thread>

#include "base/hex.hpp"
#include "crypto/random.hpp"
#include "crypto/tls.hpp"
#include "identity/kith_id.hpp"
#include "messaging/messenger.hpp"
#include "store/migrations.hpp"

namespace kith::messenger_test {

using namespace std::chrono_literals;
using messaging::Messenger;

constexpr auto DEADLINE = 20s;

// Waits for `start(done)`'s answer; a missing answer fails the test (by an exception gtest reports).
template <class T, class Start>
T wait_answer(Start start, const char* what = "an answer") {
  auto promise = std::make_shared<std::promise<T>>();
  auto future = promise->get_future();
  start(base::Done<T>([promise](T value) { promise->set_value(std::move(value)); }));
  if (future.wait_for(DEADLINE) != std::future_status::ready)
    throw std::runtime_error(std::string("no ") + what + " before the deadline");
  return future.get();
}

// Polls `pred` until it holds; fails the test at the deadline.
template <class Pred>
void eventually(Pred pred, const std::string& what) {
  const auto until = std::chrono::steady_clock::now() + DEADLINE;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > until) throw std::runtime_error("never happened: " + what);
    std::this_thread::sleep_for(5ms);
  }
}

// The messengers' clock: unix milliseconds that move only when the test says so.
struct FakeClock {
  std::atomic<std::int64_t> ms{1'760'000'000'000};
  void advance(std::chrono::milliseconds d) { ms += d.count(); }
};

// What a messenger announced, in order. Also checks that the sink is never entered twice at once.
class EventLog {
 public:
  void add(const messaging::Event& e) {
    if (m_inside.exchange(true)) m_overlapped = true;
    {
      std::lock_guard lock(m_mutex);
      m_events.push_back(e);
    }
    m_inside = false;
    m_changed.notify_all();
  }
  std::vector<messaging::Event> all() const {
    std::lock_guard lock(m_mutex);
    return m_events;
  }
  template <class E>
  std::vector<E> of() const {
    std::vector<E> out;
    for (const auto& e : all())
      if (auto* x = std::get_if<E>(&e)) out.push_back(*x);
    return out;
  }
  // Waits until `n` events of type E arrived; returns them.
  template <class E>
  std::vector<E> wait(std::size_t n, const std::string& what) {
    std::unique_lock lock(m_mutex);
    auto count = [&] {
      std::size_t c = 0;
      for (const auto& e : m_events) c += std::holds_alternative<E>(e);
      return c;
    };
    if (!m_changed.wait_for(lock, DEADLINE, [&] { return count() >= n; }))
      throw std::runtime_error("no event before the deadline: " + what);
    lock.unlock();
    return of<E>();
  }
  bool overlapped() const { return m_overlapped; }

 private:
  mutable std::mutex m_mutex;
  std::condition_variable m_changed;
  std::vector<messaging::Event> m_events;
  std::atomic<bool> m_inside{false}, m_overlapped{false};
};

// A person with one device: keys and a database that outlive their messengers (restarts).
struct Person {
  explicit Person(std::string n) : name(std::move(n)) {
    auto opened = store::Database::open(store::Database::IN_MEMORY, store::state_migrations());
    if (!opened) throw std::runtime_error(opened.error().message);
    db = std::move(*opened);
    contacts = std::make_unique<store::ContactStore>(*db);
    messages = std::make_unique<store::MessageStore>(*db);
    offers = std::make_unique<store::FileOfferStore>(*db);
  }
  std::string id() const { return identity::encode_id(user.public_key()); }

  std::string name;
  crypto::SigningKey user = std::move(*crypto::SigningKey::generate());
  crypto::SigningKey device = std::move(*crypto::SigningKey::generate());
  std::unique_ptr<store::Database> db;
  std::unique_ptr<store::ContactStore> contacts;
  std::unique_ptr<store::MessageStore> messages;
  std::unique_ptr<store::FileOfferStore> offers;
  FakeClock clock;
  std::uint16_t port = 0;  // 0 until the first start; restarts listen on the same port
  bool relay = true;       // Options::relay.enabled
  bool reachable = true;   // false: advertises no address (as behind a NAT: nobody can dial it)
  std::chrono::milliseconds request_only_timeout{10'000};
  std::string bell;                      // Options::bell: put in invites
  Messenger::CallSignalHandler on_call;  // set_call_signals, when set
};

struct OfferHooks {
  Messenger::OfferHandler on_offer;
  Messenger::OfferAckHandler on_ack;
  Messenger::OfferProgressHandler on_progress = nullptr;
};

// One running messenger of a person, on its own io_context with two threads.
class Running {
 public:
  Running(Person& p, std::function<void(Messenger&, const messaging::Event&)> also = nullptr,
          std::optional<OfferHooks> offers = std::nullopt)
      : m_person(p), m_guard(boost::asio::make_work_guard(m_io)) {
    messaging::Options o;
    o.listen = "127.0.0.1:" + std::to_string(p.port);
    o.name = p.name;
    o.advertise = [reachable = p.reachable](std::uint16_t port) {
      return reachable ? std::vector<std::string>{"127.0.0.1:" + std::to_string(port)}
                       : std::vector<std::string>{};
    };
    o.tick = 20ms;
    o.relay.enabled = p.relay;
    o.request_only_timeout = p.request_only_timeout;
    o.bell = p.bell;
    o.ringing = [this](std::vector<std::string> bells) {
      std::lock_guard lock(m_ringing_mutex);
      m_ringing = std::move(bells);
    };
    m = std::make_unique<Messenger>(
        m_io, o, p.user, p.device, *p.contacts, *p.messages,
        [this, also](const messaging::Event& e) {
          events.add(e);
          if (also) also(*m, e);
        },
        [&clock = p.clock] { return clock.ms.load(); });
    if (offers) m->set_file_offers(p.offers.get(), offers->on_offer, offers->on_ack, offers->on_progress);
    if (p.on_call) m->set_call_signals(p.on_call);
    for (int i = 0; i < 2; ++i) m_threads.emplace_back([this] { m_io.run(); });
    auto started = m->start();
    if (!started) throw std::runtime_error(started.error().message);
    p.port = m->port();
  }
  ~Running() {
    m->stop();
    // Its answer comes after the stop reached the strand.
    (void)wait_answer<Result<messaging::MessengerStatus>>([&](auto done) { m->status(std::move(done)); });
    m_guard.reset();
    m_io.stop();
    for (auto& t : m_threads) t.join();
    m.reset();
  }

  std::string invite() const { return m->invite(); }
  std::vector<std::string> ringing() const {  // the bells the messenger last asked to ring
    std::lock_guard lock(m_ringing_mutex);
    return m_ringing;
  }

  std::unique_ptr<Messenger> m;
  EventLog events;

 private:
  Person& m_person;
  mutable std::mutex m_ringing_mutex;
  std::vector<std::string> m_ringing;
  boost::asio::io_context m_io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> m_guard;
  std::vector<std::thread> m_threads;
};

template <class T>
T value(Result<T> r) {
  if (!r) throw std::runtime_error("unexpected error: " + r.error().message);
  return std::move(*r);
}

inline void ok(const Status& s) {
  if (!s) throw std::runtime_error("unexpected error: " + s.error().message);
}

// Shorthands for the calls the tests make, waiting for their answers.
inline Result<messaging::ContactView> add_contact(Running& r, const std::string& invite,
                                                  const std::string& note = "") {
  return wait_answer<Result<messaging::ContactView>>(
      [&](auto done) { r.m->add_contact(invite, "", note, done); });
}
inline Result<messaging::ContactView> accept(Running& r, const std::string& who) {
  return wait_answer<Result<messaging::ContactView>>([&](auto done) { r.m->accept(who, done); });
}
inline Result<messaging::ContactView> contact(Running& r, const std::string& who) {
  return wait_answer<Result<messaging::ContactView>>([&](auto done) { r.m->contact(who, done); });
}
inline Result<messaging::MessageView> send(Running& r, const std::string& who, const std::string& text) {
  return wait_answer<Result<messaging::MessageView>>([&](auto done) { r.m->send_text(who, text, done); });
}
inline Result<messaging::InboxPage> inbox(Running& r, const std::string& with, std::int64_t after = 0,
                                          const std::string& search = "") {
  return wait_answer<Result<messaging::InboxPage>>(
      [&](auto done) { r.m->inbox(with, search, 100, after, done); });
}
inline Result<messaging::MessageDetails> message(Running& r, const std::string& id) {
  return wait_answer<Result<messaging::MessageDetails>>([&](auto done) { r.m->message(id, done); });
}
inline messaging::MessengerStatus status(Running& r) {
  return value(wait_answer<Result<messaging::MessengerStatus>>([&](auto done) { r.m->status(done); }));
}

// `a` asks `b`, `b` accepts: both see each other online afterwards.
inline void befriend(Running& a, Person& pa, Running& b, Person& pb) {
  const auto a_online = a.events.of<messaging::ContactOnline>().size();
  const auto b_online = b.events.of<messaging::ContactOnline>().size();
  value(add_contact(a, b.invite()));
  b.events.wait<messaging::ContactRequested>(b.events.of<messaging::ContactRequested>().size() + 1,
                                             pb.name + " gets " + pa.name + "'s request");
  value(accept(b, pa.id()));
  a.events.wait<messaging::ContactOnline>(a_online + 1, pa.name + " sees " + pb.name + " online");
  b.events.wait<messaging::ContactOnline>(b_online + 1, pb.name + " sees " + pa.name + " online");
}

inline bool is_stopping(const Error& e) { return e.code == base::make_error_code(base::errc::unavailable); }

}  // namespace kith::messenger_test
