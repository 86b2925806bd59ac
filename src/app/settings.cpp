#include "app/settings.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <sstream>

#include "app/errors.hpp"
#include "base/fs.hpp"

namespace kith::app {

const std::vector<SettingDef>& setting_defs() {
  using S = std::string;
  static const std::vector<SettingDef> DEFS = {
      {"bt.listen", "string", S("0.0.0.0:6881,[::]:6881"),
       "BitTorrent listen addresses (libtorrent listen_interfaces syntax; port 0 picks a free port)"},
      {"bt.ssl_listen", "string", S("0.0.0.0:6883,[::]:6883"),
       "Where SSL torrents (files sent to contacts with `kith send`) accept TLS peers: host:port entries as "
       "in bt.listen; port 0 picks a free port; empty: no SSL listener, so this node cannot send files"},
      {"api.listen", "string", S("127.0.0.1:7737"),
       "Address and port of the local HTTP API (keep it on loopback; port 0 picks a free port)"},
      {"dht.enabled", "bool", true, "Join the Mainline DHT to find peers without a tracker"},
      {"dht.bootstrap", "string",
       S("dht.libtorrent.org:25401,router.bittorrent.com:6881,dht.transmissionbt.com:6881"),
       "DHT bootstrap nodes, comma-separated host:port (empty: only nodes remembered from earlier runs)"},
      {"dht.private_network", "bool", false,
       "Run the DHT as a private network (test labs, isolated networks): accept nodes on loopback and "
       "private addresses and several per IP, and use bootstrap nodes directly. Off on the public DHT"},
      {"rendezvous.enabled", "bool", true,
       "Publish where your node can be reached on the DHT, sealed so only your contacts can read it, and "
       "find contacts there (needs dht.enabled)"},
      {"lsd.enabled", "bool", true, "Local Service Discovery: find peers on the LAN by multicast"},
      {"nat.upnp", "bool", true, "Map the listen port on the router with UPnP"},
      {"nat.natpmp", "bool", true, "Map the listen port on the router with NAT-PMP"},
      {"limits.download", "int", std::int64_t{0}, "Download rate limit in bytes per second (0: unlimited)"},
      {"limits.upload", "int", std::int64_t{0}, "Upload rate limit in bytes per second (0: unlimited)"},
      {"limits.lan", "bool", false, "Apply the rate limits to peers on the LAN and this host too"},
      {"disk.io",
       "string",
       S("mmap"),
       "Disk I/O backend: mmap (memory-mapped files) or posix (pread/pwrite)",
       {"mmap", "posix"}},
      {"download.dir", "string", S(""),
       "Folder finished downloads are released into (empty: $XDG_DOWNLOAD_DIR, else ~/Downloads)"},
      {"resume.interval", "int", std::int64_t{15},
       "Seconds between saves of resume data (what survives a crash or kill -9)"},
      {"safety.ipfilter", "string", S(""),
       "IP filter files to load at start, comma-separated: PeerGuardian .p2p text or eMule ipfilter.dat "
       "(peers in their blocked ranges are neither accepted nor dialled; empty: no filter)"},
      {"safety.signatures", "string", S(""),
       "Extra ClamAV signature folders or files, comma-separated (loaded besides the system database)"},
      {"safety.system_signatures", "bool", true,
       "Load the system ClamAV database (/var/lib/clamav, kept current by freshclam)"},
      {"safety.hold_runnable", "bool", false,
       "Keep clean downloads that can run code (executables, scripts, macros) in quarantine too"},
      {"safety.scan_limit", "int", std::int64_t{2047},
       "MiB: larger files (or archive contents) are not fully scanned and stay in quarantine (ClamAV 1.4 "
       "scans at most 2047)"},
      {"safety.require_signed", "bool", false,
       "Refuse magnet links without a valid publisher signature (`kith share --sign`)"},
      {"safety.report_syslog", "bool", false, "Also send `kith report` reports to syslog (facility user)"},
      {"profile.name", "string", S(""),
       "Your display name, shown to contacts and in your invite (empty: your login name)"},
      {"channel.listen", "string", S("[::]:6882"),
       "Address and TCP port for contact channels (TLS); [::] listens on IPv6 and IPv4; port 0 picks a free "
       "port. Used by `kith daemon` only"},
      {"lan.discovery", "bool", true,
       "Find contacts on the LAN by signed multicast beacons (UDP 239.255.70.77 and ff02::6b69:7468)"},
      {"lan.port", "int", std::int64_t{29170}, "UDP port of the LAN beacons"},
      {"log.level",
       "string",
       S("info"),
       "Log level: trace, debug, info, warn, error, off",
       {"trace", "debug", "info", "warn", "error", "off"}},
  };
  return DEFS;
}

namespace {

const SettingDef* find_def(const std::string& name) {
  for (const auto& d : setting_defs()) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

Error bad(const std::string& msg) { return Error{make_error_code(errc::bad_setting), msg}; }

Result<SettingValue> parse_text(const SettingDef& def, const std::string& text) {
  if (def.type == "bool") {
    std::string t = text;
    std::transform(t.begin(), t.end(), t.begin(), ::tolower);
    if (t == "true" || t == "1" || t == "yes" || t == "on") return SettingValue{true};
    if (t == "false" || t == "0" || t == "no" || t == "off") return SettingValue{false};
    return tl::unexpected(bad(def.name + " takes true or false, not '" + text + "'"));
  }
  if (def.type == "int") {
    try {
      std::size_t used = 0;
      long long v = std::stoll(text, &used);
      if (used != text.size() || v < 0) throw std::invalid_argument("x");
      return SettingValue{static_cast<std::int64_t>(v)};
    } catch (const std::exception&) {
      return tl::unexpected(bad(def.name + " takes a whole number >= 0, not '" + text + "'"));
    }
  }
  return SettingValue{text};
}

// A string outside a setting's choices is refused, whichever way it arrives.
Status check_choice(const SettingDef& def, const SettingValue& v) {
  const auto* text = std::get_if<std::string>(&v);
  if (!text || def.choices.empty()) return {};
  for (const auto& c : def.choices) {
    if (c == *text) return {};
  }
  std::string list;
  for (const auto& c : def.choices) list += (list.empty() ? "" : ", ") + c;
  return tl::unexpected(bad(def.name + " takes one of: " + list + " (not '" + *text + "')"));
}

std::string unknown_message(const std::string& name) {
  return "unknown setting '" + name + "' (see `kith settings` for the list)";
}

}  // namespace

Settings::Settings() {
  for (const auto& d : setting_defs()) m_values[d.name] = d.default_value;
}

Status Settings::set(const std::string& name, const std::string& text) {
  const auto* def = find_def(name);
  if (!def) return tl::unexpected(bad(unknown_message(name)));
  auto v = parse_text(*def, text);
  if (!v) return tl::unexpected(v.error());
  if (auto c = check_choice(*def, *v); !c) return c;
  m_values[name] = *v;
  return {};
}

Status Settings::set_json(const std::string& name, const nlohmann::json& value) {
  const auto* def = find_def(name);
  if (!def) return tl::unexpected(bad(unknown_message(name)));
  if (def->type == "bool" && value.is_boolean())
    m_values[name] = value.get<bool>();
  else if (def->type == "int" && value.is_number_unsigned())
    m_values[name] = value.get<std::int64_t>();
  else if (def->type == "string" && value.is_string()) {
    if (auto c = check_choice(*def, value.get<std::string>()); !c) return c;
    m_values[name] = value.get<std::string>();
  } else {
    return tl::unexpected(bad(name + " takes a value of type " + def->type));
  }
  return {};
}

Status Settings::apply_override(const std::string& assignment) {
  auto eq = assignment.find('=');
  if (eq == std::string::npos) {
    return tl::unexpected(bad("--set takes name=value, got '" + assignment + "'"));
  }
  return set(assignment.substr(0, eq), assignment.substr(eq + 1));
}

Status Settings::load_file(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return {};
  toml::table table;
  try {
    table = toml::parse_file(file.string());
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << file.string() << ":" << e.source().begin.line << ": " << e.description();
    return fail(make_error_code(errc::bad_config), msg.str());
  }
  Status result;
  // Walk every leaf so that unknown or misspelled names are reported, not ignored.
  std::function<void(const toml::table&, const std::string&)> walk = [&](const toml::table& t,
                                                                         const std::string& prefix) {
    for (const auto& [key, node] : t) {
      if (!result) return;
      std::string name = prefix.empty() ? std::string(key.str()) : prefix + "." + std::string(key.str());
      if (const auto* sub = node.as_table()) {
        walk(*sub, name);
        continue;
      }
      const auto* def = find_def(name);
      if (!def) {
        result = fail(make_error_code(errc::bad_config), file.string() + ": " + unknown_message(name));
        return;
      }
      if (def->type == "bool" && node.is_boolean())
        m_values[name] = *node.value<bool>();
      else if (def->type == "int" && node.is_integer() && *node.value<std::int64_t>() >= 0)
        m_values[name] = *node.value<std::int64_t>();
      else if (def->type == "string" && node.is_string()) {
        if (auto c = check_choice(*def, *node.value<std::string>()); !c) {
          result = fail(make_error_code(errc::bad_config), file.string() + ": " + c.error().message);
          return;
        }
        m_values[name] = *node.value<std::string>();
      } else
        result =
            fail(make_error_code(errc::bad_config), file.string() + ": " + name + " must be a " + def->type);
    }
  };
  walk(table, "");
  return result;
}

Status Settings::save_file(const std::filesystem::path& file) const {
  toml::table root;
  for (const auto& d : setting_defs()) {
    const auto& v = value(d.name);
    if (v == d.default_value) continue;
    auto dot = d.name.find('.');
    auto section = d.name.substr(0, dot);
    auto key = d.name.substr(dot + 1);
    if (!root.contains(section)) root.insert(section, toml::table{});
    auto* t = root[section].as_table();
    std::visit([&](const auto& x) { t->insert_or_assign(key, x); }, v);
  }
  std::ostringstream out;
  out << "# kith settings; see `kith settings` for every name, its default and meaning.\n" << root << "\n";
  return base::atomic_write_file(file, out.str(), 0600);
}

const SettingValue& Settings::value(const std::string& name) const { return m_values.at(name); }

bool Settings::get_bool(const std::string& name) const { return std::get<bool>(value(name)); }
std::int64_t Settings::get_int(const std::string& name) const { return std::get<std::int64_t>(value(name)); }
const std::string& Settings::get_string(const std::string& name) const {
  return std::get<std::string>(value(name));
}

std::vector<std::string> Settings::get_list(const std::string& name) const {
  std::vector<std::string> out;
  std::stringstream in(get_string(name));
  std::string item;
  while (std::getline(in, item, ',')) {
    auto b = item.find_first_not_of(" \t");
    auto e = item.find_last_not_of(" \t");
    if (b != std::string::npos) out.push_back(item.substr(b, e - b + 1));
  }
  return out;
}

nlohmann::json Settings::to_json() const {
  auto j = nlohmann::json::array();
  for (const auto& d : setting_defs()) {
    nlohmann::json item{{"name", d.name}, {"type", d.type}, {"description", d.description}};
    std::visit([&](const auto& x) { item["default"] = x; }, d.default_value);
    std::visit([&](const auto& x) { item["value"] = x; }, value(d.name));
    if (!d.choices.empty()) item["choices"] = d.choices;
    j.push_back(std::move(item));
  }
  return j;
}

}  // namespace kith::app
