#pragma once
// The JSON of folder sync (docs/api.md § Folder sync): folders, devices, offered folders and the
// "sync.*" events. Keys are the views' field names (sync/views.hpp), so the two read alike.
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "sync/versioner.hpp"
#include "sync/views.hpp"

namespace kith::api {

nlohmann::json folder_json(const sync::FolderView& folder);
nlohmann::json folders_json(const std::vector<sync::FolderView>& folders);  // {"folders": [...]}
// {"folder", "lines": [...], "patterns": [...], "error": ""} (docs/api.md § Folder sync)
nlohmann::json ignores_json(const sync::IgnoresView& ignores);
nlohmann::json folder_device_json(const sync::FolderDeviceView& device);
nlohmann::json held_json(const sync::HeldItem& item);
nlohmann::json device_json(const sync::DeviceView& device);
// {type, params}: only the type's parameters (docs/api.md § Versioning).
nlohmann::json versioning_json(const sync::FolderSpec::Versioning& versioning);
// {path (in .stversions), name (the file it was), version (YYYYMMDD-HHMMSS), time (unix s), size}.
nlohmann::json kept_version_json(const sync::KeptVersion& version);
nlohmann::json kept_versions_json(const std::vector<sync::KeptVersion>& versions);  // {"versions": [...]}
nlohmann::json pending_json(const sync::PendingFolder& offer);
nlohmann::json pendings_json(const std::vector<sync::PendingFolder>& offers);  // {"folders": [...]}
nlohmann::json conflicts_json(const std::vector<sync::ConflictView>& copies);  // {"conflicts": [...]}
// {time, name, type, action, device, device_name, reason} (docs/api.md § Recent changes).
nlohmann::json change_json(const sync::ChangeView& change);
nlohmann::json changes_json(const std::vector<sync::ChangeView>& changes);  // {"changes": [...]}

// "sync.folder" {folder}, "sync.device.connected" {device}, "sync.device.disconnected" {id, name, why},
// "sync.item" {folder, name, action, device, reason}, "sync.offered" {offer}.
std::pair<std::string, nlohmann::json> event_json(const sync::Event& event);

}  // namespace kith::api
