#pragma once
// The local block list in HOME/state.sqlite: one row per blocked info-hash or peer ID. The store
// keeps what it is given; `safety` decides what a valid, normalised value is.
#include <cstdint>
#include <string>
#include <vector>

#include "store/database.hpp"

namespace kith::store {

struct BlockRecord {
  std::string kind;  // "info_hash" or "peer_id"
  std::string value;
  std::string reason;
  std::int64_t added_at = 0;
};

class BlockStore {
 public:
  explicit BlockStore(Database& db) : m_db(db) {}

  // Inserts, or replaces the reason and time of an existing entry.
  Status put(const BlockRecord& record);
  // True if a row was removed.
  Result<bool> remove(const std::string& kind, const std::string& value);
  Result<std::vector<BlockRecord>> list();

 private:
  Database& m_db;
};

}  // namespace kith::store
