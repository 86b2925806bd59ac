#pragma once
// The contact book: who a person knows, who asked, who is blocked, and the rules between those states.
//   stranger --add--> outgoing --(they accept)--> accepted
//   stranger --(their request)--> incoming --accept--> accepted;  --decline--> stranger (forgotten)
//   any --block--> blocked --remove--> stranger
// Two people who both asked become contacts at once. Only accepted contacts may open channels and
// exchange messages; a blocked key is refused at the channel; requests are accepted from strangers and
// from people already asking, and nothing else (see docs/protocol/channel.md).
//
// Threading: not thread-safe; the owner (messaging::Messenger) calls it on its strand only.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "crypto/sign.hpp"
#include "identity/invite.hpp"
#include "store/contact_store.hpp"

namespace kith::contacts {

enum class Relation { stranger, outgoing, incoming, accepted, blocked };
const char* to_string(Relation r);

struct Contact {
  crypto::PublicKey key{};
  std::string id;  // kith ID
  std::string name;
  Relation relation = Relation::stranger;
  std::string note;                // the request's text
  std::vector<std::string> addrs;  // static address hints
  std::int64_t added_at = 0;
  std::int64_t last_seen = 0;
  std::string bell;  // their doorbell secret from their invite (identity::valid_bell), or empty
};

inline constexpr std::size_t MAX_PENDING_REQUESTS = 200;  // incoming requests kept; more are refused
inline constexpr std::size_t MAX_NOTE = 500;

class ContactBook {
 public:
  // `me`: our own user key, which is never a contact (refused with base::errc::invalid_argument).
  ContactBook(store::ContactStore& store, const crypto::PublicKey& me) : m_store(store), m_me(me) {}
  Status load();

  Relation relation(const crypto::PublicKey& key) const;
  const Contact* find(const crypto::PublicKey& key) const;
  // By name (case-insensitive, exact), kith ID, or a unique prefix of a kith ID (at least 6 characters).
  // base::errc::not_found / invalid_argument (ambiguous) with a message naming the choices.
  Result<Contact> resolve(const std::string& name_or_id) const;
  std::vector<Contact> list() const;  // sorted by name
  std::size_t count(Relation relation) const;

  // We ask `invite`'s person. Accepting at once if they had asked us. Errors: it is us, they are blocked,
  // the note is too long.
  Result<Contact> add(const identity::Invite& invite, const std::string& name, const std::string& note,
                      std::int64_t now);
  // They ask us (from the channel). Returns the relation after: incoming, accepted (we had asked them),
  // or unchanged (already accepted, blocked). Errors: it is us, too many requests are pending.
  Result<Relation> record_request(const crypto::PublicKey& key, const std::string& name,
                                  const std::string& note, const std::vector<std::string>& addrs,
                                  std::int64_t now);
  Status accept(const crypto::PublicKey& key);         // incoming -> accepted
  Status mark_accepted(const crypto::PublicKey& key);  // outgoing -> accepted (they accepted)
  Status decline(const crypto::PublicKey& key);        // incoming -> forgotten
  Status block(const crypto::PublicKey& key, std::int64_t now);
  Status remove(const crypto::PublicKey& key);
  Status rename(const crypto::PublicKey& key, const std::string& name);
  // Adds hints (most recent first, at most identity::MAX_ADDRS kept). Unchanged if all were known.
  Status add_addrs(const crypto::PublicKey& key, const std::vector<std::string>& addrs);
  Status seen(const crypto::PublicKey& key, std::int64_t now);

 private:
  Status save(const Contact& c);
  Contact* mutable_find(const crypto::PublicKey& key);

  store::ContactStore& m_store;
  crypto::PublicKey m_me;
  std::map<crypto::PublicKey, Contact> m_contacts;
};

}  // namespace kith::contacts
