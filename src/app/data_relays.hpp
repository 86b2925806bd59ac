#pragma once
// File data through a relay, the node's side (docs/protocol/channel.md § Relays, data circuits). When a
// file offer we received has had no peer for a while — both people behind NATs, the channel relayed by
// a mutual contact — the file-offer service asks for a data circuit to the sender (the messenger's
// open_data_circuit); its socket is joined to a one-off 127.0.0.1 port that our libtorrent is told to
// dial for that transfer. The peer connection (TLS with the torrent's certificates) then runs end to end
// through the relay into the sender's SSL torrent listener; libtorrent verifies every piece, resumes
// where it stopped when a circuit ends, and the release pipeline scans the files as on every path.
//
// Threading: start() from any thread; each attempt lives on its own strand until its splice ends.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <string>

#include "base/async.hpp"
#include "swarm/session_host.hpp"

namespace kith::app {

class DataRelays {
 public:
  using OpenCircuit =
      std::function<void(std::string contact_id, base::Done<Result<boost::asio::ip::tcp::socket>>)>;
  DataRelays(boost::asio::io_context& io, swarm::SessionHost& swarm, OpenCircuit open)
      : m_io(io), m_swarm(swarm), m_open(std::move(open)) {}

  // One attempt: a circuit to `contact_id`, then a local port that transfer `transfer_id` dials.
  void start(std::string contact_id, std::string transfer_id);

 private:
  boost::asio::io_context& m_io;
  swarm::SessionHost& m_swarm;
  OpenCircuit m_open;
};

}  // namespace kith::app
