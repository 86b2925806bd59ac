#include "api/client.hpp"

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <exception>
#include <limits>
#include <optional>

#include "api/detail/sse_decoder.hpp"
#include "api/errors.hpp"
#include "api/http_server.hpp"
#include "base/endpoint.hpp"

namespace kith::api {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Millis = std::chrono::milliseconds;

namespace {

constexpr std::uint64_t MAX_RESPONSE_BODY = 64u << 20;
constexpr std::size_t MAX_ERROR_BODY = 64u << 10;  // an error answer is a short JSON object

// What the calls need of the Client, copied so the coroutines hold no pointer into it.
struct Endpoint {
  std::string host;
  std::uint16_t port;
  std::string token;

  std::string where() const { return base::join_host_port(host, port); }
  // The Host header must be one the server's DNS-rebinding check accepts.
  std::string host_header() const { return base::join_host_port(host, port); }
};

auto redirect(beast::error_code& ec) { return asio::redirect_error(asio::use_awaitable, ec); }

std::string seconds_text(Millis d) {
  auto ms = d.count();
  return ms % 1000 == 0 ? std::to_string(ms / 1000) + " s" : std::to_string(ms) + " ms";
}

Error unreachable(const Endpoint& ep, beast::error_code ec) {
  return Error{make_error_code(base::errc::unavailable), "the kith daemon is not reachable at " + ep.where() +
                                                             " (" + ec.message() +
                                                             "); is `kith daemon` running for this home?"};
}

// A failure after the connection was made.
Error exchange_error(const Endpoint& ep, beast::error_code ec, Millis timeout) {
  if (ec == beast::error::timeout) {
    return Error{make_error_code(errc::timeout),
                 "the kith daemon at " + ep.where() + " did not answer within " + seconds_text(timeout)};
  }
  if (ec.category() == beast::error_code(http::error::bad_version).category() &&
      ec != http::error::end_of_stream && ec != http::error::partial_message) {
    return Error{make_error_code(errc::bad_response),
                 "the kith daemon at " + ep.where() + " sent an invalid HTTP response: " + ec.message()};
  }
  return Error{make_error_code(base::errc::unavailable),
               "lost the connection to the kith daemon at " + ep.where() + ": " + ec.message()};
}

// Turns an HTTP answer into the call's result: 2xx -> its JSON, else the server's error message with
// an api::errc chosen by status.
Result<nlohmann::json> interpret(const Endpoint& ep, int status, const std::string& body) {
  auto parsed = body.empty() ? nlohmann::json() : nlohmann::json::parse(body, nullptr, false);
  if (status >= 200 && status < 300) {
    if (parsed.is_discarded())
      return fail(errc::bad_json, "the kith daemon at " + ep.where() + " sent invalid JSON");
    return parsed;
  }
  std::string message;
  if (parsed.is_object() && parsed.contains("error") && parsed.at("error").is_object()) {
    const auto& error = parsed.at("error");
    if (error.contains("message") && error.at("message").is_string()) message = error.at("message");
  }
  if (message.empty()) {
    message = "the kith daemon at " + ep.where() + " answered HTTP " + std::to_string(status);
    if (!body.empty()) message += ": " + body.substr(0, 200);
  }
  return fail(errc_from_status(status), std::move(message));
}

asio::awaitable<Status> async_connect(beast::tcp_stream& stream, const Endpoint& ep, Millis timeout) {
  tcp::resolver resolver(co_await asio::this_coro::executor);
  beast::error_code ec;
  auto endpoints = co_await resolver.async_resolve(ep.host, std::to_string(ep.port),
                                                   tcp::resolver::numeric_service, redirect(ec));
  if (ec) co_return tl::unexpected(unreachable(ep, ec));
  stream.expires_after(timeout);
  // Tries each address in turn ("localhost" may resolve to ::1 first while the daemon is on 127.0.0.1).
  co_await stream.async_connect(endpoints, redirect(ec));
  if (ec) co_return tl::unexpected(unreachable(ep, ec));
  co_return Status{};
}

http::request<http::string_body> make_request(const Endpoint& ep, const std::string& method,
                                              const std::string& path) {
  http::request<http::string_body> req;
  req.version(11);
  auto verb = http::string_to_verb(method);
  if (verb == http::verb::unknown) {
    req.method_string(method);
  } else {
    req.method(verb);
  }
  req.target(path);
  req.set(http::field::host, ep.host_header());
  req.set(http::field::authorization, "Bearer " + ep.token);
  req.set(http::field::user_agent, "kith-cli");
  return req;
}

asio::awaitable<Result<nlohmann::json>> async_request(Endpoint ep, http::request<http::string_body> req,
                                                      Millis timeout) {
  beast::tcp_stream stream(co_await asio::this_coro::executor);
  if (auto connected = co_await async_connect(stream, ep, timeout); !connected) {
    co_return tl::unexpected(connected.error());
  }
  // One deadline for the whole exchange: it covers the write and every read that follows.
  stream.expires_after(timeout);
  beast::error_code ec;
  co_await http::async_write(stream, req, redirect(ec));
  if (ec) co_return tl::unexpected(exchange_error(ep, ec, timeout));

  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(MAX_RESPONSE_BODY);
  co_await http::async_read(stream, buffer, parser, redirect(ec));
  if (ec) co_return tl::unexpected(exchange_error(ep, ec, timeout));
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  co_return interpret(ep, parser.get().result_int(), parser.get().body());
}

using EventCallback = std::function<bool(const std::string&, const nlohmann::json&)>;

asio::awaitable<Status> async_follow(Endpoint ep, Millis timeout, Millis idle_timeout,
                                     const EventCallback& on_event) {
  beast::tcp_stream stream(co_await asio::this_coro::executor);
  if (auto connected = co_await async_connect(stream, ep, timeout); !connected) co_return connected;
  auto req = make_request(ep, "GET", std::string(EVENTS_PATH));
  req.set(http::field::accept, "text/event-stream");
  stream.expires_after(timeout);
  beast::error_code ec;
  co_await http::async_write(stream, req, redirect(ec));
  if (ec) co_return tl::unexpected(exchange_error(ep, ec, timeout));

  beast::flat_buffer buffer;
  http::response_parser<http::buffer_body> parser;
  // The stream is endless by design; the decoder bounds each event. (Not boost::none: Beast 1.74
  // then rejects any response that has a Content-Length, such as an error answer.)
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  co_await http::async_read_header(stream, buffer, parser, redirect(ec));
  if (ec) co_return tl::unexpected(exchange_error(ep, ec, timeout));
  const int status = parser.get().result_int();

  detail::SseDecoder decoder;
  const detail::SseDecoder::Callback forward = [&](const std::string& type, const std::string& data) {
    auto json = nlohmann::json::parse(data, nullptr, false);
    if (json.is_discarded()) json = data;  // not JSON: hand over the text as a JSON string
    return on_event(type, json);
  };
  std::array<char, 16 * 1024> chunk;
  std::string error_body;
  while (!parser.is_done()) {
    parser.get().body().data = chunk.data();
    parser.get().body().size = chunk.size();
    // On the stream, silence longer than the idle timeout means the daemon (or its keepalive) is gone.
    stream.expires_after(status == 200 ? idle_timeout : timeout);
    co_await http::async_read_some(stream, buffer, parser, redirect(ec));
    if (ec == http::error::need_buffer) ec = {};
    const std::size_t n = chunk.size() - parser.get().body().size;
    if (status != 200) {
      error_body.append(chunk.data(),
                        std::min(n, MAX_ERROR_BODY - std::min(MAX_ERROR_BODY, error_body.size())));
    } else {
      auto fed = decoder.feed({chunk.data(), n}, forward);
      if (fed == detail::SseDecoder::Status::stopped) co_return Status{};
      if (fed == detail::SseDecoder::Status::too_large) {
        co_return fail(errc::bad_response, "the kith daemon at " + ep.where() + " sent an oversized event");
      }
    }
    if (ec == http::error::end_of_stream) break;
    if (ec == beast::error::timeout && status == 200) {
      co_return fail(errc::timeout, "no data on the kith daemon's event stream at " + ep.where() + " for " +
                                        seconds_text(idle_timeout));
    }
    if (ec) co_return tl::unexpected(exchange_error(ep, ec, timeout));
  }
  if (status != 200) {
    auto answer = interpret(ep, status, error_body);
    if (!answer) co_return tl::unexpected(answer.error());
    co_return fail(errc::bad_response, "the kith daemon at " + ep.where() +
                                           " answered the event stream with HTTP " + std::to_string(status));
  }
  co_return fail(base::errc::unavailable, "the kith daemon at " + ep.where() + " closed the event stream");
}

// Runs one operation to completion on the Client's private io_context, on this thread.
template <class T>
Result<T> run_blocking(asio::io_context& ioc, asio::awaitable<Result<T>> op) {
  std::optional<Result<T>> out;
  std::exception_ptr error;
  asio::co_spawn(ioc, std::move(op), [&](std::exception_ptr e, Result<T> result) {
    if (e) {
      error = e;
    } else {
      out = std::move(result);
    }
  });
  ioc.restart();
  ioc.run();
  if (error) std::rethrow_exception(error);  // only from a caller's callback or allocation failure
  if (!out) return fail(base::errc::internal, "the API client operation did not complete");
  return std::move(*out);
}

}  // namespace

Client::Client(std::string host, std::uint16_t port, std::string token)
    : m_host(std::move(host)),
      m_port(port),
      m_token(std::move(token)),
      m_ioc(std::make_unique<asio::io_context>()) {}

Result<nlohmann::json> Client::request(const std::string& method, const std::string& path,
                                       const nlohmann::json* body) {
  Endpoint ep{m_host, m_port, m_token};
  auto req = make_request(ep, method, path);
  req.set(http::field::accept, "application/json");
  if (body) {
    req.set(http::field::content_type, "application/json");
    req.body() = body->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  req.keep_alive(false);  // one request per connection: simple, and the CLI makes few calls
  req.prepare_payload();
  return run_blocking(*m_ioc, async_request(std::move(ep), std::move(req), m_timeout));
}

Status Client::follow_events(
    std::function<bool(const std::string& type, const nlohmann::json& data)> on_event) {
  return run_blocking(
      *m_ioc, async_follow(Endpoint{m_host, m_port, m_token}, m_timeout, m_event_idle_timeout, on_event));
}

}  // namespace kith::api
