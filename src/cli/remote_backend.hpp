#pragma once
#include "api/client.hpp"
#include "cli/backend.hpp"

namespace kith::cli {

// Talks to a running daemon through its local HTTP API.
class RemoteBackend final : public Backend {
 public:
  RemoteBackend(const app::DaemonInfo& info, std::string token);
  bool transient() const override { return false; }
  Result<nlohmann::json> share(const app::ShareRequest& request) override;
  Result<nlohmann::json> get(const app::GetRequest& request) override;
  Result<nlohmann::json> list() override;
  Result<nlohmann::json> show(const std::string& id) override;
  Result<std::string> torrent_file(const std::string& id) override;
  Status pause(const std::string& id) override;
  Status resume(const std::string& id) override;
  Status remove(const std::string& id, bool delete_data) override;
  Result<nlohmann::json> status() override;
  Result<nlohmann::json> call(const std::string& method, const std::string& target,
                              const nlohmann::json* body = nullptr) override {
    return m_client.request(method, target, body);
  }

 private:
  api::Client m_client;
};

}  // namespace kith::cli
