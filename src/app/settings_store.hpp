#pragma once
// The node's settings while it runs, safe to read from any service's strand or worker thread: readers
// take a snapshot (an immutable Settings), a change swaps in a new one. The mutex guards only the
// pointer swap and the pending map; nothing is called under it.
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "app/home.hpp"
#include "app/settings.hpp"

namespace kith::app {

struct SettingChange {
  std::string name;
  nlohmann::json value;  // the value now in effect or pending, as the registry shows it
  bool live = false;     // applied at once (else at the node's next start)
};

class SettingsStore {
 public:
  SettingsStore(Home home, Settings initial)
      : m_home(std::move(home)), m_current(std::make_shared<const Settings>(std::move(initial))) {}

  // The settings in effect now. Never null; keep it as long as needed.
  std::shared_ptr<const Settings> current() const;
  // current().to_json(), plus "pending": VALUE on settings changed by set() that apply at the next start.
  nlohmann::json to_json() const;
  // Validates one setting with the registry, writes it to HOME/config.toml (keeping the file's other
  // values; this run's --set overrides are not written), and applies it now when it is one of the
  // settings read while the node runs (rate limits, download.dir, resume.interval); the others apply
  // at the next start. Blocking (writes a file): call it from a worker, not an io thread.
  Result<SettingChange> set(const std::string& name, const nlohmann::json& value);

 private:
  Home m_home;
  mutable std::mutex m_mutex;  // guards the two members below
  std::shared_ptr<const Settings> m_current;
  std::map<std::string, nlohmann::json> m_pending;  // saved, applied at the next start
};

}  // namespace kith::app
