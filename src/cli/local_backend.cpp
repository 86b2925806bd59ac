#include "cli/local_backend.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <chrono>
#include <cstdio>
#include <future>
#include <variant>

#include "api/errors.hpp"
#include "api/routes.hpp"
#include "cli/remote_backend.hpp"

namespace kith::cli {
namespace {

// How long a command waits for a daemon that is starting (which may itself wait up to its --wait
// for another command) or stopping (saving resume data) before it gives up.
constexpr std::chrono::seconds DAEMON_WAIT{120};

}  // namespace

Result<std::unique_ptr<LocalBackend>> LocalBackend::open(const app::Home& home, const app::Settings& settings,
                                                         app::HomeLock lock) {
  std::unique_ptr<LocalBackend> backend(new LocalBackend(std::move(lock)));
  auto node = app::Node::open(backend->m_io, home, settings, nullptr);
  if (!node) return tl::unexpected(node.error());
  backend->m_node = std::move(*node);
  api::add_routes(backend->m_router, {*backend->m_node, 0});
  backend->m_thread = std::thread([io = &backend->m_io] {
    auto work = boost::asio::make_work_guard(*io);
    io->run();
  });
  // Restored transfers first check their resume data (quick); wait for that so that list, show and
  // status report real states, not "checking". A long full check of files is not waited for.
  if (backend->m_node->restored().wait_for(std::chrono::seconds(5)) == std::future_status::ready) {
    for (int i = 0; i < 50; ++i) {
      auto list = backend->list();
      bool checking = false;
      if (list)
        for (const auto& t : *list) checking |= t.value("state", "") == "checking";
      if (!checking) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  return backend;
}

Result<nlohmann::json> LocalBackend::call(const std::string& method, const std::string& target,
                                          const nlohmann::json* body) {
  auto request = api::make_request(method, target, body ? body->dump() : std::string());
  if (!request) return tl::unexpected(request.error());
  // The routes wait for node services that run on m_io (this backend's io thread): run the handler
  // there and wait here, on the command's own thread.
  std::promise<api::Response> answer;
  auto future = answer.get_future();
  boost::asio::co_spawn(m_io, m_router.dispatch(std::move(*request)),
                        [&answer](std::exception_ptr e, api::Response r) {
                          if (e)
                            answer.set_value(api::Response::error(500, "internal", "internal error"));
                          else
                            answer.set_value(std::move(r));
                        });
  auto response = future.get();
  if (response.status < 400) return response.body;
  std::string message = "HTTP " + std::to_string(response.status);
  if (response.body.is_object() && response.body.contains("error") && response.body["error"].is_object()) {
    message = response.body["error"].value("message", message);
  }
  return fail(api::make_error_code(api::errc_from_status(response.status)), message);
}

LocalBackend::~LocalBackend() {
  // Stop the io thread first, so the node's periodic work cannot run while it saves its state.
  m_io.stop();
  if (m_thread.joinable()) m_thread.join();
  if (m_node) m_node->stop();
  m_node.reset();
}

Result<std::unique_ptr<Backend>> connect(const app::Home& home, const app::Settings& settings) {
  if (auto r = home.prepare(); !r) return tl::unexpected(r.error());
  // A daemon that is starting or stopping is waited for, not raced for the home (app/home.hpp).
  auto found = app::find_daemon_or_lock(home, DAEMON_WAIT, [&home](int pid) {
    const std::string who = pid ? " (pid " + std::to_string(pid) + ")" : "";
    std::fprintf(stderr, "kith: waiting for the kith daemon%s of %s\n", who.c_str(), home.root().c_str());
  });
  if (!found) return tl::unexpected(found.error());
  if (auto* info = std::get_if<app::DaemonInfo>(&*found)) {
    auto token = home.api_token();
    if (!token) return tl::unexpected(token.error());
    return std::unique_ptr<Backend>(std::make_unique<RemoteBackend>(*info, *token));
  }
  auto local = LocalBackend::open(home, settings, std::move(std::get<app::HomeLock>(*found)));
  if (!local) return tl::unexpected(local.error());
  return std::unique_ptr<Backend>(std::move(*local));
}

}  // namespace kith::cli
