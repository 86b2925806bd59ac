#include "app/data_relays.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <memory>

#include "net/relay.hpp"

namespace kith::app {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// How long our libtorrent has to dial the local port before the circuit is dropped.
constexpr auto ACCEPT_TIMEOUT = std::chrono::seconds(20);

struct Attempt {
  explicit Attempt(asio::io_context& io) : strand(asio::make_strand(io)), acceptor(strand), timer(strand) {}
  asio::strand<asio::io_context::executor_type> strand;
  tcp::acceptor acceptor;
  asio::steady_timer timer;
  std::optional<tcp::socket> circuit;
};

}  // namespace

void DataRelays::start(std::string contact_id, std::string transfer_id) {
  m_open(contact_id, [this, transfer_id](Result<tcp::socket> circuit) {
    if (!circuit) {
      // Every minute while the sender is offline: not worth more than a debug line.
      spdlog::debug("{}: {}", transfer_id, circuit.error().message);
      return;
    }
    auto a = std::make_shared<Attempt>(m_io);
    a->circuit.emplace(std::move(*circuit));
    asio::post(a->strand, [this, a, transfer_id] {
      boost::system::error_code ec;
      a->acceptor.open(tcp::v4(), ec);
      if (!ec) a->acceptor.bind({asio::ip::make_address_v4("127.0.0.1"), 0}, ec);
      if (!ec) a->acceptor.listen(1, ec);
      if (ec) {
        spdlog::warn("{}: cannot open a local port for relayed data: {}", transfer_id, ec.message());
        return;
      }
      const auto port = a->acceptor.local_endpoint(ec).port();
      a->timer.expires_after(ACCEPT_TIMEOUT);
      a->timer.async_wait([a](boost::system::error_code ec) {
        if (ec) return;
        boost::system::error_code ignored;
        a->acceptor.close(ignored);  // the accept below ends with an error; the circuit is dropped
      });
      a->acceptor.async_accept([this, a, transfer_id](boost::system::error_code ec, tcp::socket local) {
        a->timer.cancel();
        boost::system::error_code ignored;
        a->acceptor.close(ignored);
        if (ec) {
          spdlog::info("{}: libtorrent did not take the relayed circuit: {}", transfer_id, ec.message());
          return;
        }
        spdlog::info("{}: its data runs through a relay", transfer_id);
        net::splice(m_io, std::move(local), std::move(*a->circuit), 0, [transfer_id](net::SpliceStats s) {
          spdlog::info("{}: relayed data circuit closed after {} bytes: {}", transfer_id, s.bytes, s.why);
        });
      });
      if (auto r = m_swarm.connect_peers(transfer_id, {"127.0.0.1:" + std::to_string(port)}, false); !r) {
        spdlog::info("{}: {}", transfer_id, r.error().message);
        a->acceptor.close(ec);
      }
    });
  });
}

}  // namespace kith::app
