// `kith sync ...` (docs/cli.md § Folder sync): folders kept in sync with kith nodes and Syncthing
// devices. Folder sync runs in the daemon; every command here is one or two API calls
// (docs/api.md § Folder sync) and prints the answer (sync_output.hpp), or with --json the API's JSON.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>

#include "api/sync_requests.hpp"
#include "cli/backend.hpp"
#include "cli/commands.hpp"
#include "cli/output.hpp"
#include "cli/sync_output.hpp"

namespace kith::cli {
namespace {

using nlohmann::json;

const std::string FOLDERS = "/api/v1/sync/folders";
const std::string DEVICES = "/api/v1/sync/devices";

// --json: the API's answer as it is, on one line.
int printed(const json& j) {
  std::printf("%s\n", j.dump().c_str());
  return 0;
}

// The daemon runs in another working folder: it gets absolute paths (as `kith share` sends them).
std::string absolute(const std::string& path) {
  std::error_code ec;
  auto out = std::filesystem::absolute(path, ec).lexically_normal().string();
  // "dir/" normalises to "dir/"; the folder is "dir".
  if (!ec && out.size() > 1 && out.back() == '/') out.pop_back();
  return ec ? path : out;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// The folder `given` names: its id, else the one folder with that label, else the folder at that path.
// Not found: {"id": given} when that can be an id (the node's answer to the real request says whether
// it knows it), else not_found.
Result<json> resolve_folder(Backend& b, const std::string& given) {
  auto list = b.call("GET", FOLDERS);
  if (!list) return list;  // e.g. no daemon: folder sync runs there
  const auto folders = list->value("folders", json::array());
  for (const auto& f : folders)
    if (f.value("id", "") == given) return f;
  const json* by_label = nullptr;
  int labels = 0;
  for (const auto& f : folders)
    if (f.value("label", "") == given) by_label = &f, ++labels;
  if (labels == 1) return *by_label;
  const auto path = absolute(given);
  for (const auto& f : folders)
    if (f.value("path", "") == path) return f;
  if (api::check_folder_id(given)) return json{{"id", given}};
  return fail(base::make_error_code(base::errc::not_found),
              "no synced folder has the id, label or path '" + given + "' (see kith sync list)");
}

// A device ID as given, or the device ID of the one device with that name (any case) or of that kith
// contact (their kith ID or name: a contact's device is named after them, docs/sync.md § Contacts).
Result<std::string> resolve_device(Backend& b, const std::string& given) {
  if (api::check_device_id(given)) return given;
  auto list = b.call("GET", DEVICES);
  if (!list) return tl::unexpected(list.error());
  std::string found;
  int matches = 0;
  for (const auto& d : list->value("devices", json::array()))
    if (lower(d.value("name", "")) == lower(given) || d.value("contact", "") == given)
      found = d.value("id", ""), ++matches;
  if (matches == 1) return found;
  if (matches > 1)
    return fail(base::make_error_code(base::errc::bad_input),
                "several devices are named '" + given + "': give the device ID (kith sync device list)");
  // A contact whose node has not been online since: its device is not known yet.
  if (auto c = b.call("GET", "/api/v1/contacts/" + encode_segment(given));
      c && c->value("state", "") == "accepted")
    return fail(base::make_error_code(base::errc::unavailable),
                "contact '" + given +
                    "' has not told this node its sync device yet: that happens when their node is next "
                    "online with yours (kith contacts); try again then");
  return fail(base::make_error_code(base::errc::bad_input),
              "'" + given +
                  "' is neither a device ID, nor the name of a device you added, nor a contact (kith sync "
                  "device list, kith contacts)");
}

std::string folder_path(const std::string& id) { return FOLDERS + "/" + encode_segment(id); }

// "Photos (photos)" or "photos", for lines about a folder.
std::string named(const json& folder) {
  const auto id = folder.value("id", ""), label = folder.value("label", "");
  return label.empty() || label == id ? id : label + " (" + id + ")";
}

// {type, params} from --versioning/TYPE and the parameters given (the API refuses those the type
// does not take, saying which it does).
json versioning_body(const SyncArgs& a) {
  json params = json::object();
  if (a.keep >= 0) params["keep"] = a.keep;
  if (a.max_age_days >= 0) params["max_age_days"] = a.max_age_days;
  if (a.cleanout_days >= 0) params["cleanout_days"] = a.cleanout_days;
  return {{"type", a.versioning}, {"params", params}};
}

int add_folder(Context& ctx, Backend& b, const SyncArgs& a) {
  json body{{"path", absolute(a.path)}};
  if (!a.versioning.empty()) body["versioning"] = versioning_body(a);
  if (!a.id.empty()) body["id"] = a.id;
  if (!a.label.empty()) body["label"] = a.label;
  if (!a.type.empty()) body["type"] = a.type;
  if (!a.devices.empty()) {
    body["devices"] = json::array();
    for (const auto& d : a.devices) {
      auto device = resolve_device(b, d);
      if (!device) return report(ctx, device.error());
      body["devices"].push_back(*device);
    }
  }
  auto r = b.call("POST", FOLDERS, &body);
  if (!r) return report(ctx, r.error());
  if (ctx.json) return printed(*r);
  const auto f = safe_json(*r);
  const auto id = f.value("id", "");
  std::printf("syncing %s as folder %s (%s)\n", f.value("path", "").c_str(), named(f).c_str(),
              f.value("type", "").c_str());
  const auto shared = f.value("devices", json::array()).size();
  if (shared == 0)
    std::printf("shared with no device yet: `kith sync share %s DEVICE-ID` (after `kith sync device add`)\n",
                id.c_str());
  else
    std::printf("shared with %zu device%s: each syncs once it accepts folder %s\n", shared,
                shared == 1 ? "" : "s", id.c_str());
  return 0;
}

int status(Context& ctx, Backend& b, const SyncArgs& a) {
  if (!a.folder.empty()) {
    auto folder = resolve_folder(b, a.folder);
    if (!folder) return report(ctx, folder.error());
    auto r = b.call("GET", folder_path(folder->value("id", a.folder)));
    if (!r) return report(ctx, r.error());
    if (ctx.json) return printed(*r);
    print_sync_status(*r);
    return 0;
  }
  auto r = b.call("GET", FOLDERS);
  if (!r) return report(ctx, r.error());
  if (ctx.json) return printed(*r);
  const auto folders = r->value("folders", json::array());
  if (folders.empty()) print_sync_folders(*r);
  for (std::size_t i = 0; i < folders.size(); ++i) {
    if (i > 0) std::printf("\n");
    print_sync_status(folders[i]);
  }
  return 0;
}

// share, unshare, pause, resume, rescan, remove: one request about one folder, one line when done.
int folder_action(Context& ctx, Backend& b, const SyncArgs& a) {
  const auto found = resolve_folder(b, a.folder);
  if (!found) return report(ctx, found.error());
  const auto& folder = *found;
  const auto id = folder.value("id", a.folder);
  const auto path = folder_path(id);
  Result<json> r = json();
  std::string done;
  if (a.action == "share" || a.action == "unshare") {
    const auto resolved = resolve_device(b, a.device);
    if (!resolved) return report(ctx, resolved.error());
    const auto& device = *resolved;
    if (a.action == "share") {
      json body{{"device", device}};
      r = b.call("POST", path + "/devices", &body);
      done =
          "shared " + named(folder) + " with " + a.device +
          ": it syncs once that device accepts it (a kith node: `kith sync accept`; Syncthing asks its user)";
    } else {
      r = b.call("DELETE", path + "/devices/" + encode_segment(device));
      done = named(folder) + " is no longer shared with " + a.device;
    }
  } else if (a.action == "pause" || a.action == "resume" || a.action == "rescan") {
    r = b.call("POST", path + "/" + a.action);
    done = a.action == "pause"    ? "paused " + named(folder) + " (`kith sync resume " + id + "` resumes it)"
           : a.action == "resume" ? "resumed " + named(folder)
                                  : "rescanning " + named(folder);
  } else {  // remove
    r = b.call("DELETE", path);
    const auto where = folder.value("path", "");
    done = "stopped syncing " + named(folder) + (where.empty() ? "" : "; its files stay in " + where);
  }
  if (!r) return report(ctx, r.error());
  if (ctx.json) return printed(*r);
  std::printf("%s\n", safe(done).c_str());  // labels may come from the device that offered the folder
  return 0;
}

// versioning, versions, restore: a folder's kept versions (docs/cli.md § Versioning).
int versions_action(Context& ctx, Backend& b, const SyncArgs& a) {
  const auto found = resolve_folder(b, a.folder);
  if (!found) return report(ctx, found.error());
  const auto id = found->value("id", a.folder);
  const auto path = folder_path(id);
  Result<json> r = json();
  if (a.action == "versioning") {
    const auto body = versioning_body(a);
    r = b.call("PUT", path + "/versioning", &body);
    if (r && !ctx.json) {
      const auto f = safe_json(*r);
      std::printf("%s keeps: %s\n", named(f).c_str(),
                  versioning_words(f.value("versioning", json::object())).c_str());
    }
  } else if (a.action == "versions") {
    r = b.call("GET", path + "/versions" + (a.path.empty() ? "" : "?path=" + encode_segment(a.path)));
    if (r && !ctx.json) print_sync_versions(*r);
  } else {  // restore
    json body{{"path", a.path}};
    if (!a.version.empty()) body["version"] = a.version;
    r = b.call("POST", path + "/restore", &body);
    if (r && !ctx.json) {
      const auto k = safe_json(r->value("restored", json::object()));
      std::printf("restored %s as it was at %s; the file it replaced (if any) is kept in .stversions\n",
                  safe(a.path).c_str(), format_time(k.value("time", std::int64_t{0})).c_str());
    }
  }
  if (!r) return report(ctx, r.error());
  if (ctx.json) return printed(*r);
  return 0;
}

// The folder's ignore patterns: the file's lines, or why kith cannot use them.
int ignores(Context& ctx, Backend& b, const SyncArgs& a) {
  const auto folder = resolve_folder(b, a.folder);
  if (!folder) return report(ctx, folder.error());
  auto r = b.call("GET", folder_path(folder->value("id", a.folder)) + "/ignores");
  if (!r) return report(ctx, r.error());
  if (ctx.json) return printed(*r);
  const auto v = safe_json(*r);  // the lines are the file's text: escaped before the terminal sees them
  const auto error = v.value("error", "");
  if (!error.empty()) std::printf("error: %s\n", error.c_str());
  const auto lines = v.value("lines", json::array());
  const auto patterns = v.value("patterns", json::array());
  if (lines.empty() && error.empty()) {
    std::printf("%s ignores nothing (no .stignore, or nothing in it)\n", named(safe_json(*folder)).c_str());
    return 0;
  }
  std::printf(".stignore of %s:\n", named(safe_json(*folder)).c_str());
  for (const auto& l : lines) std::printf("  %s\n", l.get<std::string>().c_str());
  if (error.empty())
    std::printf("%zu pattern%s in effect (with includes and expansion; `--json` lists them)\n",
                patterns.size(), patterns.size() == 1 ? "" : "s");
  return 0;
}

int accept(Context& ctx, Backend& b, const SyncArgs& a) {
  json body{{"path", absolute(a.path)}};
  auto r = b.call("POST", "/api/v1/sync/pending/" + encode_segment(a.folder) + "/accept", &body);
  if (!r) return report(ctx, r.error());
  if (ctx.json) return printed(*r);
  const auto f = safe_json(*r);
  std::printf("syncing folder %s into %s\n", named(f).c_str(), f.value("path", "").c_str());
  return 0;
}

int device_action(Context& ctx, Backend& b, const SyncArgs& a) {
  Result<json> r = json();
  std::string done;
  if (a.action == "device-add") {
    json body{{"id", a.device}, {"addresses", a.addresses}};
    if (!a.name.empty()) body["name"] = a.name;
    r = b.call("POST", DEVICES, &body);
    if (r) {
      const auto d = safe_json(*r);
      done = "added device " + d.value("id", "") +
             (d.value("name", "").empty() ? "" : " (" + d.value("name", "") + ")");
      done += a.addresses.empty()
                  ? "; with no address it is dialled where local discovery finds it on the LAN, or it dials "
                    "this node"
                  : "; dialling it at " + a.addresses.front() + (a.addresses.size() > 1 ? " and more" : "");
    }
  } else if (a.action == "device-remove") {
    const auto id = resolve_device(b, a.device);
    if (!id) return report(ctx, id.error());
    r = b.call("DELETE", DEVICES + "/" + encode_segment(*id));
    done = "removed device " + a.device + " (and it no longer shares any folder with you)";
  } else {
    r = b.call("GET", DEVICES);
    if (r && !ctx.json) print_sync_devices(*r);
  }
  if (!r) return report(ctx, r.error());
  if (ctx.json) return printed(*r);
  if (!done.empty()) std::printf("%s\n", safe(done).c_str());
  return 0;
}

// GET folders/{id}/<what> of one folder (FOLDER given) or of every folder, as
// [{"id", <what>: [...]}]: what `kith sync conflicts` and `kith sync changes` list.
Result<json> per_folder(Backend& b, const SyncArgs& a, const std::string& what) {
  std::vector<std::string> ids;
  if (!a.folder.empty()) {
    auto folder = resolve_folder(b, a.folder);
    if (!folder) return tl::unexpected(folder.error());
    ids.push_back(folder->value("id", a.folder));
  } else {
    auto list = b.call("GET", FOLDERS);
    if (!list) return tl::unexpected(list.error());
    for (const auto& f : list->value("folders", json::array())) ids.push_back(f.value("id", ""));
  }
  json out = json::array();
  for (const auto& id : ids) {
    auto r = b.call("GET", folder_path(id) + "/" + what);
    if (!r) return tl::unexpected(r.error());
    out.push_back({{"id", id}, {what, r->value(what, json::array())}});
  }
  return out;
}

// `kith sync conflicts [FOLDER]`: one folder, or every folder; --json: {"folders": [{"id", "conflicts"}]}.
int conflicts(Context& ctx, Backend& b, const SyncArgs& a) {
  auto out = per_folder(b, a, "conflicts");
  if (!out) return report(ctx, out.error());
  if (ctx.json) return printed(json{{"folders", *out}});
  print_sync_conflicts(*out);
  return 0;
}

// `kith sync changes [FOLDER]`: the recent changes of one folder, or of every folder, newest first;
// --json: {"folders": [{"id", "changes"}]}.
int changes(Context& ctx, Backend& b, const SyncArgs& a) {
  auto out = per_folder(b, a, "changes");
  if (!out) return report(ctx, out.error());
  if (ctx.json) return printed(json{{"folders", *out}});
  auto devices = b.call("GET", DEVICES);  // this node's device ID: its own changes read "this device"
  print_sync_changes(*out, devices ? devices->value("device_id", "") : "");
  return 0;
}

}  // namespace

int run_sync(Context& ctx, const SyncArgs& a) {
  auto backend = open_backend(ctx);
  if (!backend) return report(ctx, backend.error());
  auto& b = **backend;
  if (a.action == "add") return add_folder(ctx, b, a);
  if (a.action == "status") return status(ctx, b, a);
  if (a.action == "accept") return accept(ctx, b, a);
  if (a.action == "conflicts") return conflicts(ctx, b, a);
  if (a.action == "changes") return changes(ctx, b, a);
  if (a.action == "versioning" || a.action == "versions" || a.action == "restore")
    return versions_action(ctx, b, a);
  if (a.action == "ignores") return ignores(ctx, b, a);
  if (a.action.rfind("device-", 0) == 0) return device_action(ctx, b, a);
  if (a.action == "list" || a.action == "pending") {
    auto r = b.call("GET", a.action == "list" ? FOLDERS : "/api/v1/sync/pending");
    if (!r) return report(ctx, r.error());
    if (ctx.json) return printed(*r);
    a.action == "list" ? print_sync_folders(*r) : print_sync_pending(*r);
    return 0;
  }
  return folder_action(ctx, b, a);
}

}  // namespace kith::cli
