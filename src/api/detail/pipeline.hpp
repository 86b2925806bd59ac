#pragma once
// The request pipeline shared by HttpServer (sockets) and handle_raw_request (bytes): parser limits,
// Host/Origin/token checks, body-size check, routing and response serialisation. Keeping one copy
// means the fuzz target exercises exactly what the server runs.
// clang-format off
#include "api/detail/asio_compat.hpp"  // before any Boost.Asio header; see there
// clang-format on
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdint>
#include <optional>
#include <string_view>

#include "api/http_server.hpp"
#include "api/router.hpp"

namespace kith::api::detail {

using RequestParser = boost::beast::http::request_parser<boost::beast::http::string_body>;
using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;
using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;

inline constexpr std::uint32_t HEADER_LIMIT = 32 * 1024;  // browsers send every 127.0.0.1 cookie

// Sets the header limit and lifts the body limit for the header phase, so that an unauthenticated
// client with a huge Content-Length gets 401, not 413 (the limit is armed by admit()).
void prepare_parser(RequestParser& parser);

// How an admitted request proved who it is.
enum class Auth {
  none,     // a public web-UI request (static asset or /ui/login): served by serve_ui()
  bearer,   // Authorization: Bearer <api token>
  session,  // the web UI's session cookie (and, unless GET/HEAD, X-Kith-CSRF: 1)
};

struct Admission {
  std::optional<Response> refusal;  // set: send it and close
  Auth auth = Auth::none;
};

// Runs after the header is parsed and before any body byte is read: Host, Origin, token or session
// cookie, CSRF header, then the declared Content-Length against max_body (max_upload for uploads).
// Returns the refusal, or the kind of auth after arming the body limit for the body phase (chunked
// bodies are then limited as they stream in).
Admission admit(RequestParser& parser, const ServerOptions& options, std::uint16_t port);

// PUT /api/v1/uploads/{id}/files: the server streams its body to disk instead of into memory.
bool is_upload_request(const HttpRequest& head);

// 413 for body_limit, 400 for any other parse error.
Response parse_error_response(boost::beast::error_code ec);

// GET on EVENTS_PATH (query ignored): the caller serves the event stream itself.
bool is_event_stream_request(const HttpRequest& request);

// Public requests (Auth::none) go to serve_ui(); others: the built-in /api/v1/ui/ routes, else the
// target is decoded and dispatched through the router; other methods on EVENTS_PATH get 405.
// A coroutine: router handlers may wait for node services. `router` and `options` must outlive it.
boost::asio::awaitable<Response> route(HttpRequest request, const Router& router, Auth auth,
                                       const ServerOptions& options, std::uint16_t port);

// The web UI's public routes (ui_routes.cpp): "/" -> 303 /ui/, /ui/... static assets, /ui/login.
bool is_public_ui_request(const HttpRequest& head);
Response serve_ui(const HttpRequest& request, const ServerOptions& options, std::uint16_t port);
// POST /api/v1/ui/login-tokens (Bearer only) and POST /api/v1/ui/logout; nullopt for other targets.
std::optional<Response> serve_ui_api(const HttpRequest& request, Auth auth, const ServerOptions& options,
                                     std::uint16_t port);

// A JSON response with the security headers every response carries. Never throws for any Response.
HttpResponse to_http_response(const Response& response, unsigned version, bool keep_alive);

// Length-independent time for equal lengths; differing lengths reveal only that they differ.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace kith::api::detail
