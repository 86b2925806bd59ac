#include "app/settings.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <climits>
#include <sstream>

#include "app/errors.hpp"
#include "app/ip_filter_files.hpp"
#include "base/endpoint.hpp"
#include "base/fs.hpp"
#include "calls/signal_checks.hpp"
#include "identity/invite.hpp"
#include "net/turn_client.hpp"
#include "swarm/listen.hpp"

namespace kith::app {
namespace {

Error bad(const std::string& msg) { return Error{make_error_code(errc::bad_setting), msg}; }

const std::string& text_of(const SettingValue& v) { return std::get<std::string>(v); }

// bt.listen, bt.ssl_listen: swarm::parse_listen is what the session is built from (swarm/listen.hpp).
Status listen_entries(const std::string& what, const SettingValue& v, bool may_be_empty) {
  auto entries = swarm::parse_listen(text_of(v));
  if (!entries) return tl::unexpected(bad(what + ": " + entries.error().message));
  if (entries->empty() && !may_be_empty)
    return tl::unexpected(
        bad(what + " needs at least one IP:PORT to listen on, e.g. 0.0.0.0:6881,[::]:6881"));
  return {};
}
Status check_bt_listen(const std::string& what, const SettingValue& v) {
  return listen_entries(what, v, false);
}
Status check_ssl_listen(const std::string& what, const SettingValue& v) {
  return listen_entries(what, v, true);
}

// api.listen (the daemon's HTTP server), channel.listen (net::Listener): one IP:PORT each.
Status check_listen_address(const std::string& what, const SettingValue& v) {
  // base's messages give the reason only; the value is the user's own text, so name it.
  if (auto r = base::parse_ip_port(text_of(v), base::PortRule::allow_zero); !r)
    return tl::unexpected(bad(what + ": '" + text_of(v) + "' is not IP:PORT: " + r.error().message));
  return {};
}

// dht.bootstrap: host names are resolved by libtorrent, which reads "host:port" entries.
Status check_bootstrap(const std::string& what, const SettingValue& v) {
  for (const auto& item : base::split_list(text_of(v))) {
    if (auto r = base::parse_host_port(item); !r)
      return tl::unexpected(bad(what + ": '" + item + "' is not HOST:PORT: " + r.error().message));
  }
  return {};
}

Status in_range(const std::string& what, const SettingValue& v, std::int64_t lo, std::int64_t hi,
                const std::string& unit) {
  const auto n = std::get<std::int64_t>(v);
  if (n >= lo && n <= hi) return {};
  return tl::unexpected(bad(what + " takes " + std::to_string(lo) + " to " + std::to_string(hi) + unit +
                            ", not " + std::to_string(n)));
}

Status check_seconds(const std::string& what, const SettingValue& v) {
  return in_range(what, v, 1, 7 * 86400, " s");
}

Status check_percent(const std::string& what, const SettingValue& v) {
  return in_range(what, v, 0, 99, " %");
}

Status check_udp_port(const std::string& what, const SettingValue& v) {
  return in_range(what, v, 1, 65535, "");
}
// libtorrent takes rate limits as an int.
Status check_rate(const std::string& what, const SettingValue& v) {
  return in_range(what, v, 0, INT32_MAX, " (bytes per second; 0: unlimited)");
}
Status check_relay_circuits(const std::string& what, const SettingValue& v) {
  return in_range(what, v, 0, 256, " (relay circuits at once)");
}
Status check_bell_poll(const std::string& what, const SettingValue& v) {
  return in_range(what, v, 5, 3600, " (seconds between doorbell checks)");
}
Status check_relay_mib(const std::string& what, const SettingValue& v) {
  return in_range(what, v, 0, 1 << 30, " (MiB per relay circuit; 0: no cap)");
}
Status check_turn(const std::string& what, const SettingValue& v) {
  if (text_of(v).empty()) return {};
  auto server = net::parse_turn_server(text_of(v));
  if (!server) return fail(make_error_code(errc::bad_setting), what + ": " + server.error().message);
  return {};
}
Status check_stun(const std::string& what, const SettingValue& v) {
  if (text_of(v).empty()) return {};
  if (auto r = base::parse_host_port(text_of(v)); !r)
    return tl::unexpected(bad(what + ": '" + text_of(v) + "' is not HOST:PORT: " + r.error().message));
  return {};
}
Status check_ice_networks(const std::string& what, const SettingValue& v) {
  if (auto r = calls::Networks::parse(base::split_list(text_of(v))); !r)
    return tl::unexpected(bad(what + ": " + r.error().message));
  return {};
}
Status check_scan_limit(const std::string& what, const SettingValue& v) {
  return in_range(what, v, 1, 2047, " (MiB)");
}

// profile.name goes into invites and Hello frames, which refuse what identity::valid_name refuses.
Status check_display_name(const std::string& what, const SettingValue& v) {
  const auto& name = text_of(v);
  if (name.empty() || identity::valid_name(name)) return {};
  return tl::unexpected(bad(what + " takes at most " + std::to_string(identity::MAX_NAME) +
                            " bytes and no control characters"));
}

// safety.ipfilter: the loader the node runs at start (which stops the node when a file fails).
Status check_ipfilter_files(const std::string& what, const SettingValue& v) {
  auto loaded = load_ip_filter_files(base::split_list(text_of(v)), /*log=*/false);
  if (!loaded) return tl::unexpected(bad(what + ": " + loaded.error().message));
  return {};
}

// safety.signatures: every entry must exist (ClamAV loads folders and files; loading takes seconds,
// so it is left to the node).
Status check_paths_exist(const std::string& what, const SettingValue& v) {
  for (const auto& item : base::split_list(text_of(v))) {
    std::error_code ec;
    if (!std::filesystem::exists(item, ec))
      return tl::unexpected(bad(what + ": " + item + " does not exist"));
  }
  return {};
}

}  // namespace

const std::vector<SettingDef>& setting_defs() {
  using S = std::string;
  static const std::vector<SettingDef> DEFS = {
      {"bt.listen",
       "string",
       S("0.0.0.0:6881,[::]:6881"),
       "BitTorrent listen addresses: comma-separated IP:PORT, IPv6 in brackets ([::]:6881); port 0 picks a "
       "free port",
       {},
       check_bt_listen},
      {"bt.ssl_listen",
       "string",
       S("0.0.0.0:6883,[::]:6883"),
       "Where SSL torrents (files sent to contacts with `kith send`) accept TLS peers: host:port entries as "
       "in bt.listen; port 0 picks a free port; empty: no SSL listener, so this node cannot send files",
       {},
       check_ssl_listen},
      {"api.listen",
       "string",
       S("127.0.0.1:7737"),
       "Address and port of the local HTTP API (keep it on loopback; port 0 picks a free port)",
       {},
       check_listen_address},
      {"dht.enabled", "bool", true, "Join the Mainline DHT to find peers without a tracker"},
      {"dht.bootstrap",
       "string",
       S("dht.libtorrent.org:25401,router.bittorrent.com:6881,dht.transmissionbt.com:6881"),
       "DHT bootstrap nodes, comma-separated host:port (empty: only nodes remembered from earlier runs)",
       {},
       check_bootstrap},
      {"dht.private_network", "bool", false,
       "Run the DHT as a private network (test labs, isolated networks): accept nodes on loopback and "
       "private addresses and several per IP, and use bootstrap nodes directly. Off on the public DHT"},
      {"rendezvous.enabled", "bool", true,
       "Publish where your node can be reached on the DHT, sealed so only your contacts can read it, and "
       "find contacts there (needs dht.enabled)"},
      {"rendezvous.bell_poll_s",
       "int",
       std::int64_t{60},
       "How often (seconds) to look on the DHT for someone ringing your doorbell: a person with your invite "
       "who cannot dial you (you are behind a NAT) leaves their address there and your node dials them",
       {},
       check_bell_poll},
      {"rendezvous.turn",
       "string",
       std::string(),
       "A TURN server for when no other path works, USER:PASSWORD@HOST:PORT (TCP; e.g. your organisation's "
       "coturn): you get a relayed address on it that contacts can dial, and you dial contacts through it. "
       "Empty: none is contacted",
       {},
       check_turn},
      {"calls.stun",
       "string",
       std::string(),
       "A STUN server for calls, HOST:PORT (a kith node answers STUN on its channel port): your calls also "
       "offer the public address it sees. Empty: none is contacted",
       {},
       check_stun},
      {"calls.turn",
       "string",
       std::string(),
       "A TURN server for calls, USER:PASSWORD@HOST:PORT (UDP, e.g. coturn), used when no direct path "
       "works. Empty: none is contacted",
       {},
       check_turn},
      {"calls.relay_only", "bool", false,
       "Send call media only through the TURN server (calls.turn), as Signal's \"always relay calls\": "
       "contacts "
       "never learn your IP address from a call; calls need calls.turn then"},
      {"calls.ice_networks",
       "string",
       std::string(),
       "Networks calls may use, comma-separated (e.g. 192.168.1.0/24,127.0.0.1): candidates elsewhere are "
       "neither offered nor tried. Empty: every network",
       {},
       check_ice_networks},
      {"lsd.enabled", "bool", true, "Local Service Discovery: find peers on the LAN by multicast"},
      {"nat.upnp", "bool", true,
       "Map the listen ports (BitTorrent and contact channel) on the router with UPnP; a forwarded channel "
       "port is advertised to contacts"},
      {"nat.natpmp", "bool", true,
       "Map the listen ports (BitTorrent and contact channel) on the router with NAT-PMP; a forwarded "
       "channel port is advertised to contacts"},
      {"limits.download",
       "int",
       std::int64_t{0},
       "Download rate limit in bytes per second (0: unlimited)",
       {},
       check_rate},
      {"limits.upload",
       "int",
       std::int64_t{0},
       "Upload rate limit in bytes per second (0: unlimited)",
       {},
       check_rate},
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
      {"safety.ipfilter",
       "string",
       S(""),
       "IP filter files to load at start, comma-separated: PeerGuardian .p2p text or eMule ipfilter.dat "
       "(peers in their blocked ranges are neither accepted nor dialled; empty: no filter)",
       {},
       nullptr,
       check_ipfilter_files},
      {"safety.signatures",
       "string",
       S(""),
       "Extra ClamAV signature folders or files, comma-separated (loaded besides the system database)",
       {},
       nullptr,
       check_paths_exist},
      {"safety.system_signatures", "bool", true,
       "Load the system ClamAV database (/var/lib/clamav, kept current by freshclam)"},
      {"safety.hold_runnable", "bool", false,
       "Keep clean downloads that can run code (executables, scripts, macros) in quarantine too"},
      {"safety.scan_limit",
       "int",
       std::int64_t{2047},
       "MiB: larger files (or archive contents) are not fully scanned and stay in quarantine (ClamAV 1.4 "
       "scans at most 2047)",
       {},
       check_scan_limit},
      {"safety.require_signed", "bool", false,
       "Refuse magnet links without a valid publisher signature (`kith share --sign`)"},
      {"safety.report_syslog", "bool", false, "Also send `kith report` reports to syslog (facility user)"},
      {"profile.name",
       "string",
       S(""),
       "Your display name, shown to contacts and in your invite (empty: your login name)",
       {},
       check_display_name},
      {"channel.listen",
       "string",
       S("[::]:6882"),
       "Address and TCP port for contact channels (TLS); [::] listens on IPv6 and IPv4; port 0 picks a free "
       "port. Used by `kith daemon` only",
       {},
       check_listen_address},
      {"sync.listen",
       "string",
       S("0.0.0.0:22000"),
       "Address and TCP port for folder sync (BEP, Syncthing's protocol; 22000 is Syncthing's port, and "
       "when it is taken a free port is used); port 0 picks a free port. Used by `kith daemon` only",
       {},
       check_listen_address},
      {"sync.watch", "bool", true,
       "Watch synced folders with inotify, so a change is synced within a fraction of a second (off: only "
       "the periodic rescans and `kith sync rescan` find changes)"},
      {"sync.rescan_interval_s",
       "int",
       std::int64_t{60},
       "Seconds between full rescans of each synced folder (changes are also found by `kith sync rescan`)",
       {},
       check_seconds},
      {"sync.progress_interval_s",
       "int",
       std::int64_t{5},
       "Seconds between the messages that tell the devices of a folder which blocks of the files being "
       "pulled are already here (BEP DownloadProgress; Syncthing's progressUpdateIntervalS), so they can "
       "fetch those blocks from this node too",
       {},
       check_seconds},
      {"sync.min_disk_free_percent",
       "int",
       std::int64_t{1},
       "Percent of a synced folder's file system that pulls leave free (Syncthing's minDiskFree): a file "
       "that would leave less is not started, and the folder stops with a \"disk full\" error until there "
       "is room. 0 lets pulls fill the disk",
       {},
       check_percent},
      {"sync.local_discovery", "bool", true,
       "Find the devices you added on the LAN by Syncthing's local discovery (UDP broadcast and ff12::8384 "
       "multicast; kith and Syncthing find each other), and announce this node's device ID and sync port "
       "there. Used by `kith daemon`"},
      {"sync.local_discovery_port",
       "int",
       std::int64_t{21027},
       "UDP port of Syncthing's local discovery (21027 is Syncthing's)",
       {},
       check_udp_port},
      {"lan.discovery", "bool", true,
       "Find contacts on the LAN by signed multicast beacons (UDP 239.255.70.77 and ff02::6b69:7468)"},
      {"lan.port", "int", std::int64_t{29170}, "UDP port of the LAN beacons", {}, check_udp_port},
      {"relay.enabled", "bool", true,
       "Relay contact channels between two of your contacts who cannot reach each other directly (behind "
       "NATs). The relay carries their end-to-end encrypted TLS and cannot read it. Used by `kith daemon`"},
      {"relay.max_circuits",
       "int",
       std::int64_t{8},
       "Relayed channels at once, at most",
       {},
       check_relay_circuits},
      {"relay.max_mib",
       "int",
       std::int64_t{4096},
       "MiB one relayed channel may carry, both directions together (0: no cap)",
       {},
       check_relay_mib},
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

// Every value goes through here, however it arrives. `changing`: set by --set or the API (not read
// from config.toml), so the checks of what it names outside kith run too.
Status validate(const SettingDef& def, const SettingValue& v, bool changing) {
  if (auto c = check_choice(def, v); !c) return c;
  if (def.check) {
    if (auto c = def.check(def.name, v); !c) return c;
  }
  if (changing && def.check_on_change) {
    if (auto c = def.check_on_change(def.name, v); !c) return c;
  }
  return {};
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
  if (auto c = validate(*def, *v, true); !c) return c;
  m_values[name] = *v;
  return {};
}

Status Settings::set_json(const std::string& name, const nlohmann::json& value) {
  const auto* def = find_def(name);
  if (!def) return tl::unexpected(bad(unknown_message(name)));
  SettingValue v;
  if (def->type == "bool" && value.is_boolean())
    v = value.get<bool>();
  else if (def->type == "int" && value.is_number_integer() &&
           (value.is_number_unsigned() ? value.get<std::uint64_t>() <= INT64_MAX
                                       : value.get<std::int64_t>() >= 0))
    v = value.get<std::int64_t>();
  else if (def->type == "string" && value.is_string())
    v = value.get<std::string>();
  else
    return tl::unexpected(bad(name + " takes a value of type " + def->type));
  if (auto c = validate(*def, v, true); !c) return c;
  m_values[name] = std::move(v);
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
      SettingValue v;
      if (def->type == "bool" && node.is_boolean())
        v = *node.value<bool>();
      else if (def->type == "int" && node.is_integer() && *node.value<std::int64_t>() >= 0)
        v = *node.value<std::int64_t>();
      else if (def->type == "string" && node.is_string())
        v = *node.value<std::string>();
      else {
        result =
            fail(make_error_code(errc::bad_config), file.string() + ": " + name + " must be a " + def->type);
        return;
      }
      if (auto c = validate(*def, v, false); !c) {
        result = fail(make_error_code(errc::bad_config), file.string() + ": " + c.error().message);
        return;
      }
      m_values[name] = std::move(v);
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
  return base::split_list(get_string(name));
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
