#include "rendezvous/doorbell.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>

#include "base/base32.hpp"
#include "base/hex.hpp"
#include "crypto/hash.hpp"
#include "identity/invite.hpp"

namespace kith::rendezvous {
namespace {

constexpr std::int64_t DAY_MS = 86'400'000;

std::int64_t system_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string sha256(std::string_view data) { return *base::from_hex(crypto::sha256_hex(data)); }

}  // namespace

std::string own_bell(const crypto::SigningKey& me) {
  const auto sig = me.sign("kith-doorbell-v1");
  const auto digest = sha256(std::string_view(reinterpret_cast<const char*>(sig.data()), sig.size()));
  return base::base32_encode(digest.substr(0, identity::BELL_BYTES));
}

InfoHash bell_hash(std::string_view bell, std::int64_t day) {
  const auto digest = sha256("kith-bell-v1:" + std::string(bell) + ":" + std::to_string(day));
  InfoHash out{};
  std::copy_n(digest.begin(), out.size(), out.begin());
  return out;
}

InfoHash answer_hash(std::string_view bell, std::int64_t day) {
  const auto digest = sha256("kith-bell-answer-v1:" + std::string(bell) + ":" + std::to_string(day));
  InfoHash out{};
  std::copy_n(digest.begin(), out.size(), out.begin());
  return out;
}

Doorbell::Doorbell(boost::asio::io_context& io, DhtPort& dht, std::string own_bell, DoorbellOptions options,
                   RingHandler on_ring, AnswerHandler on_answer, Clock clock)
    : m_strand(boost::asio::make_strand(io)),
      m_timer(m_strand),
      m_dht(dht),
      m_own_bell(std::move(own_bell)),
      m_options(options),
      m_on_ring(std::move(on_ring)),
      m_on_answer(std::move(on_answer)),
      m_clock(clock ? std::move(clock) : Clock(system_now_ms)),
      m_alive(std::make_shared<bool>(true)) {}

Doorbell::~Doorbell() {
  m_timer.cancel();
  m_alive.reset();
}

std::int64_t Doorbell::today() const { return m_clock() / DAY_MS; }

void Doorbell::start() {
  boost::asio::post(m_strand, [this, alive = std::weak_ptr<bool>(m_alive)] {
    if (!alive.lock() || m_running) return;
    m_running = true;
    m_next_poll = std::chrono::steady_clock::now();
    on_tick();
  });
}

void Doorbell::stop() {
  boost::asio::post(m_strand, [this, alive = std::weak_ptr<bool>(m_alive)] {
    if (!alive.lock()) return;
    m_running = false;
    m_timer.cancel();
  });
}

void Doorbell::set_port(std::uint16_t port) {
  boost::asio::post(m_strand, [this, alive = std::weak_ptr<bool>(m_alive), port] {
    if (alive.lock()) m_port = port;
  });
}

void Doorbell::set_ringing(std::vector<std::string> bells) {
  boost::asio::post(m_strand, [this, alive = std::weak_ptr<bool>(m_alive), bells = std::move(bells)] {
    if (!alive.lock()) return;
    std::map<std::string, Ringing> next;
    for (const auto& b : bells) {
      if (b == m_own_bell) continue;
      auto it = m_ringing.find(b);
      next[b] = it == m_ringing.end() ? Ringing{} : it->second;  // a new one is rung at once
    }
    if (next.size() != m_ringing.size()) spdlog::info("doorbell: ringing {} bell(s)", next.size());
    m_ringing = std::move(next);
  });
}

Doorbell::Stats Doorbell::stats() const { return m_stats; }

void Doorbell::stats(std::function<void(Stats)> done) const {
  boost::asio::post(m_strand, [this, alive = std::weak_ptr<bool>(m_alive), done = std::move(done)] {
    if (alive.lock()) done(m_stats);
  });
}

void Doorbell::on_tick() {
  if (!m_running) return;
  const auto now = std::chrono::steady_clock::now();
  if (now >= m_next_poll && m_polls_in_flight == 0) {
    m_next_poll = now + m_options.poll_interval;
    poll();
  }
  if (m_port != 0)
    for (auto& [bell, r] : m_ringing) {
      const auto interval =
          r.rings <= m_options.early_rings ? m_options.early_ring_interval : m_options.ring_interval;
      if (r.rings == 0 || now - r.rung >= interval) {
        r.rung = now;
        ++r.rings;
        ring(bell);
      }
      if (!r.polling && now - r.answer_polled >= m_options.answer_poll) {
        r.answer_polled = now;
        poll_answer(bell);
      }
    }
  m_timer.expires_after(m_options.tick);
  m_timer.async_wait([this, alive = std::weak_ptr<bool>(m_alive)](boost::system::error_code ec) {
    if (!ec && alive.lock()) on_tick();
  });
}

void Doorbell::ring(const std::string& bell) {
  ++m_stats.rings;
  m_dht.announce(bell_hash(bell, today()), m_port);
}

void Doorbell::poll() {
  const auto day = today();
  for (auto d : {day, day - 1}) {
    ++m_stats.polls;
    ++m_polls_in_flight;
    // Answered on any thread, maybe after we are gone (then nothing is posted).
    m_dht.get_peers(bell_hash(m_own_bell, d), [this, alive = std::weak_ptr<bool>(m_alive),
                                               strand = m_strand](Result<std::vector<std::string>> r) {
      if (!alive.lock()) return;
      boost::asio::post(strand, [this, alive, r = std::move(r)]() mutable {
        if (!alive.lock()) return;
        --m_polls_in_flight;
        if (!r) {
          spdlog::debug("doorbell: {}", r.error().message);
          return;
        }
        if (r->empty() || !m_running) return;
        m_stats.heard += static_cast<std::int64_t>(r->size());
        if (m_port != 0) {  // tell ringers behind NATs where to aim while we dial them
          ++m_stats.answers;
          m_dht.announce(answer_hash(m_own_bell, today()), m_port);
        }
        if (m_on_ring) m_on_ring(std::move(*r));
      });
    });
  }
}

void Doorbell::poll_answer(const std::string& bell) {
  m_ringing[bell].polling = true;
  m_dht.get_peers(answer_hash(bell, today()), [this, alive = std::weak_ptr<bool>(m_alive), strand = m_strand,
                                               bell](Result<std::vector<std::string>> r) {
    if (!alive.lock()) return;
    boost::asio::post(strand, [this, alive, bell, r = std::move(r)]() mutable {
      if (!alive.lock()) return;
      auto it = m_ringing.find(bell);
      if (it == m_ringing.end()) return;  // no longer ringing
      it->second.polling = false;
      if (!r || r->empty() || !m_running) return;
      ++m_stats.answers;
      if (m_on_answer) m_on_answer(bell, std::move(*r));
    });
  });
}

}  // namespace kith::rendezvous
