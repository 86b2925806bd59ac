#include "api/sync_requests.hpp"

#include <algorithm>
#include <array>
#include <initializer_list>

#include "api/detail/route_helpers.hpp"
#include "base/endpoint.hpp"
#include "sync/names.hpp"
#include "sync/versioner.hpp"

namespace kith::api {
namespace {

Error bad(std::string message) {
  return Error{base::make_error_code(base::errc::bad_input), std::move(message)};
}

// A field the route does not know is refused rather than ignored: a typo ("lable") would otherwise
// pass silently and the folder would be made without it.
Status only_fields(const nlohmann::json& body, std::initializer_list<const char*> known) {
  for (const auto& [key, value] : body.items()) {
    if (std::none_of(known.begin(), known.end(), [&key](const char* k) { return key == k; })) {
      std::string list;
      for (const char* k : known) list += std::string(list.empty() ? "" : ", ") + k;
      return tl::unexpected(bad("unknown field in the body (it takes: " + list + ")"));
    }
  }
  return {};
}

Result<std::string> required_string(const nlohmann::json& body, const char* name) {
  auto v = detail::field<std::string>(body, name, "");
  if (!v) return v;
  if (v->empty()) return tl::unexpected(bad(std::string("'") + name + "' is required"));
  return v;
}

bool has_control(std::string_view text) {
  return std::any_of(text.begin(), text.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

// A path the daemon will read and write: absolute, because the daemon's working folder is not the
// caller's (the CLI makes paths absolute before it sends them).
Status check_path(const std::string& path, const char* name) {
  if (path.size() > SYNC_MAX_PATH)
    return tl::unexpected(
        bad(std::string("'") + name + "' is longer than " + std::to_string(SYNC_MAX_PATH) + " bytes"));
  if (path.front() != '/')
    return tl::unexpected(bad(std::string("'") + name +
                              "' must be an absolute path (the daemon's working folder is not yours)"));
  if (path.find('\0') != std::string::npos)
    return tl::unexpected(bad(std::string("'") + name + "' holds a NUL byte"));
  return {};
}

// A label or device name: shown in lists and sent to peers, so one line of bounded length.
Status check_text(const std::string& text, const char* name) {
  if (text.size() > SYNC_MAX_LABEL)
    return tl::unexpected(
        bad(std::string("'") + name + "' is longer than " + std::to_string(SYNC_MAX_LABEL) + " bytes"));
  if (has_control(text))
    return tl::unexpected(bad(std::string("'") + name + "' may not hold control characters"));
  return {};
}

// "HOST:PORT" or "tcp://HOST:PORT", as SyncService::add_device takes them.
Status check_address(std::string_view address) {
  constexpr std::string_view TCP = "tcp://";
  if (address.substr(0, TCP.size()) == TCP) address.remove_prefix(TCP.size());
  if (auto hp = base::parse_host_port(address); !hp)
    return tl::unexpected(
        bad("'addresses': an entry is not HOST:PORT or tcp://HOST:PORT: " + hp.error().message));
  return {};
}

}  // namespace

Status check_folder_id(std::string_view id) {
  if (id.empty() || id.size() > SYNC_MAX_FOLDER_ID)
    return tl::unexpected(bad("a folder id has 1 to " + std::to_string(SYNC_MAX_FOLDER_ID) + " characters"));
  const bool ok = std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
  // "." and ".." could name a folder where the id becomes part of a path (quarantine, markers).
  if (!ok || id == "." || id == "..")
    return tl::unexpected(
        bad("a folder id may hold only letters, digits, '.', '_' and '-' (and is not . or ..)"));
  return {};
}

Status check_device_id(std::string_view id) {
  std::size_t digits = 0;
  bool ok = !id.empty() && id.size() <= SYNC_MAX_DEVICE_ID;
  for (char c : id) {
    if (c == '-' || c == ' ') continue;
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'));
    ++digits;
  }
  if (!ok || (digits != 52 && digits != 56))
    return tl::unexpected(
        bad("not a device ID: Syncthing's form is 8 groups of 7 letters and digits, e.g. "
            "MFZWI3D-BONSGYC-YLTMRWG-C43ENR5-QXGZDMM-FZWI3DP-BONSGYY-LTMRWAD"));
  return {};
}

Result<sync::FolderSpec> parse_folder_spec(const nlohmann::json& body) {
  if (auto r = only_fields(body, {"path", "id", "label", "type", "devices", "versioning"}); !r)
    return tl::unexpected(r.error());
  sync::FolderSpec::Versioning versioning;
  if (body.contains("versioning") && !body["versioning"].is_null()) {
    if (!body["versioning"].is_object())
      return tl::unexpected(bad("'versioning' must be an object {type, params}"));
    auto v = parse_versioning(body["versioning"]);
    if (!v) return tl::unexpected(v.error());
    versioning = std::move(*v);
  }
  auto path = required_string(body, "path");
  auto id = detail::field<std::string>(body, "id", "");
  auto label = detail::field<std::string>(body, "label", "");
  auto type = detail::field<std::string>(body, "type", "sendreceive");
  auto devices = detail::field<std::vector<std::string>>(body, "devices", {});
  for (const auto* r : {&path, &id, &label, &type})
    if (!*r) return tl::unexpected(r->error());
  if (!devices) return tl::unexpected(devices.error());
  if (auto r = check_path(*path, "path"); !r) return tl::unexpected(r.error());
  if (!id->empty())
    if (auto r = check_folder_id(*id); !r)
      return tl::unexpected(Error{r.error().code, "'id': " + r.error().message});
  if (auto r = check_text(*label, "label"); !r) return tl::unexpected(r.error());
  static constexpr std::array<std::string_view, 3> TYPES{"sendreceive", "sendonly", "receiveonly"};
  if (std::find(TYPES.begin(), TYPES.end(), *type) == TYPES.end())
    return tl::unexpected(bad("'type' must be sendreceive, sendonly or receiveonly"));
  if (devices->size() > SYNC_MAX_DEVICES)
    return tl::unexpected(bad("'devices' lists more than " + std::to_string(SYNC_MAX_DEVICES) + " devices"));
  for (const auto& d : *devices)
    if (auto r = check_device_id(d); !r)
      return tl::unexpected(Error{r.error().code, "'devices': " + r.error().message});
  return sync::FolderSpec{.path = std::move(*path),
                          .id = std::move(*id),
                          .label = std::move(*label),
                          .type = std::move(*type),
                          .devices = std::move(*devices),
                          .versioning = std::move(versioning)};
}

Result<sync::FolderSpec::Versioning> parse_versioning(const nlohmann::json& body) {
  if (auto r = only_fields(body, {"type", "params"}); !r) return tl::unexpected(r.error());
  auto type = required_string(body, "type");
  if (!type) return tl::unexpected(type.error());
  sync::FolderSpec::Versioning v;
  v.type = *type;
  std::vector<std::string> known;  // the parameters the type takes
  if (v.type == "trashcan")
    known = {"cleanout_days"};
  else if (v.type == "simple")
    known = {"keep", "cleanout_days"};
  else if (v.type == "staggered")
    known = {"max_age_days"};
  else if (v.type != "none")
    return tl::unexpected(bad("'versioning.type' must be none, trashcan, simple or staggered"));
  const auto params = body.value("params", nlohmann::json::object());
  if (!params.is_object()) return tl::unexpected(bad("'versioning.params' must be an object"));
  for (const auto& [key, value] : params.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      return tl::unexpected(bad("'versioning.params' of " + v.type + " takes " +
                                (list.empty() ? std::string("nothing") : list)));
    }
    if (!value.is_number_integer())
      return tl::unexpected(bad("'versioning.params." + key + "' must be a whole number"));
  }
  v.keep = params.value("keep", v.keep);
  v.max_age_days = params.value("max_age_days", v.max_age_days);
  v.cleanout_days = params.value("cleanout_days", v.cleanout_days);
  if (auto r = sync::check_versioning(v); !r)
    return tl::unexpected(bad("'versioning': " + r.error().message));
  return v;
}

Status check_file_name(std::string_view name) {
  if (name.size() > SYNC_MAX_PATH)
    return tl::unexpected(bad("'path' is longer than " + std::to_string(SYNC_MAX_PATH) + " bytes"));
  if (auto r = sync::check_name(std::string(name)); !r)
    return tl::unexpected(
        bad("'path' is not a file's name in the folder (relative, '/'-separated, no . or ..)"));
  return {};
}

Result<RestoreRequest> parse_restore_request(const nlohmann::json& body) {
  if (auto r = only_fields(body, {"path", "version"}); !r) return tl::unexpected(r.error());
  auto path = required_string(body, "path");
  auto version = detail::field<std::string>(body, "version", "");
  if (!path) return tl::unexpected(path.error());
  if (!version) return tl::unexpected(version.error());
  if (auto r = check_file_name(*path); !r) return tl::unexpected(r.error());
  RestoreRequest out{std::move(*path), std::nullopt};
  if (!version->empty()) {
    if (!sync::parse_version_tag(*version))
      return tl::unexpected(bad("'version' is YYYYMMDD-HHMMSS, as GET .../versions lists them"));
    out.version = std::move(*version);
  }
  return out;
}

Result<DeviceRequest> parse_device_request(const nlohmann::json& body) {
  if (auto r = only_fields(body, {"id", "addresses", "name"}); !r) return tl::unexpected(r.error());
  auto id = required_string(body, "id");
  auto name = detail::field<std::string>(body, "name", "");
  auto addresses = detail::field<std::vector<std::string>>(body, "addresses", {});
  if (!id) return tl::unexpected(id.error());
  if (!name) return tl::unexpected(name.error());
  if (!addresses) return tl::unexpected(addresses.error());
  if (auto r = check_device_id(*id); !r)
    return tl::unexpected(Error{r.error().code, "'id': " + r.error().message});
  if (auto r = check_text(*name, "name"); !r) return tl::unexpected(r.error());
  if (addresses->size() > SYNC_MAX_ADDRESSES)
    return tl::unexpected(
        bad("'addresses' lists more than " + std::to_string(SYNC_MAX_ADDRESSES) + " addresses"));
  for (const auto& a : *addresses)
    if (auto r = check_address(a); !r) return tl::unexpected(r.error());
  return DeviceRequest{std::move(*id), std::move(*addresses), std::move(*name)};
}

Result<std::string> parse_share_request(const nlohmann::json& body) {
  if (auto r = only_fields(body, {"device"}); !r) return tl::unexpected(r.error());
  auto device = required_string(body, "device");
  if (!device) return device;
  if (auto r = check_device_id(*device); !r)
    return tl::unexpected(Error{r.error().code, "'device': " + r.error().message});
  return device;
}

Result<std::string> parse_accept_request(const nlohmann::json& body) {
  if (auto r = only_fields(body, {"path"}); !r) return tl::unexpected(r.error());
  auto path = required_string(body, "path");
  if (!path) return path;
  if (auto r = check_path(*path, "path"); !r) return tl::unexpected(r.error());
  return path;
}

}  // namespace kith::api
