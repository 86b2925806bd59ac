#include "api/http_server.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/file_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <exception>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "api/detail/pipeline.hpp"
#include "api/errors.hpp"
#include "api/uploads.hpp"

namespace kith::api {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace detail {

// One accepted socket. Its stream's executor is the connection's strand; every member is touched
// only there (stop() posts close() to it).
struct Connection {
  explicit Connection(tcp::socket socket) : stream(std::move(socket)) {}

  void close() {
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream.close();
    if (subscription) subscription->close();
  }

  beast::tcp_stream stream;
  std::shared_ptr<EventHub::Subscription> subscription;  // while serving the event stream
};

// Shared by the HttpServer object and every coroutine it started, so stop() can run from any thread
// and the last coroutine, not the destructor, frees it.
struct ServerState {
  ServerState(asio::io_context& ioc, ServerOptions options, const Router& router, EventHub& hub)
      : ioc(ioc), options(std::move(options)), router(router), hub(hub), acceptor(asio::make_strand(ioc)) {}

  asio::io_context& ioc;
  const ServerOptions options;
  const Router& router;
  EventHub& hub;
  tcp::acceptor acceptor;  // on its own strand
  std::atomic<std::uint16_t> port{0};
  std::atomic<bool> started{false};
  std::atomic<bool> stopped{false};

  std::mutex mutex;  // guards the two fields below
  std::map<std::uint64_t, std::weak_ptr<Connection>> connections;
  std::uint64_t next_id = 0;
};

}  // namespace detail

struct HttpServer::State : detail::ServerState {
  using ServerState::ServerState;
};

namespace {

using detail::Connection;
using detail::ServerState;

constexpr auto ACCEPT_BACKOFF = std::chrono::milliseconds(100);  // after e.g. EMFILE, instead of spinning
constexpr auto LINGER_TIME = std::chrono::seconds(2);
constexpr std::size_t LINGER_BYTES = 4 << 20;

void log_exception(const char* what, std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    spdlog::error("api: {} failed: {}", what, ex.what());
  } catch (...) {
    spdlog::error("api: {} failed with a non-standard exception", what);
  }
}

// A parse failure worth answering with 400/413, as opposed to a vanished or timed-out peer.
bool is_malformed(beast::error_code ec) {
  return ec.category() == beast::error_code(http::error::end_of_stream).category() &&
         ec != http::error::end_of_stream;
}

asio::awaitable<bool> async_send(beast::tcp_stream& stream, const Response& response, unsigned version,
                                 bool keep_alive, std::chrono::seconds timeout) {
  auto message = detail::to_http_response(response, version, keep_alive);
  beast::error_code ec;
  stream.expires_after(timeout);
  co_await http::async_write(stream, message, asio::redirect_error(asio::use_awaitable, ec));
  co_return !ec;
}

// After refusing a request whose body we did not read, closing at once would make the kernel send
// RST for the unread bytes, and the client could lose our response. So: half-close, discard what
// the client still sends (bounded in time and bytes), then close.
asio::awaitable<void> async_linger_close(Connection& conn) {
  beast::error_code ec;
  conn.stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  conn.stream.expires_after(LINGER_TIME);
  std::array<char, 4096> sink;
  std::size_t total = 0;
  while (!ec && total < LINGER_BYTES) {
    total += co_await conn.stream.async_read_some(asio::buffer(sink),
                                                  asio::redirect_error(asio::use_awaitable, ec));
  }
  conn.close();
}

// Serves GET /api/v1/events until the client goes away, the subscription is dropped, or stop().
asio::awaitable<void> async_stream_events(std::shared_ptr<ServerState> state,
                                          std::shared_ptr<Connection> conn, unsigned version) {
  static const std::string SUBSCRIBED = ": subscribed\n\n";
  static const std::string KEEPALIVE = ": keepalive\n\n";
  static const std::string DROPPED = ": dropped: this client fell too far behind\n\n";
  auto& stream = conn->stream;
  const auto timeout = state->options.io_timeout;
  // Subscribe before answering, so an event published after the client saw the header is delivered.
  auto sub = state->hub.subscribe(stream.get_executor());
  conn->subscription = sub;

  // No Content-Length and "Connection: close": the body runs until either side closes.
  http::response<http::empty_body> header{http::status::ok, version};
  header.set(http::field::content_type, "text/event-stream");
  header.set(http::field::cache_control, "no-store");
  header.set("X-Content-Type-Options", "nosniff");
  header.keep_alive(false);
  beast::error_code ec;
  stream.expires_after(timeout);
  co_await http::async_write(stream, header, asio::redirect_error(asio::use_awaitable, ec));
  if (!ec)
    co_await asio::async_write(stream, asio::buffer(SUBSCRIBED),
                               asio::redirect_error(asio::use_awaitable, ec));

  while (!ec) {
    auto frames = sub->take();
    if (!frames.empty()) {
      std::vector<asio::const_buffer> buffers;
      buffers.reserve(frames.size());
      for (const auto& frame : frames) buffers.push_back(asio::buffer(*frame));
      stream.expires_after(timeout);
      co_await asio::async_write(stream, buffers, asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    stream.expires_never();  // idle is fine here; the keepalive writes detect a vanished client
    auto wake = co_await sub->async_wait(state->options.sse_keepalive);
    if (wake == EventHub::Subscription::Wake::closed) {
      if (sub->dropped()) {
        spdlog::warn("api: dropped an event subscriber that fell more than {} events behind",
                     EventHub::MAX_BACKLOG);
        stream.expires_after(timeout);
        co_await asio::async_write(stream, asio::buffer(DROPPED),
                                   asio::redirect_error(asio::use_awaitable, ec));
      }
      break;
    }
    if (wake == EventHub::Subscription::Wake::keepalive) {
      stream.expires_after(timeout);
      co_await asio::async_write(stream, asio::buffer(KEEPALIVE),
                                 asio::redirect_error(asio::use_awaitable, ec));
    }
  }
  sub->close();
}

struct UploadResult {
  std::optional<Response> response;  // none: the connection is gone
  bool body_read = false;            // false: the body was refused unread (close after answering)
};

// PUT /api/v1/uploads/{id}/files?path=REL: streams the body into a new file of that upload, so a
// large file never sits in memory. The file must not exist yet (no overwrites); a body that does not
// arrive completely leaves no file behind. The read limit is renewed per chunk (io_timeout without
// progress), not for the whole body, so a large upload is not cut off by a fixed deadline.
asio::awaitable<UploadResult> async_receive_upload(Connection& conn, beast::flat_buffer& buffer,
                                                   detail::RequestParser& parser,
                                                   const ServerOptions& options) {
  if (!options.uploads) co_return UploadResult{Response::error(404, "not_found", "uploads are not enabled")};
  auto target = parser.get().target();
  auto request = make_request("PUT", std::string_view(target.data(), target.size()), "");
  if (!request) co_return UploadResult{Response::error(400, "bad_request", request.error().message)};
  constexpr std::size_t PREFIX = std::string_view("/api/v1/uploads/").size();
  constexpr std::size_t SUFFIX = std::string_view("/files").size();
  // is_upload_request() matched "/api/v1/uploads/{id}/files" with no '/' in {id}.
  auto id = percent_decode(
      std::string_view(request->path).substr(PREFIX, request->path.size() - PREFIX - SUFFIX), false);
  if (!id) co_return UploadResult{Response::error(400, "bad_request", id.error().message)};
  auto rel = request->query.count("path") ? request->query.at("path") : std::string();
  auto file = options.uploads->prepare_file(*id, rel);
  if (!file)
    co_return UploadResult{
        Response::error(file.error().code == base::errc::not_found ? 404 : 400, file.error())};

  http::request_parser<http::file_body> body_parser(std::move(parser));
  body_parser.body_limit(options.max_upload);
  beast::error_code ec;
  body_parser.get().body().open(file->c_str(), beast::file_mode::write_new, ec);
  if (ec) {
    co_return UploadResult{
        ec == boost::system::errc::file_exists
            ? Response::error(409, "conflict", rel + " was already uploaded")
            : Response::error(500, "base.io_error", "cannot create " + rel + ": " + ec.message())};
  }
  while (!ec && !body_parser.is_done()) {
    conn.stream.expires_after(options.io_timeout);
    co_await http::async_read_some(conn.stream, buffer, body_parser,
                                   asio::redirect_error(asio::use_awaitable, ec));
  }
  const auto size = body_parser.get().body().file().size(ec);
  body_parser.get().body().file().close(ec);
  if (!body_parser.is_done()) {
    std::error_code fs_ec;
    std::filesystem::remove(*file, fs_ec);  // half a file must not end up shared
    spdlog::warn("api: upload of {} did not complete", rel);
    co_return UploadResult{};
  }
  co_return UploadResult{Response{201, {{"path", rel}, {"size", size}}, {}}, true};
}

asio::awaitable<void> async_session(std::shared_ptr<ServerState> state, std::shared_ptr<Connection> conn,
                                    std::uint64_t id) {
  const auto& options = state->options;
  const std::uint16_t port = state->port;
  auto& stream = conn->stream;
  beast::flat_buffer buffer;
  bool linger = false;  // closing after a refusal whose body may still be in flight

  while (!state->stopped) {
    detail::RequestParser parser;
    detail::prepare_parser(parser);
    beast::error_code ec;
    stream.expires_after(options.io_timeout);  // also the keep-alive idle limit
    co_await http::async_read_header(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (is_malformed(ec)) {
        co_await async_send(stream, detail::parse_error_response(ec), 11, false, options.io_timeout);
        linger = true;
      }
      break;
    }
    const unsigned version = parser.get().version();
    auto admission = detail::admit(parser, options, port);
    if (admission.refusal) {
      co_await async_send(stream, *admission.refusal, version, false, options.io_timeout);
      linger = true;
      break;
    }
    // curl and others wait for this before sending a large body.
    if (beast::iequals(parser.get()[http::field::expect], "100-continue")) {
      http::response<http::empty_body> go_on{http::status::continue_, version};
      co_await http::async_write(stream, go_on, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
    }
    if (detail::is_upload_request(parser.get())) {
      const bool keep_alive = parser.get().keep_alive();
      auto upload = co_await async_receive_upload(*conn, buffer, parser, options);
      if (!upload.response) break;  // the client vanished mid-body
      const bool sent = co_await async_send(stream, *upload.response, version, keep_alive && upload.body_read,
                                            options.io_timeout);
      if (!upload.body_read) linger = true;
      if (!sent || !keep_alive || !upload.body_read) break;
      continue;
    }
    co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (is_malformed(ec)) {
        co_await async_send(stream, detail::parse_error_response(ec), version, false, options.io_timeout);
        linger = true;
      }
      break;
    }

    auto request = parser.release();
    if (detail::is_event_stream_request(request)) {
      co_await async_stream_events(state, conn, version);
      break;
    }
    const bool keep_alive = request.keep_alive();
    Response response =
        co_await detail::route(std::move(request), state->router, admission.auth, options, port);
    const bool sent = co_await async_send(stream, response, version, keep_alive, options.io_timeout);
    if (!sent || !keep_alive) break;
  }

  if (linger && !state->stopped) {
    co_await async_linger_close(*conn);
  } else {
    conn->close();
  }
  std::lock_guard lock(state->mutex);
  state->connections.erase(id);
}

asio::awaitable<void> async_accept_loop(std::shared_ptr<ServerState> state) {
  asio::steady_timer backoff(state->acceptor.get_executor());
  while (!state->stopped) {
    // Each connection gets its own strand, so the server is also correct with several io threads.
    tcp::socket socket(asio::make_strand(state->ioc));
    beast::error_code ec;
    co_await state->acceptor.async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
    if (state->stopped || ec == asio::error::operation_aborted) co_return;
    if (ec) {
      spdlog::warn("api: accept failed: {}", ec.message());
      backoff.expires_after(ACCEPT_BACKOFF);
      co_await backoff.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    auto conn = std::make_shared<Connection>(std::move(socket));
    std::uint64_t id = 0;
    {
      std::lock_guard lock(state->mutex);
      id = ++state->next_id;
      state->connections.emplace(id, conn);
    }
    asio::co_spawn(conn->stream.get_executor(), async_session(state, conn, id),
                   [](std::exception_ptr e) { log_exception("API connection", e); });
  }
}

// Supervises the accept loop: an unexpected exception is logged and the loop restarts after a pause.
void spawn_accept_loop(std::shared_ptr<ServerState> state) {
  asio::co_spawn(state->acceptor.get_executor(), async_accept_loop(state), [state](std::exception_ptr e) {
    if (!e) return;
    log_exception("API accept loop", e);
    if (state->stopped) return;
    auto timer =
        std::make_shared<asio::steady_timer>(state->acceptor.get_executor(), std::chrono::seconds(1));
    timer->async_wait([state, timer](beast::error_code) {
      if (!state->stopped) spawn_accept_loop(state);
    });
  });
}

}  // namespace

HttpServer::HttpServer(asio::io_context& ioc, ServerOptions options, const Router& router, EventHub& hub)
    : m_state(std::make_shared<State>(ioc, std::move(options), router, hub)) {}

HttpServer::~HttpServer() { stop(); }

Result<std::uint16_t> HttpServer::start() {
  auto& st = *m_state;
  if (st.options.token.empty()) {
    return fail(base::errc::invalid_argument,
                "the API token is empty; refusing to serve the API unauthenticated");
  }
  if (st.started.exchange(true))
    return fail(base::errc::invalid_argument, "the API server was already started");

  beast::error_code ec;
  auto address = asio::ip::make_address(st.options.address, ec);
  if (ec) {
    return fail(base::errc::invalid_argument,
                "invalid API listen address '" + st.options.address + "': " + ec.message());
  }
  const tcp::endpoint endpoint(address, st.options.port);
  const std::string where = st.options.address + ":" + std::to_string(st.options.port);
  // Not yet shared with any coroutine, so the acceptor can be set up from this thread.
  st.acceptor.open(endpoint.protocol(), ec);
  if (!ec) st.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) st.acceptor.bind(endpoint, ec);
  if (!ec) st.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    beast::error_code ignored;
    st.acceptor.close(ignored);
    return fail(errc::listen_failed, "cannot listen for the API on " + where + ": " + ec.message());
  }
  auto local = st.acceptor.local_endpoint(ec);
  if (ec) return fail(errc::listen_failed, "cannot read the API's bound port: " + ec.message());
  st.port = local.port();
  if (!address.is_loopback()) {
    spdlog::warn("api: listening on non-loopback address {}; the API token is the only protection",
                 st.options.address);
  }
  spdlog::info("api: listening on {}:{}", st.options.address, local.port());
  spawn_accept_loop(m_state);
  return local.port();
}

void HttpServer::stop() {
  auto st = m_state;
  if (st->stopped.exchange(true)) return;
  asio::post(st->acceptor.get_executor(), [st] {
    beast::error_code ignored;
    st->acceptor.close(ignored);
  });
  std::lock_guard lock(st->mutex);
  for (auto& [id, weak] : st->connections) {
    if (auto conn = weak.lock()) asio::post(conn->stream.get_executor(), [conn] { conn->close(); });
  }
}

std::uint16_t HttpServer::port() const { return m_state->port; }

}  // namespace kith::api
