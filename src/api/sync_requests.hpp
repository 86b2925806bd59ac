#pragma once
// The checks of folder sync's request bodies and path parameters (docs/api.md § Folder sync), apart
// from the routes so that they run without a node (sync_requests_test.cpp). Every refusal is
// base.bad_input with a message naming the field and the rule; the value itself is not quoted (it
// may be long, or hold what a terminal should not print).
#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "sync/views.hpp"

namespace kith::api {

constexpr std::size_t SYNC_MAX_PATH = 4096;     // bytes of a folder's path (Linux's PATH_MAX)
constexpr std::size_t SYNC_MAX_LABEL = 256;     // bytes of a folder label or device name
constexpr std::size_t SYNC_MAX_FOLDER_ID = 64;  // characters of a folder id, [A-Za-z0-9._-]
constexpr std::size_t SYNC_MAX_DEVICES = 32;    // devices a folder is shared with in one request
constexpr std::size_t SYNC_MAX_ADDRESSES = 16;  // addresses of one device
constexpr std::size_t SYNC_MAX_DEVICE_ID = 80;  // a device ID with separators (56 digits + 7 dashes)

// POST /api/v1/sync/folders/{id}/restore
struct RestoreRequest {
  std::string path;                    // the file's name in the folder
  std::optional<std::string> version;  // YYYYMMDD-HHMMSS; none: the newest
};

// POST /api/v1/sync/devices
struct DeviceRequest {
  std::string id;
  std::vector<std::string> addresses;
  std::string name;
};

// {path, id?, label?, type?, devices?[], versioning?} of POST /api/v1/sync/folders.
Result<sync::FolderSpec> parse_folder_spec(const nlohmann::json& body);
// {id, addresses?[], name?} of POST /api/v1/sync/devices.
Result<DeviceRequest> parse_device_request(const nlohmann::json& body);
// {device} of POST /api/v1/sync/folders/{id}/devices: the device ID.
Result<std::string> parse_share_request(const nlohmann::json& body);
// {path} of POST /api/v1/sync/pending/{folder}/accept: the path.
Result<std::string> parse_accept_request(const nlohmann::json& body);

// {type, params?} (versioning of POST /api/v1/sync/folders; PUT /api/v1/sync/folders/{id}/versioning):
// type none | trashcan | simple | staggered; params only the type's, integers: trashcan {cleanout_days},
// simple {keep, cleanout_days}, staggered {max_age_days}.
Result<sync::FolderSpec::Versioning> parse_versioning(const nlohmann::json& body);
// {path, version?} of POST /api/v1/sync/folders/{id}/restore.
Result<RestoreRequest> parse_restore_request(const nlohmann::json& body);
// A file's name in a folder (`path` of restore, ?path= of versions): relative, clean, not internal.
Status check_file_name(std::string_view name);

// A folder id as given in a path or body: 1-64 of [A-Za-z0-9._-], not "." or "..".
Status check_folder_id(std::string_view id);
// The shape of a Syncthing device ID: 52 or 56 letters and digits once '-' and ' ' are left out (the
// service checks the digits themselves: its check characters, base32).
Status check_device_id(std::string_view id);

}  // namespace kith::api
