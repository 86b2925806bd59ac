#include "store/transfer_store.hpp"

namespace kith::store {
namespace {

constexpr const char* COLUMNS =
    "id, name, kind, source, destination, only_glob, sequential, paused, released, added_at, "
    "completed_at, resume, runnable, link_signature, wanted_files";

std::string encode_indices(const std::vector<int>& v) {
  std::string out;
  // Appended piece by piece: `"," + std::to_string(i)` (an insert at the front of a temporary) makes
  // GCC 12 at -O3 report a false -Wrestrict overlap in the inlined memcpy.
  for (int i : v) {
    if (!out.empty()) out += ',';
    out += std::to_string(i);
  }
  return out;
}

// Written only by encode_indices(); anything unparsable is skipped rather than trusted.
std::vector<int> decode_indices(const std::string& text) {
  std::vector<int> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto comma = text.find(',', pos);
    auto part = text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    try {
      out.push_back(std::stoi(part));
    } catch (const std::exception&) {
    }
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return out;
}

TransferRecord from_row(const Row& r) {
  TransferRecord t;
  t.id = as_text(r[0]);
  t.name = as_text(r[1]);
  t.kind = as_text(r[2]);
  t.source = as_text(r[3]);
  t.destination = as_text(r[4]);
  t.only_glob = as_text(r[5]);
  t.sequential = as_int(r[6]) != 0;
  t.paused = as_int(r[7]) != 0;
  t.released = as_int(r[8]) != 0;
  t.added_at = as_int(r[9]);
  t.completed_at = as_int(r[10]);
  t.resume = as_blob(r[11]);
  t.runnable = as_text(r[12]);
  t.link_signature = as_text(r[13]);
  if (!std::holds_alternative<std::nullptr_t>(r[14])) t.wanted_files = decode_indices(as_text(r[14]));
  return t;
}

}  // namespace

Status TransferStore::put(const TransferRecord& t) {
  return m_db.exec(std::string("INSERT OR REPLACE INTO transfers (") + COLUMNS +
                       ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
                   {t.id, t.name, t.kind, t.source, t.destination, t.only_glob, std::int64_t{t.sequential},
                    std::int64_t{t.paused}, std::int64_t{t.released}, t.added_at,
                    t.completed_at ? Value{t.completed_at} : Value{nullptr},
                    t.resume.empty() ? Value{nullptr} : Value{t.resume}, t.runnable, t.link_signature,
                    t.wanted_files ? Value{encode_indices(*t.wanted_files)} : Value{nullptr}});
}

Status TransferStore::save_resume(const std::string& id, const std::vector<std::uint8_t>& resume) {
  return m_db.exec("UPDATE transfers SET resume = ?2 WHERE id = ?1", {id, resume});
}

Status TransferStore::set_paused(const std::string& id, bool paused) {
  return m_db.exec("UPDATE transfers SET paused = ?2 WHERE id = ?1", {id, std::int64_t{paused}});
}

Status TransferStore::set_wanted_files(const std::string& id, const std::vector<int>& wanted) {
  return m_db.exec("UPDATE transfers SET wanted_files = ?2, only_glob = '' WHERE id = ?1",
                   {id, encode_indices(wanted)});
}

Status TransferStore::mark_released(const std::string& id, std::int64_t when) {
  return m_db.exec("UPDATE transfers SET released = 1, completed_at = ?2 WHERE id = ?1", {id, when});
}

Status TransferStore::set_runnable(const std::string& id, const std::string& json_array) {
  return m_db.exec("UPDATE transfers SET runnable = ?2 WHERE id = ?1", {id, json_array});
}

Status TransferStore::remove(const std::string& id) {
  return m_db.exec("DELETE FROM transfers WHERE id = ?1", {id});
}

Result<std::optional<TransferRecord>> TransferStore::get(const std::string& id) {
  auto rows = m_db.query(std::string("SELECT ") + COLUMNS + " FROM transfers WHERE id = ?1", {id});
  if (!rows) return tl::unexpected(rows.error());
  if (rows->empty()) return std::optional<TransferRecord>{};
  return std::optional<TransferRecord>{from_row(rows->front())};
}

Result<std::vector<TransferRecord>> TransferStore::list() {
  auto rows = m_db.query(std::string("SELECT ") + COLUMNS + " FROM transfers ORDER BY added_at, id");
  if (!rows) return tl::unexpected(rows.error());
  std::vector<TransferRecord> out;
  for (const auto& r : *rows) out.push_back(from_row(r));
  return out;
}

Status TransferStore::put_kv(const std::string& key, const std::vector<std::uint8_t>& value) {
  return m_db.exec("INSERT OR REPLACE INTO kv (key, value) VALUES (?1, ?2)", {key, value});
}

Status TransferStore::remove_kv(const std::string& key) {
  return m_db.exec("DELETE FROM kv WHERE key = ?1", {key});
}

Result<std::optional<std::vector<std::uint8_t>>> TransferStore::get_kv(const std::string& key) {
  auto rows = m_db.query("SELECT value FROM kv WHERE key = ?1", {key});
  if (!rows) return tl::unexpected(rows.error());
  if (rows->empty()) return std::optional<std::vector<std::uint8_t>>{};
  return std::optional<std::vector<std::uint8_t>>{as_blob(rows->front()[0])};
}

}  // namespace kith::store
