#include "store/file_offer_store.hpp"

namespace kith::store {
namespace {

constexpr const char* COLUMNS =
    "id, direction, contact, transfer_id, name, size, cert, key, peers, offer, state, reason, created_at, "
    "done";

FileOfferRecord offer_from(const Row& r) {
  auto blob = as_blob(r[9]);
  return {as_text(r[0]),  as_text(r[1]),  as_text(r[2]), as_text(r[3]), as_text(r[4]),
          as_int(r[5]),   as_text(r[6]),  as_text(r[7]), as_text(r[8]), std::string(blob.begin(), blob.end()),
          as_text(r[10]), as_text(r[11]), as_int(r[12]), as_int(r[13])};
}

Result<std::vector<FileOfferRecord>> rows_of(Result<std::vector<Row>> rows) {
  if (!rows) return tl::unexpected(rows.error());
  std::vector<FileOfferRecord> out;
  for (const auto& r : *rows) out.push_back(offer_from(r));
  return out;
}

Result<std::optional<FileOfferRecord>> first_of(Result<std::vector<Row>> rows) {
  if (!rows) return tl::unexpected(rows.error());
  if (rows->empty()) return std::optional<FileOfferRecord>{};
  return std::optional<FileOfferRecord>{offer_from(rows->front())};
}

}  // namespace

Status FileOfferStore::put(const FileOfferRecord& o) {
  return m_db.exec(
      std::string("INSERT OR REPLACE INTO file_offers (") + COLUMNS +
          ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
      {o.id, o.direction, o.contact, o.transfer_id, o.name, o.size, o.cert, o.key, o.peers,
       std::vector<std::uint8_t>(o.offer.begin(), o.offer.end()), o.state, o.reason, o.created_at, o.done});
}

Result<std::optional<FileOfferRecord>> FileOfferStore::get(const std::string& id) {
  return first_of(m_db.query(std::string("SELECT ") + COLUMNS + " FROM file_offers WHERE id = ?1", {id}));
}

Result<std::optional<FileOfferRecord>> FileOfferStore::by_transfer(const std::string& transfer_id,
                                                                   const std::string& direction) {
  return first_of(
      m_db.query(std::string("SELECT ") + COLUMNS +
                     " FROM file_offers WHERE transfer_id = ?1 AND direction = ?2 ORDER BY created_at DESC",
                 {transfer_id, direction}));
}

Result<std::vector<FileOfferRecord>> FileOfferStore::pending(const std::string& contact) {
  return rows_of(
      m_db.query(std::string("SELECT ") + COLUMNS +
                     " FROM file_offers WHERE contact = ?1 AND direction = 'out' AND state = 'pending'"
                     " ORDER BY created_at, rowid",
                 {contact}));
}

Result<bool> FileOfferStore::set_state(const std::string& id, const std::string& state,
                                       const std::string& reason) {
  auto before = get(id);
  if (!before) return tl::unexpected(before.error());
  if (!*before || ((*before)->state == state && (*before)->reason == reason)) return false;
  if (auto r = m_db.exec("UPDATE file_offers SET state = ?2, reason = ?3 WHERE id = ?1", {id, state, reason});
      !r)
    return tl::unexpected(r.error());
  return true;
}

Result<bool> FileOfferStore::set_progress(const std::string& id, const std::string& state,
                                          std::int64_t done) {
  auto before = get(id);
  if (!before) return tl::unexpected(before.error());
  if (!*before || ((*before)->state == state && (*before)->done == done)) return false;
  if (auto r = m_db.exec("UPDATE file_offers SET state = ?2, done = ?3 WHERE id = ?1", {id, state, done}); !r)
    return tl::unexpected(r.error());
  return true;
}

Result<std::vector<FileOfferRecord>> FileOfferStore::finished_in(const std::string& contact, int limit) {
  return rows_of(
      m_db.query(std::string("SELECT ") + COLUMNS +
                     " FROM file_offers WHERE contact = ?1 AND direction = 'in'"
                     " AND state IN ('delivered', 'quarantined') ORDER BY created_at DESC LIMIT ?2",
                 {contact, std::int64_t{limit}}));
}

Result<std::vector<FileOfferRecord>> FileOfferStore::list() {
  return rows_of(m_db.query(std::string("SELECT ") + COLUMNS +
                            " FROM file_offers ORDER BY created_at DESC, rowid DESC"));
}

}  // namespace kith::store
