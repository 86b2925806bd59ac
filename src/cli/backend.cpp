#include "cli/backend.hpp"

#include <filesystem>

#include "base/base64.hpp"
#include "base/fs.hpp"
#include "base/url.hpp"
#include "swarm/source.hpp"

namespace kith::cli {
namespace {

Status ok_or(const Result<nlohmann::json>& r) {
  if (!r) return tl::unexpected(r.error());
  return {};
}

std::string path_of(const std::string& id) { return "/api/v1/transfers/" + base::percent_encode(id); }

}  // namespace

Result<nlohmann::json> Backend::share(const ShareParams& p) {
  // The daemon may run in another working directory: send an absolute path.
  nlohmann::json body{{"path", std::filesystem::absolute(p.path).string()},
                      {"format", p.format},
                      {"trackers", p.trackers},
                      {"comment", p.comment},
                      {"sign", p.sign}};
  return call("POST", "/api/v1/shares", &body);
}

Result<nlohmann::json> Backend::get(const GetParams& p) {
  nlohmann::json body{{"only", p.only}, {"sequential", p.sequential}, {"peers", p.peers}};
  if (!p.to.empty()) body["to"] = std::filesystem::absolute(p.to).string();
  if (p.link.rfind("magnet:", 0) == 0) {
    body["link"] = p.link;
  } else {
    // Read the file here, where the user's relative path and permissions apply, and send its bytes.
    auto src = swarm::parse_link_or_file(p.link);
    if (!src) return tl::unexpected(src.error());
    auto bytes = swarm::read_torrent_file(p.link);  // the same size limit as the node's
    if (!bytes) return tl::unexpected(bytes.error());
    body["torrent"] = base::base64_encode(*bytes);
  }
  return call("POST", "/api/v1/transfers", &body);
}

Result<nlohmann::json> Backend::list() { return call("GET", "/api/v1/transfers"); }

Result<nlohmann::json> Backend::show(const std::string& id) { return call("GET", path_of(id)); }

Result<std::string> Backend::torrent_file(const std::string& id) {
  auto r = call("GET", path_of(id) + "/torrent");
  if (!r) return tl::unexpected(r.error());
  auto bytes = base::base64_decode(r->value("torrent", ""));
  if (!bytes) return fail(base::make_error_code(base::errc::bad_input), "the node sent a malformed torrent");
  return *bytes;
}

Status Backend::pause(const std::string& id) { return ok_or(call("POST", path_of(id) + "/pause")); }

Status Backend::resume(const std::string& id) { return ok_or(call("POST", path_of(id) + "/resume")); }

Status Backend::remove(const std::string& id, bool delete_data) {
  return ok_or(call("DELETE", path_of(id) + (delete_data ? "?delete_data=true" : "")));
}

Result<nlohmann::json> Backend::status() { return call("GET", "/api/v1/status"); }

}  // namespace kith::cli
