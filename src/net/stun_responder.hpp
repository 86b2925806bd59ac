#pragma once
// A STUN Binding server (RFC 8489) on UDP: a kith node reachable from the Internet tells its contacts'
// ICE agents (libnice) the address their datagrams came from, their server-reflexive candidate,
// without a public STUN server knowing who talks to whom.
//
// Only Binding requests are answered, with XOR-MAPPED-ADDRESS, SOFTWARE and FINGERPRINT and without
// MESSAGE-INTEGRITY: there are no credentials, and RFC 8489 lets Binding go unauthenticated. Anything
// else gets no answer, and no answer is ever much bigger than its request (the source address of a
// datagram can be forged: we must not be an amplifier). Requests in RFC 3489 form (no magic cookie),
// which libnice sends to discover its server-reflexive address, get MAPPED-ADDRESS instead.
//
// Threading: the socket lives on a strand of its own; close() and stats() may be called from any
// thread. Handlers keep the state alive, so the responder may be destroyed while they are pending.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.hpp"

namespace kith::net {

// The answer to one datagram from `sender`, or nullopt when it gets none (sans-IO: the responder's
// whole decision, fuzzed in fuzz/stun_fuzz.cpp).
std::optional<std::string> binding_answer(std::string_view datagram,
                                          const boost::asio::ip::udp::endpoint& sender);

class StunResponder {
 public:
  struct Stats {
    std::uint64_t answered = 0;  // Binding success responses sent
    std::uint64_t ignored = 0;   // every other datagram, and requests whose answer could not be sent
  };

  explicit StunResponder(boost::asio::io_context& io);
  ~StunResponder();  // closes
  StunResponder(const StunResponder&) = delete;
  StunResponder& operator=(const StunResponder&) = delete;

  // Binds "ip:port" (port 0: any free one) and starts answering; returns the bound port. "[::]:PORT"
  // is dual-stack, falling back to "0.0.0.0:PORT" without IPv6. Once per responder: a second call, or
  // one after close(), fails.
  Result<std::uint16_t> open(const std::string& listen);
  // Stops answering. The socket is closed on the strand, so a datagram being answered on another
  // thread at that moment may still get its answer; none received later does.
  void close();
  Stats stats() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> m_impl;
};

}  // namespace kith::net
