#include "swarm/piece_gate.hpp"

#include "swarm/types.hpp"

namespace kith::swarm {

void PieceGate::apply(std::uint64_t epoch, int num_pieces, const std::vector<int>& verified) {
  {
    std::lock_guard lock(m_mutex);
    if (!m_closed.empty() || epoch != m_epoch || num_pieces < 0) return;
    if (m_verified.size() < static_cast<std::size_t>(num_pieces)) {
      m_verified.resize(num_pieces, false);
      m_written.resize(num_pieces, false);
    }
    for (int p : verified) {
      if (p < 0 || p >= num_pieces) continue;
      m_written[static_cast<std::size_t>(p)] = true;
      if (m_verified[static_cast<std::size_t>(p)]) continue;
      m_verified[static_cast<std::size_t>(p)] = true;
      ++m_count;
    }
    m_known = true;
    m_checking = false;
  }
  m_changed.notify_all();
}

std::uint64_t PieceGate::epoch() const {
  std::lock_guard lock(m_mutex);
  return m_epoch;
}

void PieceGate::add(int piece) {
  {
    std::lock_guard lock(m_mutex);
    if (!m_closed.empty() || m_checking || piece < 0) return;
    // Before the first picture the size is not known yet; a later apply() keeps what was added.
    if (static_cast<std::size_t>(piece) >= m_verified.size()) {
      if (m_known) return;  // not a piece of this torrent
      m_verified.resize(static_cast<std::size_t>(piece) + 1, false);
      m_written.resize(m_verified.size(), false);
    }
    if (m_verified[static_cast<std::size_t>(piece)]) return;
    m_verified[static_cast<std::size_t>(piece)] = true;
    ++m_count;
  }
  m_changed.notify_all();
}

void PieceGate::start_check() {
  {
    std::lock_guard lock(m_mutex);
    ++m_epoch;
    m_verified.assign(m_verified.size(), false);
    m_written.assign(m_written.size(), false);
    m_count = 0;
    m_known = false;
    m_checking = true;
  }
  m_changed.notify_all();
}

void PieceGate::suspend(std::string why) {
  {
    std::lock_guard lock(m_mutex);
    m_suspended = why.empty() ? "stopped" : std::move(why);
  }
  m_changed.notify_all();
}

void PieceGate::unsuspend() {
  std::lock_guard lock(m_mutex);
  m_suspended.clear();
}

void PieceGate::close(std::string why) {
  {
    std::lock_guard lock(m_mutex);
    m_closed = why.empty() ? "closed" : std::move(why);
  }
  m_changed.notify_all();
}

bool PieceGate::known() const {
  std::lock_guard lock(m_mutex);
  return m_known;
}

int PieceGate::num_pieces() const {
  std::lock_guard lock(m_mutex);
  return m_known ? static_cast<int>(m_verified.size()) : 0;
}

bool PieceGate::has(int piece) const {
  std::lock_guard lock(m_mutex);
  return piece >= 0 && static_cast<std::size_t>(piece) < m_verified.size() &&
         m_verified[static_cast<std::size_t>(piece)];
}

bool PieceGate::written(int piece) const {
  std::lock_guard lock(m_mutex);
  return piece >= 0 && static_cast<std::size_t>(piece) < m_written.size() &&
         m_written[static_cast<std::size_t>(piece)];
}

std::vector<int> PieceGate::missing(int first, int last) const {
  std::lock_guard lock(m_mutex);
  std::vector<int> out;
  for (int p = first; p <= last; ++p) {
    if (p < 0 || static_cast<std::size_t>(p) >= m_verified.size() || !m_verified[static_cast<std::size_t>(p)])
      out.push_back(p);
  }
  return out;
}

bool PieceGate::all_verified(int first, int last) const {
  if (first < 0 || static_cast<std::size_t>(last) >= m_verified.size()) return false;
  for (int p = first; p <= last; ++p) {
    if (!m_verified[static_cast<std::size_t>(p)]) return false;
  }
  return true;
}

Status PieceGate::wait(int first, int last, Clock::time_point deadline,
                       const std::atomic<bool>* cancel) const {
  std::unique_lock lock(m_mutex);
  for (;;) {
    if (!m_closed.empty()) return fail(make_error_code(errc::cancelled), m_closed);
    if (cancel && cancel->load()) return fail(make_error_code(errc::cancelled), "the read was cancelled");
    if (first < 0 || last < first || (m_known && static_cast<std::size_t>(last) >= m_verified.size())) {
      return fail(base::make_error_code(base::errc::invalid_argument),
                  "pieces " + std::to_string(first) + "-" + std::to_string(last) + " are not in the torrent");
    }
    if (all_verified(first, last)) return {};
    if (!m_suspended.empty()) return fail(make_error_code(errc::cancelled), m_suspended);
    if (deadline == Clock::time_point::max()) {  // no deadline (wait_until would overflow)
      m_changed.wait(lock);
    } else if (m_changed.wait_until(lock, deadline) == std::cv_status::timeout && Clock::now() >= deadline) {
      if (all_verified(first, last)) return {};
      return fail(make_error_code(errc::timed_out),
                  "pieces " + std::to_string(first) + "-" + std::to_string(last) + " did not arrive in time");
    }
  }
}

void PieceGate::wake() const { m_changed.notify_all(); }

}  // namespace kith::swarm
