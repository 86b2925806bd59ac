#include "store/block_store.hpp"

namespace kith::store {

Status BlockStore::put(const BlockRecord& r) {
  return m_db.exec("INSERT OR REPLACE INTO blocklist (kind, value, reason, added_at) VALUES (?1, ?2, ?3, ?4)",
                   {r.kind, r.value, r.reason, r.added_at});
}

Result<bool> BlockStore::remove(const std::string& kind, const std::string& value) {
  // Read and delete in one transaction, so "was it there" is true of the delete itself.
  bool found = false;
  auto r = m_db.transaction([&](Transaction& tx) -> Status {
    auto rows = tx.query("SELECT 1 FROM blocklist WHERE kind = ?1 AND value = ?2", {kind, value});
    if (!rows) return tl::unexpected(rows.error());
    found = !rows->empty();
    return tx.exec("DELETE FROM blocklist WHERE kind = ?1 AND value = ?2", {kind, value});
  });
  if (!r) return tl::unexpected(r.error());
  return found;
}

Result<std::vector<BlockRecord>> BlockStore::list() {
  auto rows =
      m_db.query("SELECT kind, value, reason, added_at FROM blocklist ORDER BY added_at, kind, value");
  if (!rows) return tl::unexpected(rows.error());
  std::vector<BlockRecord> out;
  for (const auto& row : *rows)
    out.push_back({as_text(row[0]), as_text(row[1]), as_text(row[2]), as_int(row[3])});
  return out;
}

}  // namespace kith::store
