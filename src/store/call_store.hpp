#pragma once
// Call history (migration 9, `calls`): each call as it ended, so `kith calls` and the web UI keep
// missed and past calls across restarts. Rows are written once, when the call ends; only the newest
// KEEP are kept.
#include <cstdint>
#include <string>
#include <vector>

#include "store/database.hpp"

namespace kith::store {

struct CallRecord {
  std::string id;  // 32 hex digits
  std::string contact_id, contact_name;
  std::string direction;  // outgoing | incoming
  bool video = false;
  std::string room;  // group call, or ''
  bool link = false;
  std::int64_t started_ms = 0, answered_ms = 0, connected_ms = 0, ended_ms = 0;
  std::string end_reason;
  std::string replaced_by;
};

class CallStore {
 public:
  static constexpr std::int64_t KEEP = 1000;
  explicit CallStore(Database& db) : m_db(db) {}

  Status put(const CallRecord& record);  // insert or replace; then drops all but the newest KEEP
  Result<std::vector<CallRecord>> recent(std::int64_t limit);  // newest first (by end)

 private:
  Database& m_db;
};

}  // namespace kith::store
