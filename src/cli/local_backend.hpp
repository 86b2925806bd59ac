#pragma once
#include <boost/asio/io_context.hpp>
#include <thread>

#include "api/router.hpp"
#include "app/node.hpp"
#include "cli/backend.hpp"

namespace kith::cli {

// Runs a node inside the CLI process for the length of one command (transient mode). The node's
// io_context runs on a background thread; the command's thread calls the daemon's routes in-process
// (call()) and waits for their answers, so both modes share one code path.
class LocalBackend final : public Backend {
 public:
  // `lock`: the home's lock, taken by connect() (app::find_daemon_or_lock).
  static Result<std::unique_ptr<LocalBackend>> open(const app::Home& home, const app::Settings& settings,
                                                    app::HomeLock lock);
  ~LocalBackend() override;  // saves state and stops the node

  bool transient() const override { return true; }
  Result<nlohmann::json> call(const std::string& method, const std::string& target,
                              const nlohmann::json* body = nullptr) override;

 private:
  explicit LocalBackend(app::HomeLock lock) : m_lock(std::move(lock)) {}

  app::HomeLock m_lock;
  boost::asio::io_context m_io;
  std::unique_ptr<app::Node> m_node;
  api::Router m_router;  // the daemon's routes, bound to m_node
  std::thread m_thread;
};

}  // namespace kith::cli
