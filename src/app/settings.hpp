#pragma once
// The one settings registry: every setting's name, type, default and description. It drives
// validation of config.toml and --set, `kith settings`, the API and docs/settings.md.
#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <variant>
#include <vector>

#include "base/error.hpp"

namespace kith::app {

using SettingValue = std::variant<bool, std::int64_t, std::string>;

// Refuses a value the node could not use, with the message a user needs. `what` is the setting name.
using SettingCheck = Status (*)(const std::string& what, const SettingValue& value);

struct SettingDef {
  std::string name;  // "section.key", also the TOML path in config.toml
  std::string type;  // "bool" | "int" | "string"
  SettingValue default_value;
  std::string description;
  std::vector<std::string> choices = {};  // for strings: the only values allowed (empty: any)
  // The parser the node reads the value with, run on every value however it arrives (config.toml,
  // --set, the API), so a value that would not work is refused up front (nullptr: any value of the
  // type).
  SettingCheck check = nullptr;
  // Checks of what the value names outside kith (files), run only when the value is changed (--set,
  // the API): the files may come and go between runs, and the node checks them again when it uses
  // them.
  SettingCheck check_on_change = nullptr;
};

const std::vector<SettingDef>& setting_defs();

class Settings {
 public:
  Settings();  // every setting at its default

  // Reads HOME/config.toml if it exists: nested TOML tables, e.g. [bt] listen = "127.0.0.1:0".
  Status load_file(const std::filesystem::path& file);
  // Applies one "name=value" override (the --set flag); the value is parsed according to the type.
  Status apply_override(const std::string& assignment);
  Status set(const std::string& name, const std::string& text);
  Status set_json(const std::string& name, const nlohmann::json& value);
  // Writes the settings that differ from their defaults to `file` (atomically).
  Status save_file(const std::filesystem::path& file) const;

  bool get_bool(const std::string& name) const;
  std::int64_t get_int(const std::string& name) const;
  const std::string& get_string(const std::string& name) const;
  // A string setting that holds a comma-separated list (paths, host:port): items trimmed of spaces
  // and tabs, empty ones dropped.
  std::vector<std::string> get_list(const std::string& name) const;

  // [{name, type, default, value, description}] in registry order.
  nlohmann::json to_json() const;

 private:
  const SettingValue& value(const std::string& name) const;
  std::map<std::string, SettingValue> m_values;
};

}  // namespace kith::app
