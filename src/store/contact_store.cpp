#include "store/contact_store.hpp"

namespace kith::store {
namespace {

constexpr const char* COLUMNS = "id, name, state, note, addrs, added_at, last_seen, bell";

ContactRecord contact_from(const Row& r) {
  return {as_text(r[0]), as_text(r[1]), as_text(r[2]), as_text(r[3]),
          as_text(r[4]), as_int(r[5]),  as_int(r[6]),  as_text(r[7])};
}

GroupRecord group_from(const Row& r) {
  return {as_text(r[0]), as_text(r[1]), as_text(r[2]), as_text(r[3]), as_int(r[4])};
}

}  // namespace

Status ContactStore::put(const ContactRecord& c) {
  return m_db.exec(std::string("INSERT OR REPLACE INTO contacts (") + COLUMNS +
                       ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                   {c.id, c.name, c.state, c.note, c.addrs, c.added_at,
                    c.last_seen ? Value(c.last_seen) : Value(nullptr), c.bell});
}

Result<std::optional<ContactRecord>> ContactStore::get(const std::string& id) {
  auto rows = m_db.query(std::string("SELECT ") + COLUMNS + " FROM contacts WHERE id = ?1", {id});
  if (!rows) return tl::unexpected(rows.error());
  if (rows->empty()) return std::optional<ContactRecord>{};
  return std::optional<ContactRecord>{contact_from(rows->front())};
}

Result<std::vector<ContactRecord>> ContactStore::list() {
  auto rows =
      m_db.query(std::string("SELECT ") + COLUMNS + " FROM contacts ORDER BY name COLLATE NOCASE, id");
  if (!rows) return tl::unexpected(rows.error());
  std::vector<ContactRecord> out;
  for (const auto& r : *rows) out.push_back(contact_from(r));
  return out;
}

Result<bool> ContactStore::remove(const std::string& id) {
  bool found = false;
  auto r = m_db.transaction([&](Transaction& tx) -> Status {
    auto rows = tx.query("SELECT 1 FROM contacts WHERE id = ?1", {id});
    if (!rows) return tl::unexpected(rows.error());
    found = !rows->empty();
    return tx.exec("DELETE FROM contacts WHERE id = ?1", {id});
  });
  if (!r) return tl::unexpected(r.error());
  return found;
}

Status ContactStore::set_last_seen(const std::string& id, std::int64_t when) {
  return m_db.exec("UPDATE contacts SET last_seen = ?2 WHERE id = ?1", {id, when});
}

Status ContactStore::put_group(const GroupRecord& g) {
  return m_db.exec(
      "INSERT OR REPLACE INTO groups (id, name, creator, members, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
      {g.id, g.name, g.creator, g.members, g.created_at});
}

Result<std::optional<GroupRecord>> ContactStore::group(const std::string& id) {
  auto rows = m_db.query("SELECT id, name, creator, members, created_at FROM groups WHERE id = ?1", {id});
  if (!rows) return tl::unexpected(rows.error());
  if (rows->empty()) return std::optional<GroupRecord>{};
  return std::optional<GroupRecord>{group_from(rows->front())};
}

Result<std::vector<GroupRecord>> ContactStore::groups() {
  auto rows =
      m_db.query("SELECT id, name, creator, members, created_at FROM groups ORDER BY name COLLATE NOCASE");
  if (!rows) return tl::unexpected(rows.error());
  std::vector<GroupRecord> out;
  for (const auto& r : *rows) out.push_back(group_from(r));
  return out;
}

}  // namespace kith::store
