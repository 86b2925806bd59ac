#include "rendezvous/rendezvous.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>

#include "crypto/box.hpp"
#include "rendezvous/errors.hpp"

namespace kith::rendezvous {

constexpr auto PUT_RETRY = std::chrono::seconds(10);
namespace {

std::int64_t system_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string short_key(const crypto::PublicKey& k) {
  static const char* HEX = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 4; ++i) {
    out += HEX[k[static_cast<std::size_t>(i)] >> 4];
    out += HEX[k[static_cast<std::size_t>(i)] & 15];
  }
  return out;
}

}  // namespace

Rendezvous::Rendezvous(boost::asio::io_context& io, DhtPort& dht, const crypto::SigningKey& me,
                       Options options, PresenceHandler on_presence, Clock clock)
    : m_strand(boost::asio::make_strand(io)),
      m_timer(m_strand),
      m_dht(dht),
      m_me(me),
      m_options(options),
      m_on_presence(std::move(on_presence)),
      m_clock(clock ? std::move(clock) : Clock(system_now_ms)),
      m_alive(std::make_shared<bool>(true)) {}

Rendezvous::~Rendezvous() {
  m_timer.cancel();
  m_alive.reset();
}

std::int64_t Rendezvous::now_ms() const { return m_clock(); }

void Rendezvous::start() {
  boost::asio::post(m_strand, [this, alive = std::weak_ptr<bool>(m_alive)] {
    if (!alive.lock() || m_running) return;
    m_running = true;
    m_next_publish = std::chrono::steady_clock::now();
    on_tick();
  });
}

void Rendezvous::stop() {
  boost::asio::post(m_strand, [this, alive = std::weak_ptr<bool>(m_alive)] {
    if (!alive.lock()) return;
    m_running = false;
    m_timer.cancel();
  });
}

void Rendezvous::set_addresses(std::vector<std::string> addrs) {
  boost::asio::post(m_strand,
                    [this, alive = std::weak_ptr<bool>(m_alive), addrs = std::move(addrs)]() mutable {
                      if (!alive.lock() || addrs == m_addrs) return;
                      m_addrs = std::move(addrs);
                      for (auto& [k, c] : m_contacts) c.published = false;
                      if (m_running) publish_all();
                    });
}

void Rendezvous::set_contacts(std::vector<crypto::PublicKey> contacts) {
  boost::asio::post(m_strand, [this, alive = std::weak_ptr<bool>(m_alive), contacts = std::move(contacts)] {
    if (!alive.lock()) return;
    std::map<crypto::PublicKey, Contact> next;
    for (const auto& key : contacts) {
      if (key == m_me.public_key()) continue;
      auto it = m_contacts.find(key);
      if (it != m_contacts.end()) {
        next.emplace(key, std::move(it->second));
      } else {
        next.emplace(key, make_contact(key));
      }
    }
    m_contacts = std::move(next);
    if (!m_running) return;
    std::int64_t at = 0;
    for (auto& [key, c] : m_contacts) {
      if (c.published) continue;
      if (at == 0) at = next_published_at();
      publish_to(key, c, at);
    }
  });
}

void Rendezvous::set_online(const crypto::PublicKey& contact, bool online) {
  boost::asio::post(m_strand, [this, alive = std::weak_ptr<bool>(m_alive), contact, online] {
    if (!alive.lock()) return;
    auto it = m_contacts.find(contact);
    if (it == m_contacts.end()) return;
    it->second.online = online;
    if (!online) {  // look for it again soon, at the base pace
      it->second.backoff = std::chrono::milliseconds(0);
      it->second.next_lookup = std::chrono::steady_clock::now();
    }
  });
}

void Rendezvous::lookup(const crypto::PublicKey& contact, std::function<void(Result<Presence>)> done) {
  boost::asio::post(m_strand, [this, alive = std::weak_ptr<bool>(m_alive), contact, done = std::move(done)] {
    if (!alive.lock()) return;
    do_lookup(contact, std::move(done));
  });
}

void Rendezvous::stats(std::function<void(Stats)> done) const {
  boost::asio::post(m_strand, [this, done = std::move(done)] { done(m_stats); });
}

Rendezvous::Stats Rendezvous::stats() const { return m_stats; }

Rendezvous::Contact Rendezvous::make_contact(const crypto::PublicKey& key) const {
  Contact c;
  auto secret = crypto::pair_secret(m_me, key);
  if (!secret) {
    spdlog::warn("rendezvous: contact {}: {}", short_key(key), secret.error().message);
    return c;
  }
  c.usable = true;
  c.out = derive_pair_keys(*secret, m_me.public_key());
  c.in = derive_pair_keys(*secret, key);
  c.signer = std::make_shared<const crypto::SigningKey>(crypto::SigningKey::from_seed(c.out.dht_seed));
  c.next_lookup = std::chrono::steady_clock::now();
  return c;
}

std::int64_t Rendezvous::next_published_at() {
  // Strictly increasing, also when the clock steps back: it is the BEP 44 seq and the readers'
  // replay guard.
  m_last_published_at = std::max(now_ms(), m_last_published_at + 1);
  return m_last_published_at;
}

void Rendezvous::schedule() {
  if (!m_running) return;
  m_timer.expires_after(m_options.tick);
  m_timer.async_wait([this, alive = std::weak_ptr<bool>(m_alive)](const boost::system::error_code& ec) {
    if (ec || !alive.lock()) return;
    on_tick();
  });
}

void Rendezvous::on_tick() {
  if (!m_running) return;
  auto now = std::chrono::steady_clock::now();
  if (now >= m_next_publish) publish_all();
  auto missed = [this](Contact& c) {
    c.lookup_in_flight = false;
    c.backoff = std::min(std::max(c.backoff * 2, m_options.lookup_interval), m_options.max_lookup_interval);
    c.next_lookup = std::chrono::steady_clock::now() + c.backoff;
  };
  for (auto& [key, c] : m_contacts) {
    if (c.lookup_in_flight && now - c.lookup_started > m_options.lookup_timeout) missed(c);
    if (!c.usable || c.online || c.lookup_in_flight || now < c.next_lookup) continue;
    c.lookup_in_flight = true;
    c.lookup_started = now;
    auto id = ++c.lookup_id;
    auto k = key;
    do_lookup(k, [this, k, id, missed](Result<Presence> r) {
      auto it = m_contacts.find(k);
      if (it == m_contacts.end() || it->second.lookup_id != id || !it->second.lookup_in_flight) return;
      if (!r) {
        missed(it->second);
        return;
      }
      it->second.lookup_in_flight = false;
      it->second.backoff = m_options.lookup_interval;
      it->second.next_lookup = std::chrono::steady_clock::now() + it->second.backoff;
    });
  }
  schedule();
}

void Rendezvous::publish_all() {
  m_next_publish = std::chrono::steady_clock::now() + m_options.republish_interval;
  if (!m_options.publish || m_addrs.empty() || m_contacts.empty()) return;
  auto at = next_published_at();
  for (auto& [key, c] : m_contacts) publish_to(key, c, at);
}

void Rendezvous::publish_to(const crypto::PublicKey& key, Contact& c, std::int64_t published_at) {
  if (!m_options.publish || !c.usable || m_addrs.empty()) return;
  auto value = encode_record(c.out, Presence{m_addrs, published_at});
  if (!value) {
    spdlog::warn("rendezvous: not publishing: {}", value.error().message);
    return;
  }
  auto signer = c.signer;
  m_dht.put_mutable(
      c.out.dht_key, c.out.salt, std::move(*value), published_at,
      [signer](std::string_view canonical) { return signer->sign(canonical); },
      [this, alive = std::weak_ptr<bool>(m_alive), strand = m_strand, key, published_at](Status s) {
        boost::asio::post(strand, [this, alive, key, published_at, s = std::move(s)] {
          if (!alive.lock()) return;
          if (!s) {
            ++m_stats.puts_failed;
            spdlog::info("rendezvous: publishing for {} failed: {}", short_key(key), s.error().message);
            // Typically the DHT is still forming (just started, or back online): try again soon rather
            // than at the next republish, or contacts cannot find us for 20 minutes.
            m_next_publish = std::min(m_next_publish, std::chrono::steady_clock::now() + PUT_RETRY);
            return;
          }
          ++m_stats.puts_ok;
          auto it = m_contacts.find(key);
          // Only the newest publish marks the contact done; an older one finishing late does not.
          if (it != m_contacts.end() && published_at == m_last_published_at) it->second.published = true;
        });
      });
}

void Rendezvous::do_lookup(const crypto::PublicKey& key, std::function<void(Result<Presence>)> done) {
  ++m_stats.lookups;
  PairKeys in;
  if (auto it = m_contacts.find(key); it != m_contacts.end() && it->second.usable) {
    in = it->second.in;
  } else {
    // Not (yet) a contact: the keys are computed for this one lookup.
    auto secret = crypto::pair_secret(m_me, key);
    if (!secret) {
      done(fail(make_error_code(errc::bad_key), secret.error().message));
      return;
    }
    in = derive_pair_keys(*secret, key);
  }
  m_dht.get_mutable(
      in.dht_key, in.salt,
      [this, alive = std::weak_ptr<bool>(m_alive), strand = m_strand, key, in,
       done = std::move(done)](Result<std::optional<DhtItem>> got) mutable {
        boost::asio::post(strand, [this, alive, key, in = std::move(in), done = std::move(done),
                                   got = std::move(got)]() mutable {
          if (!alive.lock()) return;
          if (!got) {
            done(fail(make_error_code(errc::dht_failed), got.error().message));
            return;
          }
          if (!*got) {
            done(fail(make_error_code(errc::not_found), "no presence record for us from that contact"));
            return;
          }
          auto presence = decode_record(in, (*got)->value, now_ms(), m_options.max_age.count());
          if (!presence) {
            done(tl::unexpected(presence.error()));
            return;
          }
          auto& newest = m_newest_seen[key];
          if (presence->published_at < newest) {
            done(fail(make_error_code(errc::replayed), "an older presence record than one already seen"));
            return;
          }
          bool newer = presence->published_at > newest;
          newest = presence->published_at;
          ++m_stats.found;
          if (newer && m_on_presence) m_on_presence(key, *presence);
          done(std::move(*presence));
        });
      });
}

}  // namespace kith::rendezvous
