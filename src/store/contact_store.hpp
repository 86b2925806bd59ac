#pragma once
// Contacts and groups in HOME/state.sqlite. The store keeps what it is given; `contacts` decides what
// a valid change is (who may become what).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/database.hpp"

namespace kith::store {

struct ContactRecord {
  std::string id;  // kith ID
  std::string name;
  std::string state;  // outgoing, incoming, accepted, blocked
  std::string note;
  std::string addrs = "[]";  // JSON array of "host:port"
  std::int64_t added_at = 0;
  std::int64_t last_seen = 0;  // 0: never
  std::string bell;            // their doorbell secret (base32) from their invite, or empty
};

struct GroupRecord {
  std::string id;  // 32 hex digits
  std::string name;
  std::string creator;  // kith ID
  std::string members;  // JSON [{id, name}]
  std::int64_t created_at = 0;
};

class ContactStore {
 public:
  explicit ContactStore(Database& db) : m_db(db) {}

  Status put(const ContactRecord& record);  // insert or replace
  Result<std::optional<ContactRecord>> get(const std::string& id);
  Result<std::vector<ContactRecord>> list();
  Result<bool> remove(const std::string& id);
  Status set_last_seen(const std::string& id, std::int64_t when);

  Status put_group(const GroupRecord& group);
  Result<std::optional<GroupRecord>> group(const std::string& id);
  Result<std::vector<GroupRecord>> groups();

 private:
  Database& m_db;
};

}  // namespace kith::store
