#pragma once
// Transport-free request routing for the local HTTP+JSON API.
//
// HttpServer turns each authenticated HTTP request into a Request and asks the Router for a Response;
// the Router knows nothing about sockets, auth or Beast, so handlers and routing are testable and
// fuzzable as plain functions. The app's routes are bound in routes.cpp (owned by the app wiring).
//
// Handlers are coroutines: a route that needs a node service co_awaits the service's answer (see
// api/detail/await.hpp), so the connection's strand is free while the service works, and no handler
// ever blocks an io thread. A handler that can answer at once is wrapped with sync().
// clang-format off
#include "api/detail/asio_compat.hpp"  // before any Boost.Asio header; see there
// clang-format on
#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.hpp"

namespace kith::api {

struct Request {
  std::string method;                         // as sent, case-sensitive ("GET", "POST", ...)
  std::string path;                           // the request target before '?', still percent-encoded
  std::map<std::string, std::string> query;   // decoded; '+' is a space; a repeated key keeps the last
  std::map<std::string, std::string> params;  // decoded path segments bound by "{name}" in the pattern
  std::string body;
  // True when the caller authenticated with the API token, false for a web-UI session cookie. Routes
  // that only a local program (not a browser page) may use check it.
  bool bearer = true;

  // The body as JSON. Error code api::errc::bad_json ("api.bad_json") if it is empty or malformed.
  Result<nlohmann::json> json_body() const;
};

struct Response {
  int status = 200;
  nlohmann::json body;  // the JSON response body (null is sent as `null`); not sent for 204 and 304
  // Extra response headers (e.g. "Allow", "WWW-Authenticate"); Content-Type is set by the server.
  std::vector<std::pair<std::string, std::string>> headers;
  // A non-JSON response (web UI assets, SVG, redirects): when content_type is set, raw_body is sent
  // as-is with that Content-Type and `body` is ignored.
  std::string content_type;
  std::string raw_body;

  // {"error":{"code":"...","message":"..."}} with the given status.
  static Response error(int status, std::string code, std::string message);
  // The same, from a module Error: code is e.code_name() (e.g. "swarm.bad_link"), message is e.message.
  static Response error(int status, const Error& e);
};

// A route's handler. It receives its own copy of the request (a coroutine must own what it reads
// after its first suspension).
using Handler = std::function<boost::asio::awaitable<Response>(Request)>;

// A handler that answers without waiting for anything.
template <class F>
Handler sync(F f) {
  return [f = std::move(f)](Request request) -> boost::asio::awaitable<Response> { co_return f(request); };
}

// Built once at startup, then only read: dispatch() is const and safe to call from any thread as
// long as nobody calls add() concurrently.
class Router {
 public:
  // pattern: "/api/v1/transfers/{id}" — literal segments match exactly (after percent-decoding the
  // request's segment), "{name}" matches any one non-empty segment and binds it to params[name].
  // When several patterns match, the one with more literal segments wins; ties go to the first added.
  void add(std::string method, std::string pattern, Handler handler);

  // Never throws. Unknown path -> 404 "not_found"; known path, other method -> 405
  // "method_not_allowed" with an Allow header; bad percent-encoding in the path -> 400 "bad_request";
  // a throwing handler -> 500 "internal" (logged). The router must outlive the coroutine.
  boost::asio::awaitable<Response> dispatch(Request request) const;

 private:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;  // literal text, or "{name}" for a parameter
    int literal_count = 0;
    Handler handler;
  };
  std::vector<Route> m_routes;
};

// Runs router.dispatch() to the end on a private io_context of the calling thread: for tests, the
// fuzz target and other callers whose handlers do not wait for services running elsewhere.
Response dispatch_here(const Router& router, Request request);

// Decodes %XX escapes (and '+' as a space when plus_is_space). Errors (api::errc::bad_request) on a
// truncated or non-hex escape and on an encoded NUL, which no handler should ever have to consider.
Result<std::string> percent_decode(std::string_view text, bool plus_is_space);

// Builds a Request from an origin-form target ("/a/b?x=1&y=%20z"): splits path and query and decodes
// the query. Error api::errc::bad_request if the target does not start with '/' or is badly encoded.
Result<Request> make_request(std::string method, std::string_view target, std::string body);

}  // namespace kith::api
