// `kith daemon`: a permanent node serving the local API until SIGINT/SIGTERM.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <cstdio>
#include <thread>
#include <vector>

#include "api/event_hub.hpp"
#include "api/http_server.hpp"
#include "api/json_messaging.hpp"
#include "api/json_node.hpp"
#include "api/routes.hpp"
#include "api/ui_auth.hpp"
#include "api/uploads.hpp"
#include "app/errors.hpp"
#include "app/node.hpp"
#include "base/log.hpp"
#include "cli/commands.hpp"

namespace kith::cli {
namespace {

// "127.0.0.1:7737" or "[::1]:7737".
Result<std::pair<std::string, std::uint16_t>> parse_host_port(const std::string& text) {
  auto colon = text.rfind(':');
  auto bad = [&] {
    return fail(app::make_error_code(app::errc::bad_setting),
                "api.listen must be HOST:PORT, not '" + text + "'");
  };
  if (colon == std::string::npos || colon == 0) return bad();
  std::string host = text.substr(0, colon);
  if (host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  try {
    std::size_t used = 0;
    int port = std::stoi(text.substr(colon + 1), &used);
    if (used != text.size() - colon - 1 || port < 0 || port > 65535) return bad();
    return std::pair{host, static_cast<std::uint16_t>(port)};
  } catch (const std::exception&) {
    return bad();
  }
}

// Threads running the daemon's io_context (see run_daemon).
constexpr int IO_THREADS = 2;

}  // namespace

int run_daemon(Context& ctx) {
  base::init_logging(ctx.settings.get_string("log.level"));
  if (auto r = ctx.home.prepare(); !r) return report(ctx, r.error());
  auto lock = app::HomeLock::acquire(ctx.home);
  if (!lock) return report(ctx, lock.error());
  auto token = ctx.home.api_token();
  if (!token) return report(ctx, token.error());
  auto listen = parse_host_port(ctx.settings.get_string("api.listen"));
  if (!listen) return report(ctx, listen.error());

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
      /*with_messaging=*/true);
  if (!node) return report(ctx, node.error());

  api::Router router;
  api::UiSessions ui_sessions;
  api::Uploads uploads(ctx.home.uploads_dir());
  api::HttpServer server(io,
                         {.address = listen->first,
                          .port = listen->second,
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
  if (auto r = app::write_daemon_info(ctx.home, {::getpid(), listen->first, *port, (*node)->bt_port()}); !r)
    return report(ctx, r.error());
  spdlog::info(
      "kith daemon ready: API http://{}:{}/api/v1/, web UI http://{}:{}/ui/ (log in with `kith ui`), "
      "BitTorrent port {}, home {}",
      listen->first, *port, listen->first, *port, (*node)->bt_port(), ctx.home.root().string());

  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    spdlog::info("signal {}: shutting down", signo);
    std::error_code fs_ec;
    std::filesystem::remove(ctx.home.daemon_file(), fs_ec);  // new CLI calls go transient from now on
    server.stop();
    io.stop();
  });
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
