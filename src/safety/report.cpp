#include "safety/report.hpp"

#include <syslog.h>

#include <algorithm>

#include "base/fs.hpp"

namespace kith::safety {
namespace {

Error bad(const std::string& what) {
  return Error{base::make_error_code(base::errc::bad_input), "not a kith report: " + what};
}

bool is_hex(const std::string& s, std::size_t len) {
  return s.size() == len && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// Reads a string field; missing or not a string is an error.
Result<std::string> text(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string())
    return tl::unexpected(bad(std::string("field '") + key + "' missing or not a string"));
  return it->get<std::string>();
}

Result<std::vector<std::string>> strings(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_array())
    return tl::unexpected(bad(std::string("field '") + key + "' missing or not a list"));
  std::vector<std::string> out;
  for (const auto& v : *it) {
    if (!v.is_string()) return tl::unexpected(bad(std::string("field '") + key + "' holds a non-string"));
    out.push_back(v.get<std::string>());
  }
  return out;
}

}  // namespace

nlohmann::json to_json(const Report& r) {
  auto files = nlohmann::json::array();
  for (const auto& f : r.files) files.push_back({{"path", f.path}, {"size", f.size}, {"sha256", f.sha256}});
  return {{"kith_report", Report::VERSION},
          {"id", r.id},
          {"created_at", r.created_at},
          {"reason", r.reason},
          {"transfer_id", r.transfer_id},
          {"name", r.name},
          {"link", r.link},
          {"info_hashes", r.info_hashes},
          {"outcome", r.outcome},
          {"signature", r.signature},
          {"files", files},
          {"peers", r.peers},
          {"reporter_node", r.reporter_node}};
}

Result<Report> parse_report(std::string_view text_in) {
  auto j = nlohmann::json::parse(text_in, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return tl::unexpected(bad("not a JSON object"));
  auto version = j.find("kith_report");
  if (version == j.end() || !version->is_number_integer() || version->get<int>() != Report::VERSION) {
    return tl::unexpected(bad("missing or unsupported 'kith_report' version"));
  }
  Report r;
  for (auto [key, field] : {std::pair{"id", &r.id},
                            {"created_at", &r.created_at},
                            {"reason", &r.reason},
                            {"transfer_id", &r.transfer_id},
                            {"name", &r.name},
                            {"link", &r.link},
                            {"outcome", &r.outcome},
                            {"signature", &r.signature},
                            {"reporter_node", &r.reporter_node}}) {
    auto v = text(j, key);
    if (!v) return tl::unexpected(v.error());
    *field = std::move(*v);
  }
  if (!is_hex(r.transfer_id, 40) && !is_hex(r.transfer_id, 64)) return tl::unexpected(bad("bad transfer_id"));
  auto hashes = strings(j, "info_hashes");
  if (!hashes) return tl::unexpected(hashes.error());
  for (const auto& h : *hashes) {
    if (!(h.rfind("v1:", 0) == 0 && is_hex(h.substr(3), 40)) &&
        !(h.rfind("v2:", 0) == 0 && is_hex(h.substr(3), 64))) {
      return tl::unexpected(bad("bad info hash '" + h + "'"));
    }
  }
  r.info_hashes = std::move(*hashes);
  auto peers = strings(j, "peers");
  if (!peers) return tl::unexpected(peers.error());
  r.peers = std::move(*peers);
  auto files = j.find("files");
  if (files == j.end() || !files->is_array())
    return tl::unexpected(bad("field 'files' missing or not a list"));
  for (const auto& f : *files) {
    if (!f.is_object()) return tl::unexpected(bad("a file entry is not an object"));
    auto path = text(f, "path");
    auto sha = text(f, "sha256");
    if (!path) return tl::unexpected(path.error());
    if (!sha || !is_hex(*sha, 64)) return tl::unexpected(bad("a file entry has no valid sha256"));
    auto size = f.find("size");
    if (size == f.end() || !size->is_number_unsigned())
      return tl::unexpected(bad("a file entry has no valid size"));
    r.files.push_back({*path, size->get<std::uint64_t>(), *sha});
  }
  return r;
}

Result<std::filesystem::path> write_report(const Report& r, const std::filesystem::path& dir) {
  if (auto ok = base::ensure_dir(dir, 0755); !ok) return tl::unexpected(ok.error());
  auto path = dir / (r.id + ".json");
  if (auto ok = base::atomic_write_file(path, to_json(r).dump(2) + "\n", 0644); !ok)
    return tl::unexpected(ok.error());
  return path;
}

void send_to_syslog(const Report& r) {
  openlog("kith", LOG_PID, LOG_USER);
  syslog(LOG_WARNING, "kith report %s: %s", r.id.c_str(), to_json(r).dump().c_str());
  closelog();
}

}  // namespace kith::safety
