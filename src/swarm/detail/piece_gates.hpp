#pragma once
// The PieceGate of every transfer in a session, kept in step with libtorrent (see piece_gate.hpp).
//
// Fed by SessionHost: open() when a transfer is added or restored, observe() with every alert on the
// strand, close() on removal, close_all() at shutdown. Pictures of the verified pieces are taken when a
// transfer is opened, gets its metadata and finishes a check; piece_finished_alerts add to them.
//
// Ordering: alerts are handled in the order libtorrent posted them, and a picture is current when it is
// taken, so pieces named by alerts still queued behind it are simply added again. The one thing that
// takes pieces away is a recheck (state_changed_alert to checking): from it on, the gate forgets every
// piece and ignores piece alerts until torrent_checked_alert's fresh picture; a picture begun before the
// check started is dropped (PieceGate's epoch). Pause and error suspend the gate's waits for missing
// pieces; resume lifts that; removal and shutdown cancel every wait.
#include <libtorrent/fwd.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "swarm/piece_gate.hpp"

namespace kith::swarm::detail {

class PieceGates {
 public:
  // Registers the transfer `id` (if new) and takes a picture of its verified pieces.
  std::shared_ptr<PieceGate> open(const std::string& id, const lt::torrent_handle& h);
  // The gate of `id`, or null.
  std::shared_ptr<PieceGate> find(const std::string& id) const;
  void close(const std::string& id, const std::string& why);
  void close_all(const std::string& why);
  // Call for every alert, in order, on the strand. Only updates gates of transfers opened before.
  void observe(const lt::alert* a);

  // The pieces libtorrent has verified and written to disk now (for a picture; see the .cpp).
  static void picture(PieceGate& gate, const lt::torrent_handle& h);

 private:
  mutable std::mutex m_mutex;
  std::map<std::string, std::shared_ptr<PieceGate>> m_gates;
};

}  // namespace kith::swarm::detail
