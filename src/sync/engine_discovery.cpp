// The engine's side of Syncthing's local discovery: what it announces, and dialling an added device
// where it was announced. A device that is not added is never dialled, whatever the LAN says; the
// TLS device-ID check of every connection stays the trust (docs/sync.md § Local discovery).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>

#include "base/terminal.hpp"
#include "bep/device_id.hpp"
#include "sync/engine.hpp"

namespace kith::sync {
namespace asio = boost::asio;

void Engine::start_local_discovery() {
  if (!m_deps.local_discovery) return;
  auto own = bep::parse_device_id(m_device_id);
  if (!own) return;
  // An unspecified listen address is announced with an empty host: each receiver dials the address
  // the announce came from, which is right on every interface at once.
  boost::system::error_code ec;
  const auto host = asio::ip::make_address(m_deps.listen_host, ec);
  std::string announced = "tcp://";
  if (!ec && !host.is_unspecified())
    announced += host.is_v6() ? "[" + host.to_string() + "]" : host.to_string();
  announced += ":" + std::to_string(m_port);
  LocalDiscoveryOptions options;
  options.port = m_deps.local_discovery_port;
  m_local = std::make_unique<LocalDiscovery>(
      m_strand, options, *own, std::vector<std::string>{announced},
      [this](const bep::DeviceId& device, bool is_new) { on_announce(device, is_new); });
  asio::post(m_strand, [this, announced] {
    if (m_stopped || !m_local) return;
    if (auto ok = m_local->start(); !ok)
      spdlog::warn("sync: local discovery is off: {}", ok.error().message);
    else
      spdlog::info("sync: local discovery on UDP port {}, announcing {}", m_deps.local_discovery_port,
                   announced);
  });
}

void Engine::on_announce(const bep::DeviceId& device, bool is_new) {
  if (m_stopped) return;
  auto it = m_devices.find(bep::to_string(device));
  if (it == m_devices.end()) return;  // not added here: what it announces is nothing to us
  Device& d = it->second;
  if (is_new)
    spdlog::info("sync: device {} ({}) announced on the LAN", d.record.id.substr(0, 7),
                 base::terminal_safe(d.record.name));
  if (!d.conn && !d.dialing) dial(d.record.id);
}

std::vector<std::string> Engine::discovered(const std::string& device) const {
  if (!m_local) return {};
  auto id = bep::parse_device_id(device);
  return id ? m_local->addresses(*id) : std::vector<std::string>{};
}

std::vector<std::string> Engine::dial_addresses(const Device& d) const {
  std::vector<std::string> out = d.record.addresses;
  for (auto& a : discovered(d.record.id)) {
    // Static addresses are stored as HOST:PORT, discovered ones as tcp://HOST:PORT: the same place once.
    const std::string bare = a.rfind("tcp://", 0) == 0 ? a.substr(6) : a;
    if (std::find(out.begin(), out.end(), bare) == out.end() &&
        std::find(out.begin(), out.end(), a) == out.end())
      out.push_back(std::move(a));
  }
  return out;
}

}  // namespace kith::sync
