// `kith daemon`: a permanent node serving the local API until SIGINT/SIGTERM.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <cstdio>

#include "api/event_hub.hpp"
#include "api/http_server.hpp"
#include "api/routes.hpp"
#include "api/ui_auth.hpp"
#include "api/uploads.hpp"
#include "app/errors.hpp"
#include "app/node.hpp"
#include "base/endpoint.hpp"
#include "base/log.hpp"
#include "cli/commands.hpp"

namespace kith::cli {
int run_daemon(Context& ctx) {
  base::init_logging(ctx.settings.get_string("log.level"));
  if (auto r = ctx.home.prepare(); !r) return report(ctx, r.error());
  auto lock = app::HomeLock::acquire(ctx.home);
  if (!lock) return report(ctx, lock.error());
  auto token = ctx.home.api_token();
  if (!token) return report(ctx, token.error());
  // The parser the settings registry checked api.listen with.
  auto listen = base::parse_ip_port(ctx.settings.get_string("api.listen"), {.allow_zero = true});
  if (!listen)
    return report(
        ctx, Error{app::make_error_code(app::errc::bad_setting), "api.listen: " + listen.error().message});

  boost::asio::io_context io;
  api::EventHub hub;
  auto node = app::Node::open(
      io, ctx.home, ctx.settings,
      [&hub](const std::string& type, const nlohmann::json& data) { hub.publish(type, data); },
      /*with_messaging=*/true);
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
  if (!port) {
    (*node)->stop();
    return report(ctx, port.error());
  }
  // Routes are added before io.run(), so no request can see a half-built router.
  api::add_routes(router, {**node, *port, &uploads});
  if (auto r = app::write_daemon_info(ctx.home, {::getpid(), listen->host, *port, (*node)->bt_port()}); !r) {
    (*node)->stop();
    return report(ctx, r.error());
  }
  spdlog::info(
      "kith daemon ready: API http://{}:{}/api/v1/, web UI http://{}:{}/ui/ (log in with `kith ui`), "
      "BitTorrent port {}, home {}",
      listen->host, *port, listen->host, *port, (*node)->bt_port(), ctx.home.root().string());

  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    spdlog::info("signal {}: shutting down", signo);
    std::error_code fs_ec;
    std::filesystem::remove(ctx.home.daemon_file(), fs_ec);  // new CLI calls go transient from now on
    server.stop();
    (*node)->stop();  // saves resume data of every transfer
    io.stop();
  });
  io.run();
  return 0;
}

}  // namespace kith::cli
