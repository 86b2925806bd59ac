// Node: contacts and messages (issue 3). The Messenger does the work; the node gives it the keys,
// the stores, the settings and the event sink.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>

#include "app/node.hpp"
#include "swarm/peer_hints.hpp"

namespace kith::app {
namespace {

std::int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// profile.name, else the login name: what contacts see until they rename us.
std::string display_name(const std::string& configured) {
  if (!configured.empty()) return configured;
  if (const char* user = std::getenv("USER"); user && *user) return user;
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) == 0 && *host) return host;
  return "kith user";
}

}  // namespace

Status Node::start_messaging() {
  auto device = crypto::SigningKey::load_or_create(m_home.device_key_file());
  if (!device) return tl::unexpected(device.error());
  m_device_key = std::make_unique<crypto::SigningKey>(std::move(*device));
  m_contact_store = std::make_unique<store::ContactStore>(*m_db);
  m_message_store = std::make_unique<store::MessageStore>(*m_db);

  messaging::Options o;
  o.listen = setting_string("channel.listen");
  o.name = display_name(setting_string("profile.name"));
  // Contacts are told the addresses this host has (as in magnet links' x.pe hints), with the channel port.
  const auto listen = o.listen;
  o.advertise = [listen](std::uint16_t port) {
    auto host = listen.substr(0, listen.rfind(':'));
    if (host == "[::]") return swarm::peer_hints("0.0.0.0:0,[::]:0", port);
    return swarm::peer_hints(host + ":0", port);
  };
  m_messenger = std::make_unique<messaging::Messenger>(
      m_io, std::move(o), *m_user_key, *m_device_key, *m_contact_store, *m_message_store,
      [this](const std::string& type, const nlohmann::json& data) { publish(type, data); }, unix_ms);
  return m_messenger->start();
}

}  // namespace kith::app
