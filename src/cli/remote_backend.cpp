#include "cli/remote_backend.hpp"

namespace kith::cli {

RemoteBackend::RemoteBackend(const app::DaemonInfo& info, std::string token)
    : m_client(info.api_host, info.api_port, std::move(token)) {
  // Every route answers promptly (long work such as hashing a share runs in the daemon with its own
  // progress); a daemon that does not answer for this long is stuck.
  m_client.set_timeout(std::chrono::minutes(2));
}

}  // namespace kith::cli
