#include "store/call_store.hpp"

namespace kith::store {
namespace {

constexpr const char* COLUMNS =
    "id, contact_id, contact_name, direction, video, room, link, started_ms, answered_ms, connected_ms, "
    "ended_ms, end_reason, replaced_by";

CallRecord from_row(const Row& r) {
  CallRecord c;
  c.id = as_text(r[0]);
  c.contact_id = as_text(r[1]);
  c.contact_name = as_text(r[2]);
  c.direction = as_text(r[3]);
  c.video = as_int(r[4]) != 0;
  c.room = as_text(r[5]);
  c.link = as_int(r[6]) != 0;
  c.started_ms = as_int(r[7]);
  c.answered_ms = as_int(r[8]);
  c.connected_ms = as_int(r[9]);
  c.ended_ms = as_int(r[10]);
  c.end_reason = as_text(r[11]);
  c.replaced_by = as_text(r[12]);
  return c;
}

}  // namespace

Status CallStore::put(const CallRecord& c) {
  return m_db.transaction([&](Transaction& t) -> Status {
    if (auto ok = t.exec(std::string("INSERT OR REPLACE INTO calls (") + COLUMNS +
                             ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                         {c.id, c.contact_id, c.contact_name, c.direction, std::int64_t{c.video}, c.room,
                          std::int64_t{c.link}, c.started_ms, c.answered_ms, c.connected_ms, c.ended_ms,
                          c.end_reason, c.replaced_by});
        !ok)
      return ok;
    return t.exec(
        "DELETE FROM calls WHERE id NOT IN (SELECT id FROM calls ORDER BY ended_ms DESC, id LIMIT ?1)",
        {KEEP});
  });
}

Result<std::vector<CallRecord>> CallStore::recent(std::int64_t limit) {
  auto rows = m_db.query(std::string("SELECT ") + COLUMNS + " FROM calls ORDER BY ended_ms DESC, id LIMIT ?1",
                         {limit});
  if (!rows) return tl::unexpected(rows.error());
  std::vector<CallRecord> out;
  for (const auto& r : *rows) out.push_back(from_row(r));
  return out;
}

}  // namespace kith::store
