#pragma once
// A folder's recent changes (docs/sync.md § Recent changes): the newest few, in memory only (as
// Syncthing's "Recent Changes"): a restart starts an empty list.
#include <cstddef>
#include <deque>
#include <vector>

#include "sync/views.hpp"

namespace kith::sync {

class RecentChanges {
 public:
  // Kept per folder: enough for a screenful of history and bounded whatever a scan or pull finds
  // (a first scan of 10,000 files keeps its last 100).
  static constexpr std::size_t MAX = 100;

  void add(ChangeView change) {
    m_changes.push_back(std::move(change));
    while (m_changes.size() > MAX) m_changes.pop_front();
  }
  // Newest first.
  std::vector<ChangeView> list() const { return {m_changes.rbegin(), m_changes.rend()}; }
  std::size_t size() const { return m_changes.size(); }

 private:
  std::deque<ChangeView> m_changes;  // oldest first
};

}  // namespace kith::sync
