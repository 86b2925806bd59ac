#include "store/quarantine_store.hpp"

namespace kith::store {
namespace {

constexpr const char* COLUMNS =
    "id, name, source, outcome, signature, reason, details, peers, destination, quarantined_at, state, "
    "resolved_at";

QuarantineRecord from_row(const Row& r) {
  QuarantineRecord q;
  q.id = as_text(r[0]);
  q.name = as_text(r[1]);
  q.source = as_text(r[2]);
  q.outcome = as_text(r[3]);
  q.signature = as_text(r[4]);
  q.reason = as_text(r[5]);
  q.details = as_text(r[6]);
  q.peers = as_text(r[7]);
  q.destination = as_text(r[8]);
  q.quarantined_at = as_int(r[9]);
  q.state = as_text(r[10]);
  q.resolved_at = as_int(r[11]);
  return q;
}

}  // namespace

Status QuarantineStore::put(const QuarantineRecord& q) {
  return m_db.exec(
      std::string("INSERT OR REPLACE INTO quarantine (") + COLUMNS +
          ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
      {q.id, q.name, q.source, q.outcome, q.signature, q.reason, q.details, q.peers, q.destination,
       q.quarantined_at, q.state, q.resolved_at ? Value{q.resolved_at} : Value{nullptr}});
}

Status QuarantineStore::resolve(const std::string& id, const std::string& state, std::int64_t when) {
  return m_db.exec("UPDATE quarantine SET state = ?2, resolved_at = ?3 WHERE id = ?1", {id, state, when});
}

Result<std::optional<QuarantineRecord>> QuarantineStore::get(const std::string& id) {
  auto rows = m_db.query(std::string("SELECT ") + COLUMNS + " FROM quarantine WHERE id = ?1", {id});
  if (!rows) return tl::unexpected(rows.error());
  if (rows->empty()) return std::optional<QuarantineRecord>{};
  return std::optional<QuarantineRecord>{from_row(rows->front())};
}

Result<std::vector<QuarantineRecord>> QuarantineStore::list(const std::string& state) {
  auto rows =
      state.empty()
          ? m_db.query(std::string("SELECT ") + COLUMNS + " FROM quarantine ORDER BY quarantined_at DESC, id")
          : m_db.query(std::string("SELECT ") + COLUMNS +
                           " FROM quarantine WHERE state = ?1 ORDER BY quarantined_at DESC, id",
                       {state});
  if (!rows) return tl::unexpected(rows.error());
  std::vector<QuarantineRecord> out;
  for (const auto& r : *rows) out.push_back(from_row(r));
  return out;
}

}  // namespace kith::store
