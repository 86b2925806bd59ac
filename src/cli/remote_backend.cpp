#include "cli/remote_backend.hpp"

#include <filesystem>

#include "base/base64.hpp"
#include "base/fs.hpp"
#include "swarm/source.hpp"

namespace kith::cli {
namespace {

Status ok_or(const Result<nlohmann::json>& r) {
  if (!r) return tl::unexpected(r.error());
  return {};
}

std::string format_name(swarm::TorrentFormat f) {
  switch (f) {
    case swarm::TorrentFormat::v1:
      return "v1";
    case swarm::TorrentFormat::v2:
      return "v2";
    default:
      return "hybrid";
  }
}

}  // namespace

RemoteBackend::RemoteBackend(const app::DaemonInfo& info, std::string token)
    : m_client(info.api_host, info.api_port, std::move(token)) {
  m_client.set_timeout(std::chrono::minutes(10));  // a share of a large folder is hashed in the call
}

Result<nlohmann::json> RemoteBackend::share(const app::ShareRequest& request) {
  // The daemon may run in another working directory: send an absolute path.
  nlohmann::json body{{"path", std::filesystem::absolute(request.path).string()},
                      {"format", format_name(request.format)},
                      {"trackers", request.trackers},
                      {"comment", request.comment},
                      {"sign", request.sign}};
  return m_client.request("POST", "/api/v1/shares", &body);
}

Result<nlohmann::json> RemoteBackend::get(const app::GetRequest& request) {
  nlohmann::json body{
      {"only", request.only_glob}, {"sequential", request.sequential}, {"peers", request.peers}};
  if (!request.to.empty()) body["to"] = std::filesystem::absolute(request.to).string();
  if (request.link.rfind("magnet:", 0) == 0) {
    body["link"] = request.link;
  } else {
    // Check the file here, where the user's relative path and permissions apply, then send its bytes.
    auto src = swarm::parse_link_or_file(request.link);
    if (!src) return tl::unexpected(src.error());
    auto bytes = swarm::read_torrent_file(request.link);
    if (!bytes) return tl::unexpected(bytes.error());
    body["torrent"] = base::base64_encode(*bytes);
  }
  return m_client.request("POST", "/api/v1/transfers", &body);
}

Result<nlohmann::json> RemoteBackend::list() { return m_client.request("GET", "/api/v1/transfers"); }

Result<nlohmann::json> RemoteBackend::show(const std::string& id) {
  return m_client.request("GET", "/api/v1/transfers/" + id);
}

Result<std::string> RemoteBackend::torrent_file(const std::string& id) {
  auto r = m_client.request("GET", "/api/v1/transfers/" + id + "/torrent");
  if (!r) return tl::unexpected(r.error());
  auto bytes = base::base64_decode(r->value("torrent", ""));
  if (!bytes) return fail(base::make_error_code(base::errc::bad_input), "daemon sent a malformed torrent");
  return *bytes;
}

Status RemoteBackend::pause(const std::string& id) {
  return ok_or(m_client.request("POST", "/api/v1/transfers/" + id + "/pause"));
}

Status RemoteBackend::resume(const std::string& id) {
  return ok_or(m_client.request("POST", "/api/v1/transfers/" + id + "/resume"));
}

Status RemoteBackend::remove(const std::string& id, bool delete_data) {
  return ok_or(
      m_client.request("DELETE", "/api/v1/transfers/" + id + (delete_data ? "?delete_data=true" : "")));
}

Result<nlohmann::json> RemoteBackend::status() { return m_client.request("GET", "/api/v1/status"); }

}  // namespace kith::cli
