#include "api/router.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <exception>
#include <stdexcept>

#include "api/errors.hpp"

namespace kith::api {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// "/a/b/" -> {"a", "b", ""}; "/" -> {""}. Empty segments are kept so "/x/" and "/x" stay distinct
// routes instead of silently aliasing each other.
std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  for (;;) {
    auto slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

bool is_param(std::string_view segment) {
  return segment.size() >= 2 && segment.front() == '{' && segment.back() == '}';
}

}  // namespace

Result<nlohmann::json> Request::json_body() const {
  if (body.empty()) return fail(errc::bad_json, "the request body is empty; expected JSON");
  // allow_exceptions=false: malformed input yields a "discarded" value instead of throwing. The
  // parser is iterative, so deeply nested input cannot overflow the stack here.
  auto parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return fail(errc::bad_json, "the request body is not valid JSON");
  return parsed;
}

Response Response::error(int status, std::string code, std::string message) {
  Response r;
  r.status = status;
  r.body = {{"error", {{"code", std::move(code)}, {"message", std::move(message)}}}};
  return r;
}

Response Response::error(int status, const Error& e) { return error(status, e.code_name(), e.message); }

void Router::add(std::string method, std::string pattern, Handler handler) {
  // A bad pattern is a programming error in routes.cpp, caught at startup, never input-driven.
  if (pattern.empty() || pattern.front() != '/') {
    throw std::invalid_argument("api route pattern must start with '/': " + pattern);
  }
  Route route;
  for (auto segment : split_path(pattern)) {
    if (is_param(segment)) {
      if (segment.size() == 2) throw std::invalid_argument("api route has an unnamed parameter: " + pattern);
    } else {
      ++route.literal_count;
    }
    route.segments.emplace_back(segment);
  }
  route.method = std::move(method);
  route.pattern = std::move(pattern);
  route.handler = std::move(handler);
  m_routes.push_back(std::move(route));
}

boost::asio::awaitable<Response> Router::dispatch(Request request) const {
  std::vector<std::string> segments;
  for (auto raw : split_path(request.path)) {
    auto decoded = percent_decode(raw, /*plus_is_space=*/false);
    if (!decoded) co_return Response::error(400, "bad_request", "bad percent-encoding in the request path");
    segments.push_back(std::move(*decoded));
  }

  const Route* best = nullptr;
  std::vector<std::string_view> allowed;  // methods of routes whose pattern matches, for 405's Allow
  for (const auto& route : m_routes) {
    if (route.segments.size() != segments.size()) continue;
    bool match = true;
    for (std::size_t i = 0; i < segments.size() && match; ++i) {
      const auto& want = route.segments[i];
      match = is_param(want) ? !segments[i].empty() : want == segments[i];
    }
    if (!match) continue;
    if (route.method != request.method) {
      if (std::find(allowed.begin(), allowed.end(), route.method) == allowed.end()) {
        allowed.push_back(route.method);
      }
      continue;
    }
    if (!best || route.literal_count > best->literal_count) best = &route;
  }

  if (!best) {
    if (allowed.empty()) co_return Response::error(404, "not_found", "no API route for " + request.path);
    std::string allow;
    for (auto method : allowed) (allow += allow.empty() ? "" : ", ") += method;
    auto r = Response::error(405, "method_not_allowed",
                             request.method + " is not allowed on " + request.path + "; use " + allow);
    r.headers.emplace_back("Allow", allow);
    co_return r;
  }

  for (std::size_t i = 0; i < segments.size(); ++i) {
    const auto& want = best->segments[i];
    if (is_param(want)) request.params[want.substr(1, want.size() - 2)] = std::move(segments[i]);
  }

  // A handler bug must cost one request, not the daemon: everything it throws becomes a 500 and a
  // log line. The message stays generic; the details are in the log.
  const std::string method = request.method, path = request.path;
  try {
    co_return co_await best->handler(std::move(request));
  } catch (const std::exception& e) {
    spdlog::error("api: {} {} (route {}) threw: {}", method, path, best->pattern, e.what());
  } catch (...) {
    spdlog::error("api: {} {} (route {}) threw a non-standard exception", method, path, best->pattern);
  }
  co_return Response::error(500, "internal", "internal error while handling the request; see the daemon log");
}

Response dispatch_here(const Router& router, Request request) {
  boost::asio::io_context io;
  Response out = Response::error(500, "internal", "the handler did not finish");
  boost::asio::co_spawn(io, router.dispatch(std::move(request)), [&out](std::exception_ptr e, Response r) {
    if (!e) out = std::move(r);
  });
  io.run();
  return out;
}

Result<std::string> percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else if (c == '%') {
      if (i + 2 >= text.size()) {
        return fail(errc::bad_request, "truncated percent-escape in the request target");
      }
      int hi = hex_value(text[i + 1]);
      int lo = hex_value(text[i + 2]);
      if (hi < 0 || lo < 0) return fail(errc::bad_request, "bad percent-escape in the request target");
      char decoded = static_cast<char>(hi * 16 + lo);
      if (decoded == '\0') return fail(errc::bad_request, "encoded NUL byte in the request target");
      out.push_back(decoded);
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

Result<Request> make_request(std::string method, std::string_view target, std::string body) {
  if (target.empty() || target.front() != '/') {
    return fail(errc::bad_request, "the request target must be a path starting with '/'");
  }
  Request request;
  request.method = std::move(method);
  request.body = std::move(body);
  auto question = target.find('?');
  request.path = std::string(target.substr(0, question));
  if (question == std::string_view::npos) return request;

  std::string_view query = target.substr(question + 1);
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;  // "a=1&&b=2" and a trailing '&' are harmless
    auto eq = pair.find('=');
    auto key = percent_decode(pair.substr(0, eq), /*plus_is_space=*/true);
    auto value = percent_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1),
                                /*plus_is_space=*/true);
    if (!key) return tl::unexpected(key.error());
    if (!value) return tl::unexpected(value.error());
    request.query[std::move(*key)] = std::move(*value);
  }
  return request;
}

}  // namespace kith::api
