#pragma once
// Human output of `kith sync ...` (docs/cli.md § Folder sync), from the API's JSON (docs/api.md §
// Folder sync). Every printer passes what it shows through safe_json(): labels, device names, file
// names and client strings come from peers.
#include <nlohmann/json.hpp>
#include <string>

namespace kith::cli {

// `kith sync list`: one line per folder of {"folders": [...]}.
void print_sync_folders(const nlohmann::json& folders);
// `kith sync status`: one block per folder (state, counts, devices, held items, error and what to do).
void print_sync_status(const nlohmann::json& folder);
// "trash can, ...": a folder's {"type", "params"} versioning in words.
std::string versioning_words(const nlohmann::json& versioning);
// `kith sync versions`: {"versions": [...]}, one line each.
void print_sync_versions(const nlohmann::json& versions);
// `kith sync device list`: {"devices": [...], "device_id"}.
void print_sync_devices(const nlohmann::json& devices);
// `kith sync pending`: {"folders": [...]} offered by devices.
void print_sync_pending(const nlohmann::json& pending);
// `kith sync conflicts`: per folder ({"id", "conflicts": [...]}), each copy beside its original.
void print_sync_conflicts(const nlohmann::json& folders);
// `kith sync changes`: per folder ({"id", "changes": [...]}, newest first), one line per change;
// `my_device`: this node's device ID (its changes read "this device").
void print_sync_changes(const nlohmann::json& folders, const std::string& my_device);

}  // namespace kith::cli
