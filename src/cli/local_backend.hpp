#pragma once
#include <boost/asio/io_context.hpp>
#include <thread>

#include "api/router.hpp"
#include "cli/backend.hpp"

namespace kith::cli {

// Runs a node inside the CLI process for the length of one command (transient mode). The node's io
// thread runs in the background; the command's thread calls the node directly.
class LocalBackend final : public Backend {
 public:
  // `lock`: the home's lock, taken by connect() (app::find_daemon_or_lock).
  static Result<std::unique_ptr<LocalBackend>> open(const app::Home& home, const app::Settings& settings,
                                                    app::HomeLock lock);
  ~LocalBackend() override;  // saves state and stops the node

  bool transient() const override { return true; }
  Result<nlohmann::json> share(const app::ShareRequest& request) override { return m_node->share(request); }
  Result<nlohmann::json> get(const app::GetRequest& request) override { return m_node->get(request); }
  Result<nlohmann::json> list() override { return m_node->list(); }
  Result<nlohmann::json> show(const std::string& id) override { return m_node->show(id); }
  Result<std::string> torrent_file(const std::string& id) override { return m_node->torrent_file(id); }
  Status pause(const std::string& id) override { return m_node->pause(id); }
  Status resume(const std::string& id) override { return m_node->resume(id); }
  Status remove(const std::string& id, bool delete_data) override { return m_node->remove(id, delete_data); }
  Result<nlohmann::json> status() override { return m_node->status(); }
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
