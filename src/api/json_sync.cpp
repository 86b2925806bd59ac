#include "api/json_sync.hpp"

#include <type_traits>

namespace kith::api {

nlohmann::json folder_device_json(const sync::FolderDeviceView& d) {
  return {{"device", d.device},         {"name", d.name},
          {"connected", d.connected},   {"completion", d.completion},
          {"need_files", d.need_files}, {"need_bytes", d.need_bytes}};
}

nlohmann::json held_json(const sync::HeldItem& h) {
  return {{"name", h.name}, {"quarantine_id", h.quarantine_id}, {"reason", h.reason}};
}

nlohmann::json folder_json(const sync::FolderView& f) {
  auto devices = nlohmann::json::array();
  for (const auto& d : f.devices) devices.push_back(folder_device_json(d));
  auto held = nlohmann::json::array();
  for (const auto& h : f.held) held.push_back(held_json(h));
  auto pull_errors = nlohmann::json::array();
  for (const auto& e : f.pull_errors) pull_errors.push_back({{"name", e.name}, {"error", e.error}});
  return {{"id", f.id},
          {"label", f.label},
          {"path", f.path},
          {"type", f.type},
          {"versioning", versioning_json(f.versioning)},
          {"paused", f.paused},
          {"state", f.state},
          {"error", f.error},
          {"disk_full", f.disk_full},
          {"local_files", f.local_files},
          {"local_bytes", f.local_bytes},
          {"global_files", f.global_files},
          {"global_bytes", f.global_bytes},
          {"need_files", f.need_files},
          {"need_bytes", f.need_bytes},
          {"sequence", f.sequence},
          {"last_scan", f.last_scan},
          {"bytes_fetched", f.bytes_fetched},
          {"bytes_reused", f.bytes_reused},
          {"devices", devices},
          {"held", held},
          {"case_insensitive", f.case_insensitive},
          {"pull_errors", pull_errors}};
}

nlohmann::json folders_json(const std::vector<sync::FolderView>& folders) {
  auto list = nlohmann::json::array();
  for (const auto& f : folders) list.push_back(folder_json(f));
  return {{"folders", list}};
}

nlohmann::json ignores_json(const sync::IgnoresView& v) {
  return {{"folder", v.folder}, {"lines", v.lines}, {"patterns", v.patterns}, {"error", v.error}};
}

nlohmann::json device_json(const sync::DeviceView& d) {
  return {{"id", d.id},
          {"name", d.name},
          {"addresses", d.addresses},
          {"discovered", d.discovered},
          {"connected", d.connected},
          {"address", d.address},
          {"client", d.client},
          {"folders", d.folders},
          {"contact", d.contact}};
}

nlohmann::json conflicts_json(const std::vector<sync::ConflictView>& copies) {
  auto list = nlohmann::json::array();
  for (const auto& c : copies)
    list.push_back({{"name", c.name},
                    {"original", c.original},
                    {"stamp", c.stamp},
                    {"device", c.device},
                    {"size", c.size},
                    {"modified_s", c.modified_s}});
  return {{"conflicts", list}};
}

nlohmann::json change_json(const sync::ChangeView& c) {
  return {{"time", c.time},     {"name", c.name},        {"type", c.type},
          {"action", c.action}, {"device", c.device},    {"device_name", c.device_name},
          {"reason", c.reason}, {"runnable", c.runnable}};
}

nlohmann::json changes_json(const std::vector<sync::ChangeView>& changes) {
  auto list = nlohmann::json::array();
  for (const auto& c : changes) list.push_back(change_json(c));
  return {{"changes", list}};
}

nlohmann::json versioning_json(const sync::FolderSpec::Versioning& v) {
  auto params = nlohmann::json::object();
  if (v.type == "trashcan") params = {{"cleanout_days", v.cleanout_days}};
  if (v.type == "simple") params = {{"keep", v.keep}, {"cleanout_days", v.cleanout_days}};
  if (v.type == "staggered") params = {{"max_age_days", v.max_age_days}};
  return {{"type", v.type}, {"params", params}};
}

nlohmann::json kept_version_json(const sync::KeptVersion& k) {
  return {{"path", k.path},
          {"name", k.name},
          {"version", sync::version_tag(k.time)},
          {"time", k.time},
          {"size", k.size}};
}

nlohmann::json kept_versions_json(const std::vector<sync::KeptVersion>& versions) {
  auto list = nlohmann::json::array();
  for (const auto& k : versions) list.push_back(kept_version_json(k));
  return {{"versions", list}};
}

nlohmann::json pending_json(const sync::PendingFolder& p) {
  return {{"id", p.id}, {"label", p.label}, {"device", p.device}, {"device_name", p.device_name}};
}

nlohmann::json pendings_json(const std::vector<sync::PendingFolder>& offers) {
  auto list = nlohmann::json::array();
  for (const auto& p : offers) list.push_back(pending_json(p));
  return {{"folders", list}};
}

std::pair<std::string, nlohmann::json> event_json(const sync::Event& event) {
  return std::visit(
      [](const auto& e) -> std::pair<std::string, nlohmann::json> {
        using E = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<E, sync::event::FolderChanged>) {
          return {"sync.folder", {{"folder", folder_json(e.folder)}}};
        } else if constexpr (std::is_same_v<E, sync::event::DeviceConnected>) {
          return {"sync.device.connected", {{"device", device_json(e.device)}}};
        } else if constexpr (std::is_same_v<E, sync::event::DeviceDisconnected>) {
          return {"sync.device.disconnected", {{"id", e.id}, {"name", e.name}, {"why", e.why}}};
        } else if constexpr (std::is_same_v<E, sync::event::ItemChanged>) {
          return {"sync.item",
                  {{"folder", e.folder},
                   {"name", e.name},
                   {"action", e.action},
                   {"device", e.device},
                   {"reason", e.reason},
                   {"runnable", e.runnable}}};
        } else {
          static_assert(std::is_same_v<E, sync::event::FolderOffered>, "a sync event without JSON");
          return {"sync.offered", {{"offer", pending_json(e.offer)}}};
        }
      },
      event);
}

}  // namespace kith::api
