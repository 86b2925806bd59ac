#pragma once
// What every CLI command talks to: the running daemon through its API (RemoteBackend), or, when no
// daemon runs for the home, a node started in this process for the length of the command
// (LocalBackend, the "transient mode"). Both speak the API's JSON shapes, so commands do not care.
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "app/home.hpp"
#include "app/node.hpp"
#include "app/settings.hpp"
#include "base/error.hpp"

namespace kith::cli {

class Backend {
 public:
  virtual ~Backend() = default;
  virtual bool transient() const = 0;
  virtual Result<nlohmann::json> share(const app::ShareRequest& request) = 0;
  // request.link may be a magnet or a local .torrent path (the remote backend sends the file's bytes).
  virtual Result<nlohmann::json> get(const app::GetRequest& request) = 0;
  virtual Result<nlohmann::json> list() = 0;
  virtual Result<nlohmann::json> show(const std::string& id) = 0;
  virtual Result<std::string> torrent_file(const std::string& id) = 0;
  virtual Status pause(const std::string& id) = 0;
  virtual Status resume(const std::string& id) = 0;
  virtual Status remove(const std::string& id, bool delete_data) = 0;
  virtual Result<nlohmann::json> status() = 0;
  // Any /api/v1 route (docs/api.md), e.g. call("POST", "/api/v1/quarantine/ab12/release"). Newer
  // commands use only this: the daemon serves it over HTTP, a transient node through the same Router
  // in-process, so a command is written once for both. Errors as api::Client::request().
  virtual Result<nlohmann::json> call(const std::string& method, const std::string& target,
                                      const nlohmann::json* body = nullptr) = 0;
};

// The daemon's backend if one is running for `home`, else a transient node (which takes the home's
// lock, so two transient commands on one home do not run at once).
Result<std::unique_ptr<Backend>> connect(const app::Home& home, const app::Settings& settings);

}  // namespace kith::cli
