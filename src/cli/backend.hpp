#pragma once
// What every CLI command talks to: the running daemon through its API (RemoteBackend), or, when no
// daemon runs for the home, a node started in this process for the length of the command
// (LocalBackend, the "transient mode"). Both answer every /api/v1 route with the API's JSON shapes
// (docs/api.md), so a command is written once, over call().
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "app/home.hpp"
#include "app/settings.hpp"
#include "base/error.hpp"

namespace kith::cli {

struct ShareParams {
  std::string path;
  std::string format = "hybrid";  // v1 | v2 | hybrid
  std::vector<std::string> trackers;
  std::string comment;
  bool sign = false;
};

struct GetParams {
  std::string link;  // a magnet link, or a .torrent path (read here and sent as bytes)
  std::string to;
  std::string only;
  bool sequential = false;
  std::vector<std::string> peers;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual bool transient() const = 0;
  // Any /api/v1 route, e.g. call("POST", "/api/v1/quarantine/ab12/release"): the daemon serves it
  // over HTTP, a transient node through the same Router in-process. Errors as api::Client::request().
  virtual Result<nlohmann::json> call(const std::string& method, const std::string& target,
                                      const nlohmann::json* body = nullptr) = 0;

  // The routes commands use most, over call().
  // Starts hashing: the answer is the share in state "hashing" (its id is the hashing job's).
  Result<nlohmann::json> share(const ShareParams& params);
  Result<nlohmann::json> get(const GetParams& params);
  Result<nlohmann::json> list();
  Result<nlohmann::json> show(const std::string& id);
  Result<std::string> torrent_file(const std::string& id);
  Status pause(const std::string& id);
  Status resume(const std::string& id);
  Status remove(const std::string& id, bool delete_data);
  Result<nlohmann::json> status();
};

// The daemon's backend if one is running for `home`, else a transient node (which takes the home's
// lock, so two transient commands on one home do not run at once).
Result<std::unique_ptr<Backend>> connect(const app::Home& home, const app::Settings& settings);

}  // namespace kith::cli
