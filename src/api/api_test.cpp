// Tests for the api module: Router, EventHub, the request pipeline (handle_raw_request), a real
// HttpServer on 127.0.0.1 driven with raw sockets and with Client, and the SSE stream.
// clang-format off
#include "api/detail/asio_compat.hpp"  // before any Boost.Asio header; see there
// clang-format on
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "api/client.hpp"
#include "api/errors.hpp"
#include "api/event_hub.hpp"
#include "api/http_server.hpp"
#include "api/router.hpp"

using namespace kith;
using namespace kith::api;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using json = nlohmann::json;

namespace {

constexpr const char* TOKEN = "test-token-0123456789abcdef";
// Only a safety net so a broken server fails a test instead of hanging it; nothing asserts a time.
constexpr auto SAFETY_TIMEOUT = std::chrono::seconds(20);

Router make_router() {
  Router router;
  router.add("GET", "/api/v1/ping", sync([](const Request&) { return Response{200, {{"pong", true}}, {}}; }));
  router.add("POST", "/api/v1/echo", sync([](const Request& req) {
               auto body = req.json_body();
               if (!body) return Response::error(400, body.error());
               return Response{200, {{"echo", *body}}, {}};
             }));
  router.add("GET", "/api/v1/items/{id}", sync([](const Request& req) {
               return Response{200, {{"id", req.params.at("id")}, {"query", req.query}}, {}};
             }));
  router.add("DELETE", "/api/v1/items/{id}", sync([](const Request&) {
               return Response{200, {{"deleted", true}}, {}};
             }));
  router.add("GET", "/api/v1/items/special", sync([](const Request&) {
               return Response{200, {{"special", true}}, {}};
             }));
  router.add("GET", "/api/v1/throw",
             sync([](const Request&) -> Response { throw std::runtime_error("boom"); }));
  router.add("POST", "/api/v1/conflict", sync([](const Request&) {
               return Response::error(409, "conflict", "that transfer is already running");
             }));
  return router;
}

ServerOptions make_options() {
  ServerOptions options;
  options.token = TOKEN;
  options.max_body = 1024;
  options.sse_keepalive = std::chrono::milliseconds(100);
  return options;
}

struct Reply {
  int status = 0;
  std::string body;
  json body_json;
  http::fields headers;
};

Reply to_reply(http::response<http::string_body>& res) {
  Reply reply;
  reply.status = res.result_int();
  reply.body = res.body();
  reply.body_json = json::parse(res.body(), nullptr, false);
  for (const auto& field : res) reply.headers.insert(field.name_string(), field.value());
  return reply;
}

// Writes raw bytes to the server and reads `count` responses from the same connection.
asio::awaitable<std::vector<Reply>> async_raw(std::uint16_t port, std::string bytes, int count) {
  beast::tcp_stream stream(co_await asio::this_coro::executor);
  stream.expires_after(SAFETY_TIMEOUT);
  co_await stream.async_connect(tcp::endpoint(asio::ip::address_v4::loopback(), port), asio::use_awaitable);
  co_await asio::async_write(stream, asio::buffer(bytes), asio::use_awaitable);
  beast::flat_buffer buffer;
  std::vector<Reply> replies;
  for (int i = 0; i < count; ++i) {
    http::response_parser<http::string_body> parser;
    co_await http::async_read(stream, buffer, parser, asio::use_awaitable);
    replies.push_back(to_reply(parser.get()));
  }
  co_return replies;
}

std::vector<Reply> raw_many(std::uint16_t port, std::string bytes, int count) {
  asio::io_context io;
  auto future = asio::co_spawn(io, async_raw(port, std::move(bytes), count), asio::use_future);
  io.run();
  return future.get();  // rethrows a connection or parse error, failing the test
}

Reply raw(std::uint16_t port, std::string bytes) { return raw_many(port, std::move(bytes), 1).at(0); }

// A well-formed request to the test server; `headers` are extra lines ending in "\r\n".
std::string request_text(std::uint16_t port, const std::string& method, const std::string& target,
                         const std::string& headers = "", const std::string& body = "", bool auth = true) {
  std::string text = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) + "\r\n";
  if (auth) text += std::string("Authorization: Bearer ") + TOKEN + "\r\n";
  text += headers;
  if (!body.empty() || method == "POST") text += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  return text + "\r\n" + body;
}

// Opens the event stream; after the server's ": subscribed" comment calls `subscribed`, then reads
// until `until` appears and returns everything read.
asio::awaitable<std::string> async_sse(std::uint16_t port, std::function<void()> subscribed,
                                       std::string until) {
  beast::tcp_stream stream(co_await asio::this_coro::executor);
  stream.expires_after(SAFETY_TIMEOUT);
  co_await stream.async_connect(tcp::endpoint(asio::ip::address_v4::loopback(), port), asio::use_awaitable);
  std::string req = request_text(port, "GET", "/api/v1/events");
  co_await asio::async_write(stream, asio::buffer(req), asio::use_awaitable);
  std::string data;
  co_await asio::async_read_until(stream, asio::dynamic_buffer(data), ": subscribed\n\n",
                                  asio::use_awaitable);
  subscribed();
  co_await asio::async_read_until(stream, asio::dynamic_buffer(data), until, asio::use_awaitable);
  co_return data;
}

std::string read_sse(std::uint16_t port, std::function<void()> subscribed, std::string until) {
  asio::io_context io;
  auto future =
      asio::co_spawn(io, async_sse(port, std::move(subscribed), std::move(until)), asio::use_future);
  io.run();
  return future.get();
}

class ApiServer : public ::testing::Test {
 protected:
  void SetUp() override {
    m_server = std::make_unique<HttpServer>(m_ioc, make_options(), m_router, m_hub);
    auto port = m_server->start();
    ASSERT_TRUE(port) << port.error().message;
    m_port = *port;
    m_thread = std::thread([this] { m_ioc.run(); });
  }

  void TearDown() override {
    m_server->stop();
    m_work.reset();
    m_ioc.stop();
    if (m_thread.joinable()) m_thread.join();
    m_server.reset();
  }

  Client client(std::string token = TOKEN) {
    Client c("127.0.0.1", m_port, std::move(token));
    c.set_event_idle_timeout(std::chrono::milliseconds(SAFETY_TIMEOUT));
    return c;
  }

  asio::io_context m_ioc;
  asio::executor_work_guard<asio::io_context::executor_type> m_work = asio::make_work_guard(m_ioc);
  Router m_router = make_router();
  EventHub m_hub;
  std::unique_ptr<HttpServer> m_server;
  std::uint16_t m_port = 0;
  std::thread m_thread;
};

void expect_error_shape(const Reply& reply, int status, const std::string& code) {
  EXPECT_EQ(reply.status, status) << reply.body;
  ASSERT_TRUE(reply.body_json.is_object()) << reply.body;
  ASSERT_EQ(reply.body_json.size(), 1u) << reply.body;
  const auto& error = reply.body_json.at("error");
  ASSERT_TRUE(error.is_object());
  EXPECT_EQ(error.size(), 2u) << reply.body;
  EXPECT_EQ(error.at("code"), code) << reply.body;
  EXPECT_TRUE(error.at("message").is_string());
  EXPECT_FALSE(error.at("message").get<std::string>().empty());
  EXPECT_EQ(reply.headers[http::field::content_type], "application/json");
}

}  // namespace

// ---- Router and helpers (no sockets) ----

TEST(Router, MatchesParamsQueryAndPrefersLiterals) {
  Router router = make_router();
  auto req = make_request("GET", "/api/v1/items/a%20b%2Fc?x=1+2&y=%2F&flag", "");
  ASSERT_TRUE(req);
  auto res = dispatch_here(router, *req);
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body["id"], "a b/c");
  EXPECT_EQ(res.body["query"]["x"], "1 2");
  EXPECT_EQ(res.body["query"]["y"], "/");
  EXPECT_EQ(res.body["query"]["flag"], "");
  EXPECT_EQ(dispatch_here(router, *make_request("GET", "/api/v1/items/special", "")).body["special"], true);
}

TEST(Router, NotFoundMethodNotAllowedAndThrowingHandler) {
  Router router = make_router();
  auto missing = dispatch_here(router, *make_request("GET", "/api/v1/nothing", ""));
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body["error"]["code"], "not_found");
  EXPECT_EQ(dispatch_here(router, *make_request("GET", "/api/v1/items/", "")).status, 404);  // empty param

  auto wrong = dispatch_here(router, *make_request("PUT", "/api/v1/items/7", ""));
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(wrong.body["error"]["code"], "method_not_allowed");
  ASSERT_EQ(wrong.headers.size(), 1u);
  EXPECT_EQ(wrong.headers[0].first, "Allow");
  EXPECT_EQ(wrong.headers[0].second, "GET, DELETE");

  auto thrown = dispatch_here(router, *make_request("GET", "/api/v1/throw", ""));
  EXPECT_EQ(thrown.status, 500);
  EXPECT_EQ(thrown.body["error"]["code"], "internal");
}

TEST(Router, PercentDecoding) {
  EXPECT_EQ(*percent_decode("a%41%7e+b", true), "aA~ b");
  EXPECT_EQ(*percent_decode("a+b", false), "a+b");
  EXPECT_FALSE(percent_decode("%4", false));
  EXPECT_FALSE(percent_decode("%", false));
  EXPECT_FALSE(percent_decode("%zz", false));
  EXPECT_FALSE(percent_decode("%00", false));
  auto bad = make_request("GET", "/x?a=%G1", "");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code_name(), "api.bad_request");
  EXPECT_FALSE(make_request("GET", "http://example.com/x", ""));
  EXPECT_EQ(dispatch_here(Router(), *make_request("GET", "/a%zz", "")).status, 400);
}

TEST(Router, JsonBodyErrors) {
  Request req;
  req.body = "{\"a\":";
  auto parsed = req.json_body();
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().code_name(), "api.bad_json");
  req.body = "";
  EXPECT_FALSE(req.json_body());
  req.body = R"({"a":[1,2]})";
  ASSERT_TRUE(req.json_body());
  EXPECT_EQ((*req.json_body())["a"][1], 2);
  EXPECT_EQ(Response::error(418, "x", "y").body, json::parse(R"({"error":{"code":"x","message":"y"}})"));
}

TEST(Errors, NamesAndStatusMapping) {
  EXPECT_EQ((Error{make_error_code(errc::unauthorized), ""}).code_name(), "api.unauthorized");
  EXPECT_EQ((Error{make_error_code(errc::listen_failed), ""}).code_name(), "api.listen_failed");
  EXPECT_EQ(errc_from_status(400), errc::bad_request);
  EXPECT_EQ(errc_from_status(401), errc::unauthorized);
  EXPECT_EQ(errc_from_status(403), errc::forbidden);
  EXPECT_EQ(errc_from_status(404), errc::not_found);
  EXPECT_EQ(errc_from_status(409), errc::conflict);
  EXPECT_EQ(errc_from_status(500), errc::server_error);
  EXPECT_EQ(errc_from_status(413), errc::server_error);
}

// ---- EventHub (no sockets) ----

TEST(EventHub, FormatsAndNumbersEvents) {
  EventHub hub;
  asio::io_context io;  // never run: only its executor is needed to subscribe
  auto sub = hub.subscribe(io.get_executor());
  hub.publish("first", {{"n", 1}});
  hub.publish("bad\ntype", "line\nbreak");
  auto frames = sub->take();
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(*frames[0], "id: 1\nevent: first\ndata: {\"n\":1}\n\n");
  EXPECT_EQ(*frames[1], "id: 2\nevent: bad_type\ndata: \"line\\nbreak\"\n\n");
  EXPECT_EQ(hub.last_id(), 2u);
  EXPECT_EQ(hub.subscriber_count(), 1u);
  sub.reset();
  EXPECT_EQ(hub.subscriber_count(), 0u);
}

TEST(EventHub, DropsASubscriberThatFallsTooFarBehind) {
  EventHub hub;
  asio::io_context io;
  auto slow = hub.subscribe(io.get_executor());
  for (std::size_t i = 0; i < EventHub::MAX_BACKLOG; ++i) hub.publish("tick", static_cast<int>(i));
  EXPECT_FALSE(slow->closed());
  auto fast = hub.subscribe(io.get_executor());
  hub.publish("tick", -1);  // one more than the slow subscriber may hold
  EXPECT_TRUE(slow->dropped());
  EXPECT_TRUE(slow->closed());
  EXPECT_TRUE(slow->take().empty());
  EXPECT_FALSE(fast->closed());
  EXPECT_EQ(fast->take().size(), 1u);
  EXPECT_EQ(hub.subscriber_count(), 1u);
}

// ---- handle_raw_request: the server's pipeline as a pure function ----

TEST(HandleRawRequest, AppliesChecksAndRouting) {
  Router router = make_router();
  ServerOptions options = make_options();
  const std::uint16_t port = 4242;
  auto run = [&](const std::string& text) { return handle_raw_request(text, options, port, router); };

  EXPECT_EQ(run(request_text(port, "GET", "/api/v1/ping")).status, 200);
  EXPECT_EQ(run(request_text(port, "GET", "/api/v1/ping", "", "", false)).status, 401);
  EXPECT_EQ(run(request_text(port + 1, "GET", "/api/v1/ping")).status, 403);  // wrong port in Host
  EXPECT_EQ(run(request_text(port, "GET", "/api/v1/ping", "Origin: http://evil.example\r\n")).status, 403);
  EXPECT_EQ(run(request_text(port, "GET", "/api/v1/ping", "Origin: http://localhost:4242\r\n")).status, 200);
  EXPECT_EQ(run(request_text(port, "GET", "/api/v1/ping", "Authorization: Bearer x\r\n")).status,
            401);  // two
  EXPECT_EQ(run(request_text(port, "POST", "/api/v1/echo", "", "[1]")).body["echo"], json::parse("[1]"));
  EXPECT_EQ(run(request_text(port, "GET", "/api/v1/events")).status, 200);
  EXPECT_EQ(run(request_text(port, "POST", "/api/v1/events")).status, 405);
  EXPECT_EQ(run("\x16\x03\x01 garbage\r\n\r\n").status, 400);
  EXPECT_EQ(run("GET /api/v1/ping HTTP/1.1\r\nHost: 127.0.0.1:4242\r\n").status, 400);  // incomplete
  EXPECT_EQ(run("").status, 400);
  EXPECT_EQ(run(request_text(port, "POST", "/api/v1/echo", "", std::string(2000, 'x'))).status, 413);
  EXPECT_EQ(run(request_text(port, "POST", "/api/v1/echo", "", "[1,2")).status, 400);
  // Truncated body: the declared length never arrives.
  EXPECT_EQ(run(request_text(port, "POST", "/api/v1/echo", "Content-Length: 10\r\n")).status, 400);
  // A chunked body over the limit is caught while streaming in.
  std::string chunked = request_text(port, "POST", "/api/v1/echo", "Transfer-Encoding: chunked\r\n");
  chunked.replace(chunked.find("Content-Length: 0\r\n"), 19, "");
  EXPECT_EQ(run(chunked + "800\r\n" + std::string(0x800, 'a') + "\r\n0\r\n\r\n").status, 413);
  EXPECT_EQ(run(chunked + "2\r\n[]\r\n0\r\n\r\n").status, 200);
  // An unauthenticated client learns nothing about limits: auth is checked before the body size.
  EXPECT_EQ(run(request_text(port, "POST", "/api/v1/echo", "", std::string(2000, 'x'), false)).status, 401);
  // Host: case-insensitive, IPv6 loopback accepted; no Host at all (HTTP/1.0) refused.
  auto with_host = [&](const std::string& host) {
    return run("GET /api/v1/ping HTTP/1.1\r\nHost: " + host + "\r\nAuthorization: Bearer " + TOKEN +
               "\r\n\r\n");
  };
  EXPECT_EQ(with_host("LOCALHOST:4242").status, 200);
  EXPECT_EQ(with_host("[::1]:4242").status, 200);
  EXPECT_EQ(with_host("127.0.0.1").status, 403);
  EXPECT_EQ(with_host("127.0.0.1:4242.evil.example").status, 403);
  EXPECT_EQ(
      run(std::string("GET /api/v1/ping HTTP/1.0\r\nAuthorization: Bearer ") + TOKEN + "\r\n\r\n").status,
      403);
  // The scheme is case-insensitive; the token is not.
  EXPECT_EQ(run("GET /api/v1/ping HTTP/1.1\r\nHost: localhost:4242\r\nAuthorization: bearer " +
                std::string(TOKEN) + "\r\n\r\n")
                .status,
            200);
  // An empty configured token admits nobody.
  options.token.clear();
  EXPECT_EQ(run("GET /api/v1/ping HTTP/1.1\r\nHost: localhost:4242\r\nAuthorization: Bearer \r\n\r\n").status,
            401);
}

// ---- A real server on 127.0.0.1 ----

TEST_F(ApiServer, GoodRequestAndKeepAlive) {
  auto replies = raw_many(
      m_port,
      request_text(m_port, "GET", "/api/v1/ping") + request_text(m_port, "GET", "/api/v1/items/a%20b?x=1+2"),
      2);
  EXPECT_EQ(replies[0].status, 200);
  EXPECT_EQ(replies[0].body_json, json::parse(R"({"pong":true})"));
  EXPECT_EQ(replies[0].headers[http::field::content_type], "application/json");
  EXPECT_EQ(replies[1].body_json["id"], "a b");
  EXPECT_EQ(replies[1].body_json["query"]["x"], "1 2");
}

TEST_F(ApiServer, RejectsMissingAndWrongToken) {
  auto missing = raw(m_port, request_text(m_port, "GET", "/api/v1/ping", "", "", false));
  expect_error_shape(missing, 401, "unauthorized");
  EXPECT_EQ(missing.headers[http::field::www_authenticate], "Bearer");
  auto wrong =
      raw(m_port, request_text(m_port, "GET", "/api/v1/ping", "Authorization: Bearer nope\r\n", "", false));
  expect_error_shape(wrong, 401, "unauthorized");
  auto basic =
      raw(m_port, request_text(m_port, "GET", "/api/v1/ping", "Authorization: Basic dTpw\r\n", "", false));
  expect_error_shape(basic, 401, "unauthorized");
}

TEST_F(ApiServer, RejectsForeignHostAndOrigin) {
  std::string text = request_text(m_port, "GET", "/api/v1/ping");
  std::string evil = text;
  evil.replace(evil.find("127.0.0.1:"), 9, "evil.example");
  expect_error_shape(raw(m_port, evil), 403, "forbidden_host");
  auto origin = raw(m_port, request_text(m_port, "GET", "/api/v1/ping", "Origin: http://evil.example\r\n"));
  expect_error_shape(origin, 403, "forbidden_origin");
  auto null_origin = raw(m_port, request_text(m_port, "GET", "/api/v1/ping", "Origin: null\r\n"));
  expect_error_shape(null_origin, 403, "forbidden_origin");
  std::string own = "Origin: http://127.0.0.1:" + std::to_string(m_port) + "\r\n";
  EXPECT_EQ(raw(m_port, request_text(m_port, "GET", "/api/v1/ping", own)).status, 200);
}

TEST_F(ApiServer, MalformedJsonUnknownRouteWrongMethod) {
  auto bad_json = raw(m_port, request_text(m_port, "POST", "/api/v1/echo", "", "{\"a\":"));
  expect_error_shape(bad_json, 400, "api.bad_json");
  expect_error_shape(raw(m_port, request_text(m_port, "GET", "/api/v1/nope")), 404, "not_found");
  auto wrong = raw(m_port, request_text(m_port, "PUT", "/api/v1/ping"));
  expect_error_shape(wrong, 405, "method_not_allowed");
  EXPECT_EQ(wrong.headers[http::field::allow], "GET");
  expect_error_shape(raw(m_port, request_text(m_port, "GET", "/api/v1/throw")), 500, "internal");
  expect_error_shape(raw(m_port, request_text(m_port, "GET", "/api/v1/items/x?q=%zz")), 400, "bad_request");
}

TEST_F(ApiServer, OversizedBodyIs413) {
  auto reply = raw(m_port, request_text(m_port, "POST", "/api/v1/echo", "", std::string(5000, 'x')));
  expect_error_shape(reply, 413, "body_too_large");
  // Expect: 100-continue with an acceptable body gets the interim 100, then the answer.
  auto replies =
      raw_many(m_port, request_text(m_port, "POST", "/api/v1/echo", "Expect: 100-continue\r\n", "{}"), 2);
  EXPECT_EQ(replies[0].status, 100);
  EXPECT_EQ(replies[1].status, 200);
  EXPECT_EQ(replies[1].body_json["echo"], json::object());
  EXPECT_EQ(raw(m_port, request_text(m_port, "GET", "/api/v1/ping")).status, 200);
}

TEST_F(ApiServer, GarbageIs400AndTheServerSurvives) {
  expect_error_shape(raw(m_port, std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 15)),
                     400, "bad_request");
  expect_error_shape(raw(m_port, "GET / HTTP/1.1\r\nBad Header Line\r\n\r\n"), 400, "bad_request");
  EXPECT_EQ(raw(m_port, request_text(m_port, "GET", "/api/v1/ping")).status, 200);
}

TEST_F(ApiServer, ClientRequestsAndErrors) {
  auto c = client();
  auto pong = c.request("GET", "/api/v1/ping");
  ASSERT_TRUE(pong) << pong.error().message;
  EXPECT_EQ((*pong)["pong"], true);

  json body = {{"hello", "wörld"}};
  auto echo = c.request("POST", "/api/v1/echo", &body);
  ASSERT_TRUE(echo) << echo.error().message;
  EXPECT_EQ((*echo)["echo"], body);

  auto conflict = c.request("POST", "/api/v1/conflict", &body);
  ASSERT_FALSE(conflict);
  EXPECT_EQ(conflict.error().code, make_error_code(errc::conflict));
  EXPECT_EQ(conflict.error().message, "that transfer is already running");
  EXPECT_EQ(c.request("GET", "/api/v1/nope").error().code_name(), "api.not_found");
  EXPECT_EQ(c.request("GET", "/api/v1/throw").error().code_name(), "api.server_error");

  auto unauthorized = client("wrong").request("GET", "/api/v1/ping");
  ASSERT_FALSE(unauthorized);
  EXPECT_EQ(unauthorized.error().code_name(), "api.unauthorized");
  EXPECT_NE(unauthorized.error().message.find("token"), std::string::npos);

  // "localhost" may resolve to ::1 first (nothing listens there); the client falls back to 127.0.0.1
  // and sends "Host: localhost:PORT", which the server accepts.
  Client by_name("localhost", m_port, TOKEN);
  auto named = by_name.request("GET", "/api/v1/ping");
  EXPECT_TRUE(named) << named.error().message;
}

TEST(ClientAlone, ConnectionRefusedIsUnavailable) {
  // Find a port nobody listens on: bind one, then release it.
  asio::io_context io;
  tcp::acceptor probe(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  const auto port = probe.local_endpoint().port();
  probe.close();
  Client c("127.0.0.1", port, TOKEN);
  auto r = c.request("GET", "/api/v1/ping");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, base::make_error_code(base::errc::unavailable));
  EXPECT_NE(r.error().message.find("not reachable"), std::string::npos) << r.error().message;
  auto events = c.follow_events([](const std::string&, const json&) { return false; });
  ASSERT_FALSE(events);
  EXPECT_EQ(events.error().code_name(), "base.unavailable");
}

TEST_F(ApiServer, SseDeliversEventsPublishedFromAnotherThreadInOrder) {
  std::thread publisher;
  auto text = read_sse(
      m_port,
      [&] {
        publisher = std::thread([this] {
          for (int i = 1; i <= 3; ++i) m_hub.publish("e" + std::to_string(i), {{"n", i}});
        });
      },
      "event: e3\ndata: {\"n\":3}\n\n");
  publisher.join();
  auto first = text.find("id: 1\nevent: e1\ndata: {\"n\":1}\n\n");
  auto second = text.find("id: 2\nevent: e2\ndata: {\"n\":2}\n\n");
  auto third = text.find("id: 3\nevent: e3\ndata: {\"n\":3}\n\n");
  ASSERT_NE(first, std::string::npos) << text;
  ASSERT_NE(second, std::string::npos) << text;
  EXPECT_LT(first, second);
  EXPECT_LT(second, third);
  EXPECT_NE(text.find("Content-Type: text/event-stream"), std::string::npos) << text;
}

TEST_F(ApiServer, SseSendsKeepalives) {
  auto text = read_sse(
      m_port, [] {}, ": keepalive\n\n");
  EXPECT_NE(text.find(": keepalive"), std::string::npos);
}

TEST_F(ApiServer, SseRequiresToken) {
  auto reply = raw(m_port, request_text(m_port, "GET", "/api/v1/events", "", "", false));
  expect_error_shape(reply, 401, "unauthorized");
}

TEST_F(ApiServer, ClientFollowsEvents) {
  std::atomic<bool> done{false};
  std::thread publisher([&] {
    // Publish until the subscriber has it; events before the subscription exist are not replayed.
    while (!done) {
      if (m_hub.subscriber_count() > 0) m_hub.publish("hello", {{"from", "another thread"}});
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  std::string type;
  json data;
  auto status = client().follow_events([&](const std::string& t, const json& d) {
    type = t;
    data = d;
    return false;
  });
  done = true;
  publisher.join();
  ASSERT_TRUE(status) << status.error().message;
  EXPECT_EQ(type, "hello");
  EXPECT_EQ(data["from"], "another thread");
}

TEST_F(ApiServer, ClientFollowEventsWithWrongTokenFails) {
  auto status = client("wrong").follow_events([](const std::string&, const json&) { return true; });
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code_name(), "api.unauthorized");
}

TEST_F(ApiServer, StopClosesEventStreams) {
  auto c = client();
  std::thread stopper([this] {
    while (m_hub.subscriber_count() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    m_server->stop();
  });
  auto status = c.follow_events([](const std::string&, const json&) { return true; });
  stopper.join();
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code_name(), "base.unavailable");
}

TEST(HttpServerStart, RefusesEmptyTokenAndBusyPort) {
  asio::io_context io;
  Router router;
  EventHub hub;
  HttpServer no_token(io, ServerOptions{}, router, hub);
  EXPECT_FALSE(no_token.start());

  ServerOptions options = make_options();
  HttpServer first(io, options, router, hub);
  auto port = first.start();
  ASSERT_TRUE(port);
  options.port = *port;
  HttpServer second(io, options, router, hub);
  auto clash = second.start();
  ASSERT_FALSE(clash);
  EXPECT_EQ(clash.error().code_name(), "api.listen_failed");
}
