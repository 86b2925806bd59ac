#include "swarm/detail/piece_gates.hpp"

#include <algorithm>
#include <libtorrent/alert_types.hpp>
#include <libtorrent/torrent_handle.hpp>
#include <libtorrent/torrent_status.hpp>

#include "swarm/detail/source_data.hpp"

namespace kith::swarm::detail {
namespace {

std::string id_of(const lt::torrent_handle& h) { return to_hashes(h.info_hashes()).id(); }

}  // namespace

void PieceGates::picture(PieceGate& gate, const lt::torrent_handle& h) {
  if (!h.is_valid()) return;
  const auto epoch = gate.epoch();
  // torrent_status::pieces counts a piece as soon as it passed its hash check, which can be before its
  // last blocks are written. Such a piece is still in the download queue (it leaves when its last block
  // is written), so: the passed pieces, then the queue, in that order, minus the queue. A piece that
  // passes between the two calls is in neither or only in the queue, so it is left out, and its
  // piece_finished_alert adds it later.
  lt::torrent_status st;
  try {
    st = h.status(lt::torrent_handle::query_pieces);
  } catch (const std::exception&) {
    return;  // removed meanwhile
  }
  if (!st.has_metadata || st.pieces.empty()) return;
  // In seed mode libtorrent trusts the files without having checked them: nothing is verified.
  if (st.flags & lt::torrent_flags::seed_mode) {
    gate.apply(epoch, st.pieces.size(), {});
    return;
  }
  std::vector<lt::partial_piece_info> queue;
  try {
    queue = h.get_download_queue();
  } catch (const std::exception&) {
    return;
  }
  std::vector<int> in_queue;
  for (const auto& q : queue) in_queue.push_back(static_cast<int>(q.piece_index));
  std::sort(in_queue.begin(), in_queue.end());
  std::vector<int> verified;
  for (int p = 0; p < st.pieces.size(); ++p) {
    if (st.pieces[lt::piece_index_t{p}] && !std::binary_search(in_queue.begin(), in_queue.end(), p))
      verified.push_back(p);
  }
  gate.apply(epoch, st.pieces.size(), verified);
}

std::shared_ptr<PieceGate> PieceGates::open(const std::string& id, const lt::torrent_handle& h) {
  std::shared_ptr<PieceGate> gate;
  {
    std::lock_guard lock(m_mutex);
    auto& slot = m_gates[id];
    if (!slot) slot = std::make_shared<PieceGate>();
    gate = slot;
  }
  picture(*gate, h);
  return gate;
}

std::shared_ptr<PieceGate> PieceGates::find(const std::string& id) const {
  std::lock_guard lock(m_mutex);
  auto it = m_gates.find(id);
  return it == m_gates.end() ? nullptr : it->second;
}

void PieceGates::close(const std::string& id, const std::string& why) {
  std::shared_ptr<PieceGate> gate;
  {
    std::lock_guard lock(m_mutex);
    auto it = m_gates.find(id);
    if (it == m_gates.end()) return;
    gate = std::move(it->second);
    m_gates.erase(it);
  }
  gate->close(why);
}

void PieceGates::close_all(const std::string& why) {
  std::map<std::string, std::shared_ptr<PieceGate>> gates;
  {
    std::lock_guard lock(m_mutex);
    gates.swap(m_gates);
  }
  for (auto& [id, gate] : gates) gate->close(why);
}

void PieceGates::observe(const lt::alert* a) {
  if (auto* rm = lt::alert_cast<lt::torrent_removed_alert>(a)) {  // its handle no longer knows the hashes
    close(to_hashes(rm->info_hashes).id(), "the transfer was removed");
    return;
  }
  const auto* ta = dynamic_cast<const lt::torrent_alert*>(a);
  if (!ta) return;
  // Only a few alert types matter; look the gate up only for those.
  const int type = a->type();
  if (type != lt::piece_finished_alert::alert_type && type != lt::torrent_checked_alert::alert_type &&
      type != lt::metadata_received_alert::alert_type && type != lt::state_changed_alert::alert_type &&
      type != lt::torrent_paused_alert::alert_type && type != lt::torrent_resumed_alert::alert_type &&
      type != lt::torrent_error_alert::alert_type) {
    return;
  }
  auto gate = find(id_of(ta->handle));
  if (!gate) return;
  if (auto* pf = lt::alert_cast<lt::piece_finished_alert>(a)) {
    gate->add(static_cast<int>(pf->piece_index));
  } else if (lt::alert_cast<lt::torrent_checked_alert>(a) || lt::alert_cast<lt::metadata_received_alert>(a)) {
    picture(*gate, ta->handle);
  } else if (auto* sc = lt::alert_cast<lt::state_changed_alert>(a)) {
    if (sc->state == lt::torrent_status::checking_files ||
        sc->state == lt::torrent_status::checking_resume_data)
      gate->start_check();
  } else if (lt::alert_cast<lt::torrent_paused_alert>(a)) {
    gate->suspend("the transfer is paused");
  } else if (lt::alert_cast<lt::torrent_resumed_alert>(a)) {
    gate->unsuspend();
  } else if (auto* te = lt::alert_cast<lt::torrent_error_alert>(a)) {
    gate->suspend("the transfer stopped with an error: " + te->error.message());
  }
}

}  // namespace kith::swarm::detail
