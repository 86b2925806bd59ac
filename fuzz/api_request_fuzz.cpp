// libFuzzer target for the local API's request path: raw bytes -> Beast request parser -> Host,
// Origin, token, session-cookie and CSRF checks -> body limits -> the web UI's own routes or routing
// -> handlers -> serialisation, exactly as HttpServer runs it (both use api/detail/pipeline), minus
// the sockets.
#include <spdlog/spdlog.h>

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string_view>

#include "api/detail/pipeline.hpp"
#include "api/http_server.hpp"
#include "api/router.hpp"
#include "api/ui_auth.hpp"

namespace {

using kith::api::Request;
using kith::api::Response;
using kith::api::sync;

// Routes that echo decoded input back into JSON, so invalid UTF-8 and odd values reach dump().
const kith::api::Router& fuzz_router() {
  static const kith::api::Router router = [] {
    kith::api::Router r;
    r.add("GET", "/api/v1/ping", sync([](const Request&) { return Response{200, {{"pong", true}}, {}}; }));
    r.add("POST", "/api/v1/echo", sync([](const Request& req) {
            auto body = req.json_body();
            if (!body) return Response::error(400, body.error());
            return Response{200, {{"echo", *body}}, {}};
          }));
    r.add("GET", "/api/v1/items/{id}", sync([](const Request& req) {
            return Response{200, {{"id", req.params.at("id")}, {"query", req.query}, {"path", req.path}}, {}};
          }));
    r.add("PUT", "/api/v1/items/{id}/{field}", sync([](const Request& req) {
            return Response{204, nullptr, {{"X-Field", req.params.at("field")}}};
          }));
    r.add("GET", "/api/v1/throw", sync([](const Request&) -> Response { throw std::runtime_error("fuzz"); }));
    return r;
  }();
  return router;
}

kith::api::ServerOptions fuzz_options() {
  kith::api::ServerOptions options;
  options.token = "fuzz-token";  // the seed corpus uses it, with Host 127.0.0.1:8080
  options.max_body = 64 * 1024;
  // Cookie parsing, /ui/login and the login-token route run too (sessions are random: the fuzzer
  // exercises the refusals and, with the token, minting).
  static kith::api::UiSessions sessions;
  options.ui_sessions = &sessions;
  return options;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool quiet = [] {
    spdlog::set_level(spdlog::level::off);  // the throwing route would log on every run
    return true;
  }();
  (void)quiet;
  static const kith::api::ServerOptions options = fuzz_options();
  auto response = kith::api::handle_raw_request(std::string_view(reinterpret_cast<const char*>(data), size),
                                                options, 8080, fuzz_router());
  // Serialise as the server would before writing it to the socket.
  auto message = kith::api::detail::to_http_response(response, 11, true);
  (void)message;
  return 0;
}
