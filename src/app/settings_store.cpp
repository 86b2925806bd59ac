#include "app/settings_store.hpp"

#include <spdlog/spdlog.h>

namespace kith::app {
namespace {

// The settings the node reads while it runs; a change to any other would make the node describe
// itself wrongly (bt.listen in the peer hints, dht.enabled in status) until a restart.
bool applies_live(const std::string& name) {
  return name == "limits.download" || name == "limits.upload" || name == "download.dir" ||
         name == "resume.interval";
}

}  // namespace

std::shared_ptr<const Settings> SettingsStore::current() const {
  std::lock_guard lock(m_mutex);
  return m_current;
}

nlohmann::json SettingsStore::to_json() const {
  std::shared_ptr<const Settings> now;
  std::map<std::string, nlohmann::json> pending;
  {
    std::lock_guard lock(m_mutex);
    now = m_current;
    pending = m_pending;
  }
  auto out = now->to_json();
  for (auto& item : out)
    if (auto it = pending.find(item["name"]); it != pending.end()) item["pending"] = it->second;
  return out;
}

Result<SettingChange> SettingsStore::set(const std::string& name, const nlohmann::json& value) {
  // Validate against the registry first, on a copy, so a bad value changes nothing.
  auto next = std::make_shared<Settings>(*current());
  if (auto r = next->set_json(name, value); !r) return tl::unexpected(r.error());
  // Persist into config.toml as the user wrote it: load the file alone (not this run's --set
  // overrides, which must not become permanent), change the one value, write it back.
  Settings file;
  if (auto r = file.load_file(m_home.config_file()); !r) return tl::unexpected(r.error());
  if (auto r = file.set_json(name, value); !r) return tl::unexpected(r.error());
  if (auto r = file.save_file(m_home.config_file()); !r) return tl::unexpected(r.error());
  const bool live = applies_live(name);
  nlohmann::json shown;
  for (const auto& item : next->to_json())
    if (item["name"] == name) shown = item["value"];
  {
    std::lock_guard lock(m_mutex);
    if (live) {
      // Other settings keep their current values: this run's --set overrides stay in effect.
      auto applied = std::make_shared<Settings>(*m_current);
      if (auto r = applied->set_json(name, value); !r) return tl::unexpected(r.error());
      m_current = std::move(applied);
      m_pending.erase(name);
    } else {
      m_pending[name] = shown;
    }
  }
  spdlog::info("setting {} changed ({})", name, live ? "applied now" : "applies at next start");
  return SettingChange{name, shown, live};
}

}  // namespace kith::app
