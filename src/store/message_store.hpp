#pragma once
// Message history, the outbox and receipts in HOME/state.sqlite. Writes that must happen together (a
// message and its deliveries) are one transaction, so a crash never leaves a message without its
// outbox rows or the reverse.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/database.hpp"

namespace kith::store {

struct MessageRecord {
  std::string id;            // 32 hex digits
  std::string conversation;  // contact kith ID or "group:<id>"
  std::string author;        // kith ID
  bool outgoing = false;
  std::int64_t seq = 0;
  std::int64_t sent_at = 0;      // unix ms, author's clock
  std::int64_t received_at = 0;  // unix ms, ours
  std::string text;
  std::string signed_bytes;  // serialized wire SignedMessage
  std::int64_t read_at = 0;  // 0: unread (incoming)
  std::int64_t rowid = 0;    // read only: the local order
};

struct DeliveryRecord {
  std::string recipient;
  std::int64_t delivered_at = 0;  // 0: still in the outbox
  std::int64_t read_at = 0;
};

class MessageStore {
 public:
  explicit MessageStore(Database& db) : m_db(db) {}

  // Stores a message and queues it for each recipient, unless a message with that id is already
  // stored. True if it was new.
  Result<bool> insert(const MessageRecord& message, const std::vector<std::string>& recipients,
                      std::int64_t now_ms);
  Result<std::optional<MessageRecord>> get(const std::string& id);
  // 1 + the highest seq `author` used in `conversation`.
  Result<std::int64_t> next_seq(const std::string& conversation, const std::string& author);
  // Messages not yet delivered to `recipient`, in the order they were queued.
  Result<std::vector<MessageRecord>> outbox(const std::string& recipient);
  Result<std::int64_t> outbox_size();
  // True if the row changed (a receipt for an unknown message or a repeated one changes nothing).
  Result<bool> mark_delivered(const std::string& id, const std::string& recipient, std::int64_t when);
  Result<bool> mark_read(const std::string& id, const std::string& recipient, std::int64_t when);
  Result<std::vector<DeliveryRecord>> deliveries(const std::string& id);
  // Marks every unread incoming message of a conversation read; returns them (for read receipts).
  Result<std::vector<MessageRecord>> read_conversation(const std::string& conversation, std::int64_t when);
  // The last `limit` messages of a conversation (all conversations if empty), oldest first, optionally
  // only those with rowid > after.
  Result<std::vector<MessageRecord>> history(const std::string& conversation, int limit,
                                             std::int64_t after = 0);
  // Full-text search (SQLite FTS5) over message text; `query` is taken as plain words, not syntax.
  Result<std::vector<MessageRecord>> search(const std::string& query, const std::string& conversation,
                                            int limit);
  Result<std::int64_t> unread(const std::string& conversation);

  Status add_pending_receipt(const std::string& id, const std::string& recipient);
  Result<std::vector<std::string>> pending_receipts(const std::string& recipient);
  Status remove_pending_receipt(const std::string& id, const std::string& recipient);

 private:
  Database& m_db;
};

}  // namespace kith::store
