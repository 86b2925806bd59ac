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
#include "base/host_port.hpp"
#include "base/log.hpp"
#include "cli/commands.hpp"

namespace kith::cli {
namespace {

// "127.0.0.1:7737" or "[::1]:7737"; port 0 picks a free port.
Result<std::pair<std::string, std::uint16_t>> parse_api_listen(const std::string& text) {
  auto hp = base::parse_host_port(text, base::PortRule::allow_zero);
  if (!hp)
    return fail(app::make_error_code(app::errc::bad_setting),
                "api.listen must be HOST:PORT, not '" + text + "': " + hp.error().message);
  return std::pair{hp->host, hp->port};
}

}  // namespace

int run_daemon(Context& ctx) {
  base::init_logging(ctx.settings.get_string("log.level"));
  if (auto r = ctx.home.prepare(); !r) return report(ctx, r.error());
  auto lock = app::HomeLock::acquire(ctx.home);
  if (!lock) return report(ctx, lock.error());
  auto token = ctx.home.api_token();
  if (!token) return report(ctx, token.error());
  auto listen = parse_api_listen(ctx.settings.get_string("api.listen"));
  if (!listen) return report(ctx, listen.error());

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
                         {.address = listen->first,
                          .port = listen->second,
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
  if (auto r = app::write_daemon_info(ctx.home, {::getpid(), listen->first, *port, (*node)->bt_port()}); !r) {
    (*node)->stop();
    return report(ctx, r.error());
  }
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
    (*node)->stop();  // saves resume data of every transfer
    io.stop();
  });
  io.run();
  return 0;
}

}  // namespace kith::cli
