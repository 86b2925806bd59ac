#pragma once
// Records of downloads held back by the safety check (HOME/quarantine/<id>/ holds the data).
// Rows stay after a release or delete, with their state, so reports and history can refer to them.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/database.hpp"

namespace kith::store {

struct QuarantineRecord {
  std::string id;  // the transfer's id (info-hash hex)
  std::string name;
  std::string source;
  std::string outcome;  // see migration 2
  std::string signature;
  std::string reason;
  std::string details = "{}";  // JSON text, opaque here
  std::string peers = "[]";    // JSON text, opaque here
  std::string destination;
  std::int64_t quarantined_at = 0;
  std::string state = "held";  // held, released, deleted
  std::int64_t resolved_at = 0;
};

class QuarantineStore {
 public:
  explicit QuarantineStore(Database& db) : m_db(db) {}

  Status put(const QuarantineRecord& record);  // insert or replace
  Status resolve(const std::string& id, const std::string& state, std::int64_t when);
  Result<std::optional<QuarantineRecord>> get(const std::string& id);
  // Newest first; only rows in `state` unless it is empty.
  Result<std::vector<QuarantineRecord>> list(const std::string& state = "");

 private:
  Database& m_db;
};

}  // namespace kith::store
