#include "store/message_store.hpp"

namespace kith::store {
namespace {

constexpr const char* COLUMNS =
    "m.id, m.conversation, m.author, m.outgoing, m.seq, m.sent_at, m.received_at, m.text, m.signed, "
    "m.read_at, m.rowid";

MessageRecord message_from(const Row& r) {
  MessageRecord m;
  m.id = as_text(r[0]);
  m.conversation = as_text(r[1]);
  m.author = as_text(r[2]);
  m.outgoing = as_int(r[3]) != 0;
  m.seq = as_int(r[4]);
  m.sent_at = as_int(r[5]);
  m.received_at = as_int(r[6]);
  m.text = as_text(r[7]);
  auto blob = as_blob(r[8]);
  m.signed_bytes.assign(blob.begin(), blob.end());
  m.read_at = as_int(r[9]);
  m.rowid = as_int(r[10]);
  return m;
}

// `db`: the Database, or the Transaction of a transaction() body.
template <class Db>
Result<std::vector<MessageRecord>> messages(Db& db, const std::string& sql,
                                            const std::vector<Value>& params) {
  auto rows = db.query(sql, params);
  if (!rows) return tl::unexpected(rows.error());
  std::vector<MessageRecord> out;
  for (const auto& r : *rows) out.push_back(message_from(r));
  return out;
}

Value optional_time(std::int64_t t) { return t ? Value(t) : Value(nullptr); }

// FTS5 query syntax from user words: each word a quoted phrase (quotes doubled), all required.
std::string fts_query(const std::string& text) {
  std::string out, word;
  auto flush = [&] {
    if (word.empty()) return;
    if (!out.empty()) out += ' ';
    out += '"';
    for (char c : word) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    out += '"';
    word.clear();
  };
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\n')
      flush();
    else
      word += c;
  }
  flush();
  return out;
}

}  // namespace

Result<bool> MessageStore::insert(const MessageRecord& m, const std::vector<std::string>& recipients,
                                  std::int64_t now_ms) {
  bool inserted = false;
  auto r = m_db.transaction([&](Transaction& tx) -> Status {
    auto known = tx.query("SELECT 1 FROM messages WHERE id = ?1", {m.id});
    if (!known) return tl::unexpected(known.error());
    if (!known->empty()) return {};
    std::vector<std::uint8_t> blob(m.signed_bytes.begin(), m.signed_bytes.end());
    auto ins = tx.exec(
        "INSERT INTO messages (id, conversation, author, outgoing, seq, sent_at, received_at, text, signed, "
        "read_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        {m.id, m.conversation, m.author, std::int64_t{m.outgoing}, m.seq, m.sent_at, m.received_at, m.text,
         blob, optional_time(m.read_at)});
    if (!ins) return ins;
    for (const auto& to : recipients) {
      auto q =
          tx.exec("INSERT OR IGNORE INTO deliveries (message_id, recipient, queued_at) VALUES (?1, ?2, ?3)",
                  {m.id, to, now_ms});
      if (!q) return q;
    }
    inserted = true;
    return {};
  });
  if (!r) return tl::unexpected(r.error());
  return inserted;
}

Result<std::optional<MessageRecord>> MessageStore::get(const std::string& id) {
  auto rows = messages(m_db, std::string("SELECT ") + COLUMNS + " FROM messages m WHERE m.id = ?1", {id});
  if (!rows) return tl::unexpected(rows.error());
  if (rows->empty()) return std::optional<MessageRecord>{};
  return std::optional<MessageRecord>{rows->front()};
}

Result<std::int64_t> MessageStore::next_seq(const std::string& conversation, const std::string& author) {
  auto rows =
      m_db.query("SELECT COALESCE(MAX(seq), 0) + 1 FROM messages WHERE conversation = ?1 AND author = ?2",
                 {conversation, author});
  if (!rows) return tl::unexpected(rows.error());
  return as_int(rows->front()[0]);
}

Result<std::vector<MessageRecord>> MessageStore::outbox(const std::string& recipient) {
  return messages(m_db,
                  std::string("SELECT ") + COLUMNS +
                      " FROM deliveries d JOIN messages m ON m.id = d.message_id"
                      " WHERE d.recipient = ?1 AND d.delivered_at IS NULL ORDER BY d.queued_at, m.rowid",
                  {recipient});
}

Result<std::int64_t> MessageStore::outbox_size() {
  auto rows = m_db.query("SELECT COUNT(*) FROM deliveries WHERE delivered_at IS NULL");
  if (!rows) return tl::unexpected(rows.error());
  return as_int(rows->front()[0]);
}

Result<bool> MessageStore::mark_delivered(const std::string& id, const std::string& recipient,
                                          std::int64_t when) {
  auto before =
      m_db.query("SELECT 1 FROM deliveries WHERE message_id = ?1 AND recipient = ?2 AND delivered_at IS NULL",
                 {id, recipient});
  if (!before) return tl::unexpected(before.error());
  if (before->empty()) return false;
  auto r = m_db.exec("UPDATE deliveries SET delivered_at = ?3 WHERE message_id = ?1 AND recipient = ?2",
                     {id, recipient, when});
  if (!r) return tl::unexpected(r.error());
  return true;
}

Result<bool> MessageStore::mark_read(const std::string& id, const std::string& recipient, std::int64_t when) {
  auto before =
      m_db.query("SELECT 1 FROM deliveries WHERE message_id = ?1 AND recipient = ?2 AND read_at IS NULL",
                 {id, recipient});
  if (!before) return tl::unexpected(before.error());
  if (before->empty()) return false;
  // A read receipt implies delivery (the delivery receipt may have been lost with a channel).
  auto r = m_db.exec(
      "UPDATE deliveries SET read_at = ?3, delivered_at = COALESCE(delivered_at, ?3) WHERE message_id = ?1 "
      "AND "
      "recipient = ?2",
      {id, recipient, when});
  if (!r) return tl::unexpected(r.error());
  return true;
}

Result<std::vector<DeliveryRecord>> MessageStore::deliveries(const std::string& id) {
  auto rows = m_db.query(
      "SELECT recipient, delivered_at, read_at FROM deliveries WHERE message_id = ?1 ORDER BY recipient",
      {id});
  if (!rows) return tl::unexpected(rows.error());
  std::vector<DeliveryRecord> out;
  for (const auto& r : *rows) out.push_back({as_text(r[0]), as_int(r[1]), as_int(r[2])});
  return out;
}

Result<std::vector<MessageRecord>> MessageStore::read_conversation(const std::string& conversation,
                                                                   std::int64_t when) {
  std::vector<MessageRecord> unread;
  auto r = m_db.transaction([&](Transaction& tx) -> Status {
    auto rows =
        messages(tx,
                 std::string("SELECT ") + COLUMNS +
                     " FROM messages m WHERE m.conversation = ?1 AND m.outgoing = 0 AND m.read_at IS NULL"
                     " ORDER BY m.rowid",
                 {conversation});
    if (!rows) return tl::unexpected(rows.error());
    unread = std::move(*rows);
    return tx.exec(
        "UPDATE messages SET read_at = ?2 WHERE conversation = ?1 AND outgoing = 0 AND read_at IS NULL",
        {conversation, when});
  });
  if (!r) return tl::unexpected(r.error());
  return unread;
}

Result<std::vector<MessageRecord>> MessageStore::history(const std::string& conversation, int limit,
                                                         std::int64_t after) {
  // The newest `limit`, returned oldest first.
  return messages(m_db,
                  std::string("SELECT * FROM (SELECT ") + COLUMNS +
                      " FROM messages m WHERE (?1 = '' OR m.conversation = ?1) AND m.rowid > ?2"
                      " ORDER BY m.rowid DESC LIMIT ?3) ORDER BY 11",
                  {conversation, after, std::int64_t{limit}});
}

Result<std::vector<MessageRecord>> MessageStore::search(const std::string& query,
                                                        const std::string& conversation, int limit) {
  const auto q = fts_query(query);
  if (q.empty()) return std::vector<MessageRecord>{};
  return messages(
      m_db,
      std::string("SELECT ") + COLUMNS +
          " FROM messages_text t JOIN messages m ON m.rowid = t.rowid"
          " WHERE messages_text MATCH ?1 AND (?2 = '' OR m.conversation = ?2) ORDER BY m.rowid LIMIT ?3",
      {q, conversation, std::int64_t{limit}});
}

Result<std::int64_t> MessageStore::unread(const std::string& conversation) {
  auto rows =
      m_db.query("SELECT COUNT(*) FROM messages WHERE conversation = ?1 AND outgoing = 0 AND read_at IS NULL",
                 {conversation});
  if (!rows) return tl::unexpected(rows.error());
  return as_int(rows->front()[0]);
}

Status MessageStore::add_pending_receipt(const std::string& id, const std::string& recipient) {
  return m_db.exec("INSERT OR IGNORE INTO pending_receipts (message_id, recipient) VALUES (?1, ?2)",
                   {id, recipient});
}

Result<std::vector<std::string>> MessageStore::pending_receipts(const std::string& recipient) {
  auto rows = m_db.query("SELECT message_id FROM pending_receipts WHERE recipient = ?1", {recipient});
  if (!rows) return tl::unexpected(rows.error());
  std::vector<std::string> out;
  for (const auto& r : *rows) out.push_back(as_text(r[0]));
  return out;
}

Status MessageStore::remove_pending_receipt(const std::string& id, const std::string& recipient) {
  return m_db.exec("DELETE FROM pending_receipts WHERE message_id = ?1 AND recipient = ?2", {id, recipient});
}

}  // namespace kith::store
