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

// Runs after the header is parsed and before any body byte is read: Host, Origin, token, then the
// declared Content-Length against max_body. Returns the refusal, or nullopt after arming the body
// limit for the body phase (chunked bodies are then limited as they stream in).
std::optional<Response> admit(RequestParser& parser, const ServerOptions& options, std::uint16_t port);

// 413 for body_limit, 400 for any other parse error.
Response parse_error_response(boost::beast::error_code ec);

// GET on EVENTS_PATH (query ignored): the caller serves the event stream itself.
bool is_event_stream_request(const HttpRequest& request);

// Decodes the target and dispatches through the router; other methods on EVENTS_PATH get 405.
Response route(HttpRequest&& request, const Router& router);

// A JSON response with the security headers every response carries. Never throws for any Response.
HttpResponse to_http_response(const Response& response, unsigned version, bool keep_alive);

// Length-independent time for equal lengths; differing lengths reveal only that they differ.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace kith::api::detail
