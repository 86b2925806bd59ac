#include "api/detail/pipeline.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/http/error.hpp>
#include <limits>
#include <string>

#include "api/ui_auth.hpp"

namespace kith::api {
namespace http = boost::beast::http;

namespace detail {

namespace {

// ASCII case-insensitive comparison (header values and host names are ASCII for our purposes).
bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// The Host values a browser or client may legitimately send to this server.
std::array<std::string, 4> allowed_hosts(const ServerOptions& options, std::uint16_t port) {
  const std::string suffix = ":" + std::to_string(port);
  const bool v6 = options.address.find(':') != std::string::npos;
  return {"127.0.0.1" + suffix, "localhost" + suffix, "[::1]" + suffix,
          (v6 ? "[" + options.address + "]" : options.address) + suffix};
}

bool is_allowed_host(std::string_view host, const ServerOptions& options, std::uint16_t port) {
  for (const auto& allowed : allowed_hosts(options, port)) {
    if (iequals(host, allowed)) return true;
  }
  return false;
}

bool is_allowed_origin(std::string_view origin, const ServerOptions& options, std::uint16_t port) {
  constexpr std::string_view SCHEME = "http://";
  if (origin.size() <= SCHEME.size() || !iequals(origin.substr(0, SCHEME.size()), SCHEME)) {
    return false;
  }
  return is_allowed_host(origin.substr(SCHEME.size()), options, port);
}

// "Bearer <token>", scheme case-insensitive (RFC 7235), one or more spaces before the token.
bool is_authorized(std::string_view value, std::string_view token) {
  constexpr std::string_view SCHEME = "Bearer ";
  if (token.empty()) return false;  // fail closed: an unconfigured token admits nobody
  if (value.size() < SCHEME.size() || !iequals(value.substr(0, SCHEME.size()), SCHEME)) {
    return false;
  }
  value.remove_prefix(SCHEME.size());
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  return constant_time_equal(value, token);
}

std::string_view sv(boost::beast::string_view s) { return {s.data(), s.size()}; }

constexpr const char* CSRF_HEADER = "X-Kith-CSRF";  // Beast takes its own string_view, not std::

bool has_session_cookie(const HttpRequest::header_type& head, const ServerOptions& options,
                        std::uint16_t port) {
  if (!options.ui_sessions) return false;
  const auto name = UiSessions::cookie_name(port);
  auto [begin, end] = head.equal_range(http::field::cookie);
  for (auto it = begin; it != end; ++it) {
    if (auto value = find_cookie(sv(it->value()), name); value && options.ui_sessions->is_session(*value))
      return true;
  }
  return false;
}

// Header names must be tokens and values must not contain CR/LF, or a handler could split the
// response. Handlers are our own code, but their values may echo user input.
bool is_token(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::string without_crlf(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c != '\r' && c != '\n' && c != '\0') out.push_back(c);
  }
  return out;
}

}  // namespace

void prepare_parser(RequestParser& parser) {
  parser.header_limit(HEADER_LIMIT);
  // Not boost::none: Beast 1.74 compares "Content-Length > body_limit" with the optional itself, and
  // any length compares greater than none, so none would reject every request with a body.
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  parser.eager(false);  // stop after the header so admit() runs before any body byte is consumed
}

Admission admit(RequestParser& parser, const ServerOptions& options, std::uint16_t port) {
  const auto& head = parser.get();
  if (head.count(http::field::host) != 1 || !is_allowed_host(sv(head[http::field::host]), options, port)) {
    return {Response::error(403, "forbidden_host", "the Host header does not name this local API server")};
  }
  auto origins = head.count(http::field::origin);
  if (origins > 1 || (origins == 1 && !is_allowed_origin(sv(head[http::field::origin]), options, port))) {
    return {Response::error(403, "forbidden_origin", "requests from other web origins are not allowed")};
  }
  Auth auth = Auth::none;
  if (!is_public_ui_request(head)) {
    if (head.count(http::field::authorization) == 1 &&
        is_authorized(sv(head[http::field::authorization]), options.token)) {
      auth = Auth::bearer;
    } else if (has_session_cookie(head, options, port)) {
      auth = Auth::session;
    } else {
      auto r = Response::error(401, "unauthorized",
                               "missing or wrong API token; send 'Authorization: Bearer <token>' with the "
                               "token from the node's api.token file (browsers: log in with `kith ui`)");
      r.headers.emplace_back("WWW-Authenticate", "Bearer");
      return {std::move(r)};
    }
    const bool safe_method = head.method() == http::verb::get || head.method() == http::verb::head;
    if (auth == Auth::session && !safe_method &&
        (head.count(CSRF_HEADER) != 1 || sv(head[CSRF_HEADER]) != "1")) {
      return {Response::error(403, "csrf_required",
                              "a browser session must send the header 'X-Kith-CSRF: 1' with this request")};
    }
  }
  const std::uint64_t limit = is_upload_request(head) ? options.max_upload : options.max_body;
  if (auto length = parser.content_length(); length && *length > limit) {
    return {Response::error(413, "body_too_large",
                            "request body of " + std::to_string(*length) + " bytes exceeds the limit of " +
                                std::to_string(limit))};
  }
  parser.body_limit(limit);
  parser.eager(true);
  return {std::nullopt, auth};
}

bool is_upload_request(const HttpRequest& head) {
  if (head.method() != http::verb::put) return false;
  auto target = sv(head.target());
  auto path = target.substr(0, target.find('?'));
  constexpr std::string_view PREFIX = "/api/v1/uploads/";
  constexpr std::string_view SUFFIX = "/files";
  return path.size() > PREFIX.size() + SUFFIX.size() && path.substr(0, PREFIX.size()) == PREFIX &&
         path.substr(path.size() - SUFFIX.size()) == SUFFIX &&
         path.substr(PREFIX.size(), path.size() - PREFIX.size() - SUFFIX.size()).find('/') ==
             std::string_view::npos;
}

Response parse_error_response(boost::beast::error_code ec) {
  if (ec == http::error::body_limit) {
    return Response::error(413, "body_too_large", "request body exceeds the server's limit");
  }
  return Response::error(400, "bad_request", "malformed HTTP request: " + ec.message());
}

bool is_event_stream_request(const HttpRequest& request) {
  if (request.method() != http::verb::get) return false;
  auto target = sv(request.target());
  return target.substr(0, target.find('?')) == EVENTS_PATH;
}

boost::asio::awaitable<Response> route(HttpRequest request, const Router& router, Auth auth,
                                       const ServerOptions& options, std::uint16_t port) {
  if (auth == Auth::none) co_return serve_ui(request, options, port);
  if (auto built_in = serve_ui_api(request, auth, options, port)) co_return std::move(*built_in);
  auto parsed =
      make_request(std::string(sv(request.method_string())), sv(request.target()), std::move(request.body()));
  if (!parsed) co_return Response::error(400, "bad_request", parsed.error().message);
  if (parsed->path == EVENTS_PATH) {
    auto r = Response::error(405, "method_not_allowed", "the event stream only supports GET");
    r.headers.emplace_back("Allow", "GET");
    co_return r;
  }
  parsed->bearer = auth == Auth::bearer;
  co_return co_await router.dispatch(std::move(*parsed));
}

HttpResponse to_http_response(const Response& response, unsigned version, bool keep_alive) {
  HttpResponse res;
  res.version(version);
  const Response* source = &response;
  Response fallback;
  // Beast cannot frame a 1xx or a non-3-digit status with a body; such a status is a handler bug.
  if (response.status < 200 || response.status > 599) {
    spdlog::error("api: a handler returned invalid HTTP status {}", response.status);
    fallback = Response::error(500, "internal", "internal error: invalid response status");
    source = &fallback;
  }
  res.result(static_cast<unsigned>(source->status));
  res.keep_alive(keep_alive);
  res.set(http::field::cache_control, "no-store");
  res.set("X-Content-Type-Options", "nosniff");
  // 204 and 304 must not carry a body (prepare_payload would throw).
  if (source->status != 204 && source->status != 304 && !source->content_type.empty()) {
    res.set(http::field::content_type, without_crlf(source->content_type));
    res.body() = source->raw_body;
  } else if (source->status != 204 && source->status != 304) {
    res.set(http::field::content_type, "application/json");
    // replace: a handler echoing invalid UTF-8 must not make dump() throw.
    res.body() = source->body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  for (const auto& [name, value] : source->headers) {
    if (is_token(name)) res.set(name, without_crlf(value));
  }
  res.prepare_payload();
  return res;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;  // the token's length is not a secret
  volatile unsigned char diff = 0;         // volatile: keep the compiler from adding an early exit
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff = diff | static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}

}  // namespace detail

Response handle_raw_request(std::string_view raw_http_bytes, const ServerOptions& options, std::uint16_t port,
                            const Router& router) {
  try {
    detail::RequestParser parser;
    detail::prepare_parser(parser);
    boost::beast::error_code ec;
    boost::asio::const_buffer rest(raw_http_bytes.data(), raw_http_bytes.size());

    // Header phase. All input is already in one buffer, so "need more" with nothing consumed means
    // the header is incomplete for good.
    while (!parser.is_header_done()) {
      if (rest.size() == 0) return Response::error(400, "bad_request", "incomplete HTTP request header");
      auto n = parser.put(rest, ec);
      rest += n;
      if (ec == http::error::need_more) {
        ec = {};
        if (n == 0) rest = {};
        continue;
      }
      if (ec) return detail::parse_error_response(ec);
    }

    auto admission = detail::admit(parser, options, port);
    if (admission.refusal) return std::move(*admission.refusal);

    // Body phase, exactly as the server would read it (with the limit admit() armed).
    while (!parser.is_done()) {
      if (rest.size() == 0) {
        parser.put_eof(ec);
        if (ec) return detail::parse_error_response(ec);
        if (!parser.is_done()) return Response::error(400, "bad_request", "incomplete HTTP request body");
        break;
      }
      auto n = parser.put(rest, ec);
      rest += n;
      if (ec == http::error::need_more) {
        ec = {};
        if (n == 0) rest = {};
        continue;
      }
      if (ec) return detail::parse_error_response(ec);
    }

    auto request = parser.release();
    if (detail::is_event_stream_request(request)) return Response{200, nullptr, {}};
    // The server streams uploads to disk; here the body was read into memory like any other, and
    // only the admission (auth, CSRF, size) is what the server would do.
    if (detail::is_upload_request(request)) return Response{200, nullptr, {}};
    // The same coroutine the server runs, run to its end here (the fuzz target's routes answer at
    // once).
    boost::asio::io_context io;
    Response out = Response::error(500, "internal", "internal error");
    boost::asio::co_spawn(io, detail::route(std::move(request), router, admission.auth, options, port),
                          [&out](std::exception_ptr e, Response r) {
                            if (!e) out = std::move(r);
                          });
    io.run();
    return out;
  } catch (const std::exception& e) {
    // Only allocation failure is expected here; the server would drop the connection.
    spdlog::error("api: handle_raw_request: {}", e.what());
    return Response::error(500, "internal", "internal error");
  }
}

}  // namespace kith::api
