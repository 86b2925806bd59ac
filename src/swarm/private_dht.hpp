#pragma once
// For tests only (header-only, no library code uses it): a private Mainline DHT of SessionHosts on
// 127.0.0.1 that never talks to anything but loopback (no public bootstrap, no UPnP/NAT-PMP/LSD).
// Host 0 starts alone; every later host bootstraps from host 0 and from the host before it.
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <thread>
#include <vector>

#include "swarm/session_host.hpp"

namespace kith::swarm::testing {

inline SessionOptions private_dht_options(const std::string& bootstrap) {
  SessionOptions o;
  o.listen = "127.0.0.1:0";
  o.dht = true;
  o.dht_private = true;
  o.dht_bootstrap = bootstrap;
  o.lsd = false;
  o.upnp = false;
  o.natpmp = false;
  return o;
}

class PrivateDht {
 public:
  explicit PrivateDht(int size)
      : m_work(boost::asio::make_work_guard(m_io)), m_thread([this] { m_io.run(); }) {
    for (int i = 0; i < size; ++i) {
      std::string bootstrap;
      if (i > 0) bootstrap = "127.0.0.1:" + std::to_string(m_hosts[0]->listen_port());
      if (i > 1) bootstrap += ",127.0.0.1:" + std::to_string(m_hosts.back()->listen_port());
      m_hosts.push_back(
          std::make_unique<SessionHost>(m_io, private_dht_options(bootstrap), [](const SwarmEvent&) {}));
    }
  }
  ~PrivateDht() {
    for (auto& h : m_hosts) h->shutdown();
    m_hosts.clear();
    m_work.reset();
    m_io.stop();
    m_thread.join();
  }
  PrivateDht(const PrivateDht&) = delete;
  PrivateDht& operator=(const PrivateDht&) = delete;

  SessionHost& host(std::size_t i) { return *m_hosts.at(i); }
  std::size_t size() const { return m_hosts.size(); }
  boost::asio::io_context& io() { return m_io; }

  // Waits until every host's routing table holds at least `min_nodes` nodes.
  bool wait_formed(int min_nodes, std::chrono::seconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      bool all = true;
      for (auto& h : m_hosts) all = all && h->stats().dht_nodes >= min_nodes;  // stats() asks for fresh ones
      if (all) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return false;
  }

  Status put(std::size_t i, const DhtPublicKey& key, const std::string& salt, const std::string& value,
             std::int64_t seq, SessionHost::DhtSigner sign) {
    auto p = std::make_shared<std::promise<Status>>();
    auto f = p->get_future();
    host(i).dht_put_mutable(key, salt, value, seq, std::move(sign),
                            [p](Status s) { p->set_value(std::move(s)); });
    return f.get();
  }
  Result<MutableItem> get(std::size_t i, const DhtPublicKey& key, const std::string& salt) {
    auto p = std::make_shared<std::promise<Result<MutableItem>>>();
    auto f = p->get_future();
    host(i).dht_get_mutable(key, salt, [p](Result<MutableItem> r) { p->set_value(std::move(r)); });
    return f.get();
  }

 private:
  boost::asio::io_context m_io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> m_work;
  std::thread m_thread;
  std::vector<std::unique_ptr<SessionHost>> m_hosts;
};

}  // namespace kith::swarm::testing
