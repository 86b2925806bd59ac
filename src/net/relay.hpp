#pragma once
// Relayed channels: a contact whose node both ends can reach joins two TCP connections into one pipe,
// and the two ends run their ordinary TLS channel through it. The relay sees ciphertext only; it cannot
// read or alter the channel, and the ends still check each other's pinned keys.
//
// Each end opens a TCP connection to the relay's channel listener and, instead of a TLS ClientHello,
// sends a 24-byte preamble: RELAY_MAGIC then the 16-byte token the relay handed out over its
// authenticated channels with both (docs/protocol/channel.md § Relays). The listener tells the two
// apart by the first byte (TLS records start with 0x16, the preamble with 'K'). When both halves of a
// token have arrived the relay splices them.
#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.hpp"

namespace kith::net {

using RelayToken = std::array<std::uint8_t, 16>;

inline constexpr std::string_view RELAY_MAGIC = "KITHRLY1";
inline constexpr std::size_t RELAY_PREAMBLE_SIZE = 24;

std::string relay_preamble(const RelayToken& token);
// The token of a preamble, or false when the bytes are not one.
bool parse_relay_preamble(std::string_view bytes, RelayToken& token);

// A plain TCP connection to "host:port" (names resolved), which first sends the relay preamble of
// `token` when there is one: the raw end of a data circuit (docs/protocol/channel.md § Relays), or the
// local hop from a circuit to a port of this host. `done` is called once, on the connection's strand,
// with the socket or an error (base::errc::unavailable) within `timeout`.
void connect_raw(boost::asio::io_context& io, const std::string& address, std::optional<RelayToken> token,
                 std::chrono::milliseconds timeout,
                 std::function<void(Result<boost::asio::ip::tcp::socket>)> done);

// How a connection to a channel listener opens: with TLS (nullopt; nothing is consumed) or with a relay
// preamble (its token; the preamble is consumed). `done` is called once, on the socket's executor, with
// an error (base::errc::bad_input) for anything else, a close, or nothing within `timeout`.
void read_opening(std::shared_ptr<boost::asio::ip::tcp::socket> socket, std::chrono::milliseconds timeout,
                  std::function<void(Result<std::optional<RelayToken>>)> done);

struct SpliceStats {
  std::uint64_t bytes = 0;  // both directions together
  std::string why;          // why it ended: a side closed, an error, the byte cap
};

// Copies what arrives on either socket to the other, unchanged, until either side closes, an error,
// or `max_bytes` (both directions together; 0: no cap) have passed; then closes both and calls `done`
// once (on the splice's own strand). The sockets may come from any executor of `io`.
void splice(boost::asio::io_context& io, boost::asio::ip::tcp::socket a, boost::asio::ip::tcp::socket b,
            std::uint64_t max_bytes, std::function<void(SpliceStats)> done);

}  // namespace kith::net
