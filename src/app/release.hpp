#pragma once
// The one "completed download" hook: every download that finished and passed piece verification is
// offered to it, on a worker thread, while it still sits in HOME/staging/. Only a `release` verdict
// moves it into its destination. The safety module (virus scanning, quarantine) plugs in here.
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace kith::app {

struct CompletedDownload {
  std::string id;
  std::string name;
  std::string source;                        // link or .torrent path it came from
  std::filesystem::path staging_path;        // HOME/staging/<id>/<name>
  std::vector<std::filesystem::path> files;  // wanted files, relative to the staging folder
};

struct Verdict {
  bool release = true;
  std::string reason;  // why it was held back, when release is false
};

using CompletedHook = std::function<Verdict(const CompletedDownload&)>;

}  // namespace kith::app
