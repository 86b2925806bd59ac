// Devices of kith contacts (docs/sync.md § Contacts): a contact's node tells its Syncthing device ID and
// BEP port on the contact channel (pinned TLS), so it is trusted for folder sync with no `kith sync
// device add`, named after the contact, and dialled at the addresses that channel showed. Removing or
// blocking the contact removes the device (and what it shared) again.
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <chrono>

#include "base/clock.hpp"
#include "base/terminal.hpp"
#include "sync/engine.hpp"

namespace kith::sync {
namespace asio = boost::asio;

void Engine::contact_device(const std::string& contact, const std::string& name, const std::string& given,
                            std::vector<std::string> addresses) {
  if (m_stopped) return;
  auto id = normalise_device(given);
  if (!id || *id == m_device_id) {
    spdlog::info("sync: contact {} told a device ID that is not usable ({}); not syncing with it",
                 base::terminal_safe(name), id ? "this node's own" : id.error().message);
    return;
  }
  auto [it, added] = m_devices.try_emplace(*id);
  Device& d = it->second;
  const auto before = d.record;
  d.record.id = *id;
  if (added || !d.record.contact.empty()) {
    // Ours to keep current: the contact's name, and where its node was last seen.
    d.record.name = name;
    if (!addresses.empty()) d.record.addresses = std::move(addresses);
  } else if (d.record.addresses.empty()) {
    d.record.addresses = std::move(addresses);  // added by hand with no address: now it has some
  }
  d.record.contact = contact;
  if (!d.record.added_at) d.record.added_at = base::unix_seconds();
  if (added)
    spdlog::info("sync: {} is the device of contact {}: trusted for folder sync", short_text(*id),
                 base::terminal_safe(name));
  if (d.record != before)
    asio::post(m_db, [this, rec = d.record] {
      if (auto ok = m_deps.store.put_device(rec); !ok)
        spdlog::warn("sync: cannot record device {}: {}", short_text(rec.id), ok.error().message);
    });
  if (!d.conn && !d.dialing && !d.record.addresses.empty()) dial(*id);
}

void Engine::forget_contact(const std::string& contact) {
  std::vector<std::string> gone;
  for (const auto& [id, d] : m_devices)
    if (!contact.empty() && d.record.contact == contact) gone.push_back(id);
  for (const auto& id : gone) {
    spdlog::info("sync: contact removed: no longer syncing with its device {}", short_text(id));
    remove_device(id, [id](Status s) {
      if (!s) spdlog::warn("sync: cannot remove device {}: {}", short_text(id), s.error().message);
    });
  }
}

}  // namespace kith::sync
