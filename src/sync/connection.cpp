#include "sync/connection.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

namespace kith::sync {
namespace asio = boost::asio;
namespace {
std::atomic<std::uint64_t> g_serial{1};
}

Connection::Connection(base::Strand strand, Stream stream, std::string device, std::string remote,
                       bool incoming)
    : m_strand(strand),
      m_stream(std::move(stream)),
      m_device(std::move(device)),
      m_remote(std::move(remote)),
      m_incoming(incoming),
      m_serial(g_serial++),
      m_timer(strand) {
  m_last_rx = m_last_tx = std::chrono::steady_clock::now();
}

void Connection::hello(const bep::pb::Hello& ours, std::function<void(Result<bep::pb::Hello>)> done) {
  auto shared = std::make_shared<std::function<void(Result<bep::pb::Hello>)>>(std::move(done));
  asio::post(m_strand, [self = shared_from_this(), bytes = bep::encode_hello(ours), shared]() mutable {
    self->m_timer.expires_after(HELLO_TIMEOUT);
    self->m_timer.async_wait([self, shared](boost::system::error_code ec) {
      if (ec || self->m_started || !*shared) return;
      auto d = std::exchange(*shared, nullptr);
      self->shut("no Hello within 10 s");
      d(fail(base::make_error_code(base::errc::unavailable), "the device sent no BEP Hello within 10 s"));
    });
    self->enqueue(std::move(bytes));
    self->read_hello(shared);
  });
}

void Connection::read_hello(std::shared_ptr<std::function<void(Result<bep::pb::Hello>)>> done) {
  auto hello = bep::take_hello(m_buffer);
  if (!hello || *hello) {
    m_timer.cancel();
    if (!*done) return;
    auto d = std::exchange(*done, nullptr);
    if (!hello) {
      shut(hello.error().message);
      d(tl::unexpected(hello.error()));
    } else {
      d(std::move(**hello));
    }
    return;
  }
  m_stream.async_read_some(asio::buffer(m_read_buffer),
                           asio::bind_executor(m_strand, [self = shared_from_this(), done](
                                                             boost::system::error_code ec, std::size_t n) {
                             if (ec || self->m_closed) {
                               if (!*done) return;
                               auto d = std::exchange(*done, nullptr);
                               self->shut(ec ? ec.message() : "closed");
                               d(fail(base::make_error_code(base::errc::unavailable),
                                      "the connection closed before the BEP Hello: " +
                                          (ec ? ec.message() : std::string("closed"))));
                               return;
                             }
                             self->m_buffer.append(self->m_read_buffer.data(), n);
                             self->read_hello(done);
                           }));
}

void Connection::start(MessageHandler on_message, CloseHandler on_close) {
  asio::post(m_strand, [self = shared_from_this(), on_message = std::move(on_message),
                        on_close = std::move(on_close)]() mutable {
    self->m_on_message = std::move(on_message);
    self->m_on_close = std::move(on_close);
    self->m_started = true;
    if (self->m_closed) {
      auto c = std::exchange(self->m_on_close, nullptr);
      if (c) c("closed during the Hello");
      return;
    }
    self->m_last_rx = std::chrono::steady_clock::now();
    self->tick();
    self->read();
  });
}

void Connection::read() {
  // Deliver what is already buffered before reading more (a read may bring several messages).
  while (!m_closed && !m_paused) {
    auto msg = bep::take_message(m_buffer);
    if (!msg) {
      spdlog::warn("sync: {} ({}) sent a malformed message: {}; closing", m_device.substr(0, 7), m_remote,
                   msg.error().message);
      shut("malformed message: " + msg.error().message);
      return;
    }
    if (!*msg) break;
    if ((*msg)->type == bep::pb::MESSAGE_TYPE_PING) continue;
    if ((*msg)->type == bep::pb::MESSAGE_TYPE_CLOSE) {
      auto c = bep::parse_body<bep::pb::Close>(**msg);
      shut("the device closed the connection: " + (c ? c->reason().substr(0, 200) : std::string("?")));
      return;
    }
    if (m_on_message) m_on_message(std::move(**msg));
  }
  if (m_closed || m_paused || m_reading) return;
  m_reading = true;
  m_stream.async_read_some(
      asio::buffer(m_read_buffer),
      asio::bind_executor(m_strand, [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
        self->m_reading = false;
        if (self->m_closed) return;
        if (ec) {
          self->shut(ec == asio::error::eof ? "the device closed the connection" : ec.message());
          return;
        }
        self->m_last_rx = std::chrono::steady_clock::now();
        self->m_buffer.append(self->m_read_buffer.data(), n);
        self->read();
      }));
}

void Connection::pause_reading() { m_paused = true; }

void Connection::resume_reading() {
  if (!m_paused) return;
  m_paused = false;
  // Not from inside a message handler's call stack: read() delivers buffered messages, which may pause
  // again.
  asio::post(m_strand, [self = shared_from_this()] { self->read(); });
}

void Connection::send(bep::pb::MessageType type, const google::protobuf::MessageLite& message) {
  if (m_closed) return;
  enqueue(bep::encode_message(type, message, type != bep::pb::MESSAGE_TYPE_RESPONSE));
}

void Connection::enqueue(std::string bytes) {
  m_queued_bytes += bytes.size();
  asio::post(m_strand, [self = shared_from_this(), bytes = std::move(bytes)]() mutable {
    if (self->m_closed) {
      self->m_queued_bytes -= bytes.size();
      return;
    }
    self->m_queue.push_back(std::move(bytes));
    if (self->m_queued_bytes > MAX_QUEUED_BYTES) {
      self->shut("the device reads too slowly (over 64 MiB queued)");
      return;
    }
    self->write();
  });
}

void Connection::write() {
  if (m_writing || m_queue.empty() || m_closed) return;
  m_writing = true;
  asio::async_write(
      m_stream, asio::buffer(m_queue.front()),
      asio::bind_executor(m_strand, [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
        self->m_writing = false;
        if (self->m_closed) return;
        self->m_queued_bytes -= self->m_queue.front().size();
        self->m_queue.pop_front();
        if (ec) {
          self->shut(ec.message());
          return;
        }
        self->m_last_tx = std::chrono::steady_clock::now();
        if (self->m_queue.empty() && !self->m_closing.empty()) {
          self->shut(self->m_closing);
          return;
        }
        self->write();
      }));
}

void Connection::tick() {
  if (m_closed) return;
  const auto now = std::chrono::steady_clock::now();
  if (!m_closing.empty()) return;
  if (m_paused) m_last_rx = now;  // we are the slow side: its silence is ours
  if (now - m_last_rx >= IDLE_TIMEOUT) {
    shut("nothing received for 300 s");
    return;
  }
  if (now - m_last_tx >= PING_INTERVAL && m_queue.empty()) send(bep::pb::MESSAGE_TYPE_PING, bep::pb::Ping{});
  m_timer.expires_after(std::chrono::seconds(5));
  m_timer.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (!ec) self->tick();
  });
}

void Connection::close(const std::string& why) {
  asio::post(m_strand, [self = shared_from_this(), why] {
    if (self->m_closed || !self->m_closing.empty()) return;
    // Tell the peer why, then shut once the queue is written (or after a second at most).
    bep::pb::Close c;
    c.set_reason(why);
    self->m_closing = why;
    self->m_queue.push_back(bep::encode_message(bep::pb::MESSAGE_TYPE_CLOSE, c, false));
    self->m_queued_bytes += self->m_queue.back().size();
    self->m_timer.expires_after(std::chrono::seconds(1));
    self->m_timer.async_wait([self](boost::system::error_code) { self->shut(self->m_closing); });
    self->write();
  });
}

void Connection::shut(const std::string& why) {
  if (m_closed) return;
  m_closed = true;
  m_timer.cancel();
  boost::system::error_code ignored;
  m_stream.next_layer().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  m_stream.next_layer().close(ignored);
  m_queue.clear();
  m_queued_bytes = 0;
  if (auto c = std::exchange(m_on_close, nullptr)) c(why);
}

}  // namespace kith::sync
