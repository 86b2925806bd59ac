// `kith daemon`: a permanent node serving the local API until SIGINT/SIGTERM.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <thread>
#include <vector>

#include "api/event_hub.hpp"
#include "api/http_server.hpp"
#include "api/json_calls.hpp"
#include "api/json_messaging.hpp"
#include "api/json_node.hpp"
#include "api/json_sync.hpp"
#include "api/routes.hpp"
#include "api/ui_auth.hpp"
#include "api/uploads.hpp"
#include "app/errors.hpp"
#include "app/node.hpp"
#include "base/endpoint.hpp"
#include "base/log.hpp"
#include "cli/commands.hpp"

namespace kith::cli {
namespace {

// Takes HOME/lock for the daemon. A command may hold it (a transient node: `kith status` started
// at the same moment, a `kith get` still running); wait up to `wait` for it to let go, saying so.
Result<app::HomeLock> take_home(const app::Home& home, std::chrono::seconds wait) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  bool told = false;
  for (;;) {
    if (auto info = app::read_daemon_info(home)) {
      return fail(app::make_error_code(app::errc::home_locked),
                  "a kith daemon already runs for " + home.root().string() + " (pid " +
                      std::to_string(info->pid) + ", API " +
                      base::join_host_port(info->api_host, info->api_port) + ")");
    }
    auto lock = app::HomeLock::acquire(home, "daemon");
    if (lock) return lock;
    auto holder = app::lock_holder(home);
    const std::string who = holder ? "kith process " + std::to_string(holder->pid) +
                                         (holder->command.empty() ? "" : " (" + holder->command + ")")
                                   : "another kith process";
    if (std::chrono::steady_clock::now() >= deadline) {
      return fail(
          app::make_error_code(app::errc::home_locked),
          who + " is still using " + home.root().string() + " after " + std::to_string(wait.count()) +
              " s. `kith share` and `kith get --seed` run until Ctrl-C: stop it, then start the daemon "
              "again (or let it wait longer with --wait SECONDS)");
    }
    if (!told) {
      spdlog::info("waiting for {} to finish with {} (up to {} s)", who, home.root().string(), wait.count());
      told = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

// Threads running the daemon's io_context (see run_daemon).
constexpr int IO_THREADS = 2;

}  // namespace

int run_daemon(Context& ctx, int wait_seconds) {
  base::init_logging(ctx.settings.get_string("log.level"));
  if (auto r = ctx.home.prepare(); !r) return report(ctx, r.error());
  // Announced before the home's lock is taken, so that a command started at the same moment waits
  // for this daemon's API instead of taking the home for a transient node (app/home.hpp).
  auto starting = app::StartingMark::hold(ctx.home);
  if (!starting) return report(ctx, starting.error());
  auto lock = take_home(ctx.home, std::chrono::seconds(wait_seconds));
  if (!lock) return report(ctx, lock.error());
  auto token = ctx.home.api_token();
  if (!token) return report(ctx, token.error());
  // The parser the settings registry checked api.listen with.
  auto listen = base::parse_ip_port(ctx.settings.get_string("api.listen"), base::PortRule::allow_zero);
  if (!listen)
    return report(
        ctx, Error{app::make_error_code(app::errc::bad_setting), "api.listen: " + listen.error().message});

  boost::asio::io_context io;
  api::EventHub hub;
  auto node = app::Node::open(
      io, ctx.home, ctx.settings,
      [&hub](const app::Event& e) {
        auto [type, data] = api::event_json(e);
        hub.publish(type, data);
      },
      [&hub](const messaging::Event& e) {
        auto [type, data] = api::event_json(e);
        hub.publish(type, data);
      },
      /*with_messaging=*/true,
      [&hub](const calls::Event& e) {
        auto [type, data] = api::event_json(e);
        hub.publish(type, data);
      },
      [&hub](const sync::Event& e) {
        auto [type, data] = api::event_json(e);
        hub.publish(type, data);
      });
  if (!node) return report(ctx, node.error());

  api::Router router;
  api::UiSessions ui_sessions;
  api::Uploads uploads(ctx.home.uploads_dir());
  api::HttpServer server(io,
                         {.address = listen->host,
                          .port = listen->port,
                          .token = *token,
                          // a base64 .torrent of up to 32 MiB, the size `get` accepts from a file
                          .max_body = 48u << 20,
                          .ui_sessions = &ui_sessions,
                          .uploads = &uploads},
                         router, hub);
  auto port = server.start();
  if (!port) return report(ctx, port.error());  // ~Node stops it
  // Routes are added before io.run(), so no request can see a half-built router.
  api::add_routes(router, {**node, *port, &uploads});
  // Before daemon.json names this process: from then on SIGTERM is a clean stop, not a kill.
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    spdlog::info("signal {}: shutting down", signo);
    std::error_code fs_ec;
    // New commands wait for this daemon to let go of the home, then go transient.
    std::filesystem::remove(ctx.home.daemon_file(), fs_ec);
    server.stop();
    io.stop();
  });
  if (auto r = app::write_daemon_info(ctx.home, {::getpid(), listen->host, *port, (*node)->bt_port()}); !r)
    return report(ctx, r.error());  // ~Node stops it
  starting->release();              // commands find daemon.json from now on
  spdlog::info(
      "kith daemon ready: API http://{}:{}/api/v1/, web UI http://{}:{}/ui/ (log in with `kith ui`), "
      "BitTorrent port {}, home {}",
      listen->host, *port, listen->host, *port, (*node)->bt_port(), ctx.home.root().string());

  // Every service keeps its state on its own strand, so the io_context may run on several threads: a
  // slow handler in one service (a short synchronous call into libtorrent, a SQLite write) does not hold
  // up the API or the channels.
  std::vector<std::thread> threads;
  for (int i = 1; i < IO_THREADS; ++i) threads.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& t : threads) t.join();
  (*node)->stop();  // with nothing running on the strands: saves resume data of every transfer
  return 0;
}

}  // namespace kith::cli
