#pragma once
// Which pieces of one transfer are verified and on disk, for readers that must not read anything else
// (a scan of a file while it downloads). No libtorrent types: SessionHost feeds it from libtorrent's
// alerts and snapshots (detail/piece_gates.cpp), readers wait on it (FileReader), tests drive it directly.
//
// Two facts per piece. "Verified": it passed its hash check (piece_finished_alert). "Written": it is
// verified AND every block of it is in the file. They differ: libtorrent 2.0 hashes a piece from its
// in-memory store buffer and posts piece_finished_alert as soon as the hash matches, while blocks may
// still be queued for writing (its comment in torrent::we_have says otherwise; the picker's have state
// is what waits for the writes). A test read zeros that way. Only pictures (passed pieces minus the
// download queue: see detail/piece_gates.cpp) mark pieces written, so readers wait for "verified" here
// and then take pictures until their pieces are written (FileReader). Bytes of a piece that is not
// written are never handed out.
//
// Threading: every method may be called from any thread. Waiters block on a condition variable that
// every change wakes.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "base/error.hpp"

namespace kith::swarm {

class PieceGate {
 public:
  using Clock = std::chrono::steady_clock;

  // --- fed from libtorrent (SessionHost's strand, or the thread that adds the transfer) ---

  // A fresh picture: `num_pieces` in the torrent, `verified` the indices verified and written now. Taken by a
  // caller that read epoch() before looking at libtorrent; dropped if a check started since (the picture may
  // show pieces from before it). Pieces added since the picture was taken are kept (a picture is only
  // ever added to the set, never subtracted from it, within one epoch).
  void apply(std::uint64_t epoch, int num_pieces, const std::vector<int>& verified);
  std::uint64_t epoch() const;
  // One more verified piece (piece_finished_alert). Ignored while a check runs (see start_check).
  void add(int piece);
  // libtorrent (re)checks the files: forget every piece until the next apply() of a newer epoch, and
  // ignore add() until then (alerts still queued from before the check may name pieces it will reject).
  void start_check();
  // The transfer stopped (paused, error): waits for pieces that are not verified fail at once with
  // `why` until unsuspend(); reads of verified pieces still succeed.
  void suspend(std::string why);
  void unsuspend();
  // The transfer is gone (removed, session shut down): every wait fails, now and later.
  void close(std::string why);

  // --- readers ---

  bool known() const;  // a picture was applied (the number of pieces is known) and no check runs
  int num_pieces() const;
  bool has(int piece) const;      // verified
  bool written(int piece) const;  // verified and known to be in the file (from a picture)
  // Pieces in [first, last] that are not verified (all of them while nothing is known).
  std::vector<int> missing(int first, int last) const;
  // Blocks until every piece in [first, last] is verified: ok. Errors: swarm::errc::cancelled (closed,
  // suspended, or *cancel set — call wake() after setting it), swarm::errc::timed_out (deadline passed),
  // base::errc::invalid_argument (a range outside the torrent, once its size is known).
  Status wait(int first, int last, Clock::time_point deadline,
              const std::atomic<bool>* cancel = nullptr) const;
  // Wakes every waiter so it looks at its cancel flag again.
  void wake() const;

 private:
  bool all_verified(int first, int last) const;  // under m_mutex

  mutable std::mutex m_mutex;
  mutable std::condition_variable m_changed;
  std::vector<bool> m_verified;
  std::vector<bool> m_written;  // same size as m_verified
  int m_count = 0;              // verified pieces
  bool m_known = false;         // a picture of this epoch was applied
  bool m_checking = false;      // start_check() ran and no newer picture came yet
  std::uint64_t m_epoch = 0;
  std::string m_suspended;  // non-empty: why waits for missing pieces fail
  std::string m_closed;     // non-empty: why every wait fails
};

}  // namespace kith::swarm
