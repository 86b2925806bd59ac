#pragma once
#include "api/client.hpp"
#include "cli/backend.hpp"

namespace kith::cli {

// Talks to a running daemon through its local HTTP API.
class RemoteBackend final : public Backend {
 public:
  RemoteBackend(const app::DaemonInfo& info, std::string token);
  bool transient() const override { return false; }
  Result<nlohmann::json> call(const std::string& method, const std::string& target,
                              const nlohmann::json* body = nullptr) override {
    return m_client.request(method, target, body);
  }

 private:
  api::Client m_client;
};

}  // namespace kith::cli
