#include "cli/sync_output.hpp"

#include <cstdio>
#include <ctime>
#include <string>

#include "cli/commands.hpp"
#include "cli/output.hpp"

namespace kith::cli {
namespace {

using nlohmann::json;

std::string str(const json& j, const char* key) { return j.value(key, std::string()); }
std::string text(const json& j) { return j.is_string() ? j.get<std::string>() : j.dump(); }
std::int64_t num(const json& j, const char* key) { return j.value(key, std::int64_t{0}); }

// Syncthing shows a device by the first group of its ID; so does kith where a line has no room for all.
std::string short_id(const std::string& id) { return id.substr(0, 7); }

// "Photos (photos)" when a label is set, else the id alone.
std::string folder_name(const json& f) {
  const auto label = str(f, "label"), id = str(f, "id");
  return label.empty() || label == id ? id : label + " (" + id + ")";
}

std::string device_name(const json& d, const char* id_key) {
  const auto name = str(d, "name"), id = str(d, id_key);
  return name.empty() ? short_id(id) : name + " (" + short_id(id) + ")";
}

std::string counts(const json& f, const char* prefix) {
  const std::string p = prefix;
  const auto files = num(f, (p + "_files").c_str());
  return std::to_string(files) + (files == 1 ? " file, " : " files, ") +
         format_bytes(num(f, (p + "_bytes").c_str()));
}

std::string completion(double percent) {
  char buf[32];
  if (percent >= 100) return "in sync";
  std::snprintf(buf, sizeof buf, "%.1f %%", percent);
  return buf;
}

const char* type_words(const std::string& type) {
  if (type == "sendonly") return "send only";
  if (type == "receiveonly") return "receive only";
  return "send & receive";
}

}  // namespace

std::string versioning_words(const json& v) {
  const auto type = str(v, "type");
  const auto params = v.value("params", json::object());
  auto days = [&](const char* key, const char* zero) {
    const auto d = num(params, key);
    return d == 0 ? std::string(zero) : std::to_string(d) + (d == 1 ? " day" : " days");
  };
  if (type == "trashcan")
    return "trash can, emptied of what is older than " + days("cleanout_days", "never (kept forever)");
  if (type == "simple")
    return "simple, the newest " + std::to_string(num(params, "keep")) + " of each file" +
           (num(params, "cleanout_days") > 0 ? ", none older than " + days("cleanout_days", "") : "");
  if (type == "staggered") return "staggered, up to " + days("max_age_days", "forever");
  return "none (replaced and deleted files are not kept: `kith sync versioning FOLDER trashcan`)";
}

void print_sync_versions(const json& answer) {
  const auto versions = safe_json(answer.value("versions", json::array()));
  if (versions.empty()) {
    std::printf("no kept versions\n");
    return;
  }
  std::printf("%-16s %-20s %10s  %s\n", "VERSION", "TIME", "SIZE", "FILE");
  for (const auto& v : versions)
    std::printf("%-16s %-20s %10s  %s\n", str(v, "version").c_str(), format_time(num(v, "time")).c_str(),
                format_bytes(num(v, "size")).c_str(), str(v, "name").c_str());
}

void print_sync_folders(const json& answer) {
  const auto folders = safe_json(answer.value("folders", json::array()));
  if (folders.empty()) {
    std::printf("no synced folders yet: `kith sync add PATH` starts one, `kith sync pending` shows offers\n");
    return;
  }
  std::printf("%-24s %-9s %-12s %-22s %-8s %s\n", "FOLDER", "STATE", "TYPE", "LOCAL", "DEVICES", "PATH");
  for (const auto& f : folders) {
    int connected = 0;
    for (const auto& d : f.value("devices", json::array())) connected += d.value("connected", false) ? 1 : 0;
    const auto devices =
        std::to_string(connected) + "/" + std::to_string(f.value("devices", json::array()).size());
    std::printf("%-24s %-9s %-12s %-22s %-8s %s\n", str(f, "id").c_str(), str(f, "state").c_str(),
                str(f, "type").c_str(), counts(f, "local").c_str(), devices.c_str(), str(f, "path").c_str());
    if (!str(f, "error").empty()) std::printf("%-24s error: %s\n", "", str(f, "error").c_str());
  }
}

void print_sync_status(const json& folder) {
  const auto f = safe_json(folder);
  const auto id = str(f, "id");
  auto line = [](const char* key, const std::string& value) {
    std::printf("  %-10s %s\n", key, value.c_str());
  };
  std::printf("%s  %s\n", folder_name(f).c_str(), str(f, "path").c_str());
  line("state", str(f, "state") + ", " + type_words(str(f, "type")));
  line("local", counts(f, "local"));
  line("global", counts(f, "global"));
  line("versions", versioning_words(f.value("versioning", json::object())));
  if (num(f, "need_files") > 0 || num(f, "need_bytes") > 0) line("needs", counts(f, "need"));
  if (num(f, "last_scan") > 0) line("last scan", format_time(num(f, "last_scan")));
  const auto devices = f.value("devices", json::array());
  for (const auto& d : devices) {
    std::string state = d.value("connected", false) ? "connected, " : "not connected, ";
    state += completion(d.value("completion", 0.0));
    if (num(d, "need_files") > 0) state += " (needs " + counts(d, "need") + ")";
    line("device", device_name(d, "device") + ": " + state);
  }
  if (devices.empty()) line("devices", "none yet: `kith sync share " + id + " DEVICE-ID` shares it");
  for (const auto& h : f.value("held", json::array()))
    line("held", str(h, "name") + ": " + str(h, "reason") + " (kept in quarantine: `kith quarantine show " +
                     str(h, "quarantine_id") + "`)");
  // Failed items of the last pull round (each error says why, and what to do where there is something).
  const auto errors = f.value("pull_errors", json::array());
  for (std::size_t i = 0; i < errors.size() && i < 10; ++i)
    line("failed", str(errors[i], "name") + ": " + str(errors[i], "error"));
  if (errors.size() > 10)
    line("", std::to_string(errors.size() - 10) + " more (`kith sync status " + id + " --json` lists them)");
  if (f.value("case_insensitive", false))
    line("names",
         "this file system does not tell upper from lower case: names differing only in case are refused");
  // What to do about it: the service says what went wrong, this says how to go on.
  if (f.value("paused", false)) line("paused", "`kith sync resume " + id + "` resumes it");
  if (!str(f, "error").empty()) {
    line("error", str(f, "error"));
    if (f.value("disk_full", false))
      line("", "once there is room it pulls again by itself (it looks every 10 s, and at `kith sync rescan " +
                   id + "`)");
    else
      line("", "fix that, then `kith sync rescan " + id + "` (kith also retries at its next scan)");
  }
}

void print_sync_devices(const json& answer) {
  const auto a = safe_json(answer);
  std::printf("this device: %s\n", str(a, "device_id").c_str());
  const auto devices = a.value("devices", json::array());
  if (devices.empty()) {
    std::printf(
        "no devices yet: `kith sync device add DEVICE-ID --addr HOST:PORT` adds one; your kith contacts' "
        "devices appear here once their node is online with yours\n");
    return;
  }
  for (const auto& d : devices) {
    std::string state = "not connected";
    if (d.value("connected", false)) {
      state = "connected (" + str(d, "address");
      if (!str(d, "client").empty()) state += ", " + str(d, "client");
      state += ")";
    }
    std::string folders;
    for (const auto& f : d.value("folders", json::array()))
      folders += (folders.empty() ? "" : ", ") + text(f);
    // Added by hand, then where local discovery heard it (both are dialled, in that order).
    std::string addresses;
    for (const auto& x : d.value("addresses", json::array()))
      addresses += (addresses.empty() ? "" : ", ") + text(x);
    for (const auto& x : d.value("discovered", json::array()))
      addresses += (addresses.empty() ? "" : ", ") + text(x) + " (discovered)";
    std::printf("%s  %s\n", str(d, "name").empty() ? "(no name)" : str(d, "name").c_str(), state.c_str());
    std::printf("  %-10s %s\n", "id", str(d, "id").c_str());
    if (!str(d, "contact").empty())
      std::printf("  %-10s %s (their node told it; trusted as your contact)\n", "contact",
                  str(d, "contact").c_str());
    std::printf("  %-10s %s\n", "dialled at",
                addresses.empty() ? "(no address: not found on the LAN yet, or it connects to this node)"
                                  : addresses.c_str());
    std::printf("  %-10s %s\n", "folders", folders.empty() ? "(none shared)" : folders.c_str());
  }
}

void print_sync_conflicts(const json& folders) {
  std::size_t total = 0;
  for (const auto& f : safe_json(folders)) {
    const auto copies = f.value("conflicts", json::array());
    total += copies.size();
    if (copies.empty()) continue;
    std::printf("%s: %zu conflict cop%s\n", str(f, "id").c_str(), copies.size(),
                copies.size() == 1 ? "y" : "ies");
    for (const auto& c : copies) {
      const auto stamp = str(c, "stamp");  // YYYYMMDD-HHMMSS
      const auto when = stamp.size() == 15
                            ? stamp.substr(0, 4) + "-" + stamp.substr(4, 2) + "-" + stamp.substr(6, 2) + " " +
                                  stamp.substr(9, 2) + ":" + stamp.substr(11, 2) + ":" + stamp.substr(13, 2)
                            : stamp;
      std::printf("  %s\n    kept beside %s (the version that won); the losing change was %s's, %s\n",
                  str(c, "name").c_str(), str(c, "original").c_str(), str(c, "device").c_str(), when.c_str());
    }
  }
  if (total == 0) {
    std::printf("no conflict copies\n");
    return;
  }
  std::printf("keep what you want in the original and delete the copy (or rename it): either change syncs\n");
}

void print_sync_changes(const json& folders, const std::string& my_device) {
  std::size_t total = 0;
  for (const auto& f : safe_json(folders)) {
    const auto changes = f.value("changes", json::array());
    total += changes.size();
    if (changes.empty()) continue;
    std::printf("%s: %zu recent change%s, newest first\n", str(f, "id").c_str(), changes.size(),
                changes.size() == 1 ? "" : "s");
    for (const auto& c : changes) {
      // Seconds: several changes often come within one minute.
      const std::time_t t = static_cast<std::time_t>(num(c, "time"));
      std::tm tm{};
      localtime_r(&t, &tm);
      char when[32];
      std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
      const auto device = str(c, "device"), name = str(c, "device_name");
      std::string by = "an unknown device";
      if (device == my_device && !device.empty())
        by = "this device";
      else if (!device.empty())
        by = name.empty() ? short_id(device) : name + " (" + short_id(device) + ")";
      const auto reason = str(c, "reason").empty() ? std::string() : " (" + str(c, "reason") + ")";
      // Clean, but it can run code: said as `kith get` says it of a download.
      const auto runnable =
          str(c, "runnable").empty() ? std::string() : "; can run code: " + str(c, "runnable");
      std::printf("  %s  %-7s  %-9s  %s  by %s%s%s\n", when, str(c, "action").c_str(), str(c, "type").c_str(),
                  str(c, "name").c_str(), by.c_str(), reason.c_str(), runnable.c_str());
    }
  }
  if (total == 0) std::printf("no recent changes\n");
}

void print_sync_pending(const json& answer) {
  const auto offers = safe_json(answer.value("folders", json::array()));
  if (offers.empty()) {
    std::printf("no folders offered by your devices\n");
    return;
  }
  for (const auto& p : offers) {
    std::printf("%s offered by %s: `kith sync accept %s PATH` takes it\n", folder_name(p).c_str(),
                device_name(json{{"name", str(p, "device_name")}, {"id", str(p, "device")}}, "id").c_str(),
                str(p, "id").c_str());
  }
}

}  // namespace kith::cli
