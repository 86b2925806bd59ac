#pragma once
// Reports for network administrators: one JSON document per report, in HOME/reports/ and optionally
// syslog, saying what arrived (file hashes), from where (link, peers), what the scanner said, and why
// the user reported it. The format is documented in docs/safety.md; parse_report() reads it back
// (for `kith report list`) and refuses anything that does not match it.
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"

namespace kith::safety {

struct ReportedFile {
  std::string path;  // relative to the download's folder
  std::uint64_t size = 0;
  std::string sha256;  // 64 hex digits
};

struct Report {
  static constexpr int VERSION = 1;
  std::string id;          // "<utc time>-<transfer id prefix>", also the file name
  std::string created_at;  // RFC 3339 UTC
  std::string reason;      // the user's words
  std::string transfer_id;
  std::string name;
  std::string link;                      // magnet link or .torrent the data came from
  std::vector<std::string> info_hashes;  // "v1:<hex>", "v2:<hex>"
  std::string outcome;                   // scan outcome (see Outcome), or "not_scanned"
  std::string signature;                 // malware signature, if any
  std::vector<ReportedFile> files;
  std::vector<std::string> peers;  // "ip:port (client)" of peers that sent data
  std::string reporter_node;       // the reporting node's id
};

nlohmann::json to_json(const Report& r);
// Validates types and required fields; hashes must be hex of the right length.
Result<Report> parse_report(std::string_view text);

// Writes `<dir>/<id>.json` atomically; returns its path.
Result<std::filesystem::path> write_report(const Report& r, const std::filesystem::path& dir);
// One line at LOG_WARNING, ident "kith", facility LOG_USER: "kith report <id>: <compact JSON>".
void send_to_syslog(const Report& r);

}  // namespace kith::safety
