#pragma once
// The local HTTP/1.1 + JSON API server (Boost.Beast, C++20 coroutines).
//
// Every request passes, in this order and before any routing:
//   1. Host must be 127.0.0.1:PORT, localhost:PORT, [::1]:PORT or <address>:PORT -> else 403
//      "forbidden_host". This defeats DNS rebinding: a web page on evil.example that rebinds its name
//      to 127.0.0.1 still sends "Host: evil.example".
//   2. An Origin header, if present, must be "http://" + one of those hosts -> else 403
//      "forbidden_origin", so other web pages cannot drive the API from a visitor's browser.
//   3. GET of the web UI's static assets (/, /ui/...) and of /ui/login needs nothing more (the assets
//      hold no secrets; login carries its own one-time token). Every other request needs
//      "Authorization: Bearer <token>" matching the configured token (constant-time), or a live web-UI
//      session cookie (see ui_auth.hpp) -> else 401 "unauthorized" with "WWW-Authenticate: Bearer".
//   4. A request authenticated by the cookie that is not GET/HEAD must carry "X-Kith-CSRF: 1" -> else
//      403 "csrf_required". Cross-site forms cannot send custom headers, and a cross-site fetch() that
//      does is preflighted, which this server never approves.
// Then a body over max_body (max_upload for PUT /api/v1/uploads/{id}/files) gets 413 and malformed
// HTTP gets 400 (both close the connection); GET /api/v1/events becomes a Server-Sent-Events stream
// from the EventHub; uploads are streamed to disk; everything else goes to the built-in UI routes or
// the Router. API responses are JSON (Content-Type: application/json).
// clang-format off
#include "api/detail/asio_compat.hpp"  // before any Boost.Asio header; see there
// clang-format on
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "api/event_hub.hpp"
#include "api/router.hpp"
#include "base/error.hpp"

namespace kith::api {

class UiSessions;
class Uploads;

inline constexpr std::string_view EVENTS_PATH = "/api/v1/events";

struct ServerOptions {
  std::string address = "127.0.0.1";  // a literal IP; only loopback is intended
  std::uint16_t port = 0;             // 0: the OS picks one; start() returns it
  std::string token;                  // required; start() refuses an empty token
  std::size_t max_body = 1 << 20;     // bytes; larger request bodies get 413
  // Limit for reading one request (also the keep-alive idle limit) and for writing one response, so
  // a stalled client cannot hold a connection forever.
  std::chrono::seconds io_timeout{30};
  // Interval of ": keepalive" comment lines on an idle event stream; also how soon a vanished
  // subscriber is noticed.
  std::chrono::milliseconds sse_keepalive = EventHub::KEEPALIVE;
  // Web-UI login tokens and session cookies; null: no cookie auth, /ui/login and the login-token
  // route answer 404. Not owned; must outlive the server.
  UiSessions* ui_sessions = nullptr;
  // Where PUT /api/v1/uploads/{id}/files streams request bodies; null: that route answers 404.
  // Not owned; must outlive the server.
  Uploads* uploads = nullptr;
  std::uint64_t max_upload = std::uint64_t{64} << 30;  // bytes per uploaded file
};

// Owns the listening socket and every connection it accepted. Handlers run on the io_context's
// thread(s), one connection per strand; they must not block. `router` and `hub` must outlive the
// server and any still-running handlers of it on `ioc`; `ioc` must outlive the server.
class HttpServer {
 public:
  HttpServer(boost::asio::io_context& ioc, ServerOptions options, const Router& router, EventHub& hub);
  ~HttpServer();  // calls stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens, then starts accepting on `ioc` (which may or may not be running yet). Returns
  // the actual port. Errors: base::errc::invalid_argument (empty token, bad address, started twice),
  // api::errc::listen_failed (bind/listen failed, e.g. port in use). Call once, before or on the
  // io_context thread.
  Result<std::uint16_t> start();

  // Any thread, idempotent: stops accepting and closes every open connection, event streams
  // included. Takes effect asynchronously on the io_context.
  void stop();

  std::uint16_t port() const;  // 0 before a successful start()

 private:
  struct State;
  std::shared_ptr<State> m_state;
};

// The server's request path as a pure function, for the fuzz target and tests: parses
// `raw_http_bytes` (one request; trailing bytes are ignored) with Beast's request_parser and applies
// exactly the server's checks and routing for a server listening on `port`. An admitted
// GET /api/v1/events yields 200 with a null body (the real server streams instead). Incomplete or
// malformed input yields 400. Never throws.
Response handle_raw_request(std::string_view raw_http_bytes, const ServerOptions& options, std::uint16_t port,
                            const Router& router);

}  // namespace kith::api
