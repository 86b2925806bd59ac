#include "contacts/contact_book.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "identity/kith_id.hpp"

namespace kith::contacts {
namespace {

Error not_found(const std::string& why) { return Error{base::make_error_code(base::errc::not_found), why}; }
Error invalid(const std::string& why) {
  return Error{base::make_error_code(base::errc::invalid_argument), why};
}
Error ourselves() { return invalid("that is your own kith ID"); }

Relation relation_from(const std::string& s) {
  if (s == "outgoing") return Relation::outgoing;
  if (s == "incoming") return Relation::incoming;
  if (s == "accepted") return Relation::accepted;
  if (s == "blocked") return Relation::blocked;
  return Relation::stranger;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

}  // namespace

const char* to_string(Relation r) {
  switch (r) {
    case Relation::outgoing:
      return "outgoing";
    case Relation::incoming:
      return "incoming";
    case Relation::accepted:
      return "accepted";
    case Relation::blocked:
      return "blocked";
    case Relation::stranger:
      break;
  }
  return "stranger";
}

Status ContactBook::load() {
  auto rows = m_store.list();
  if (!rows) return tl::unexpected(rows.error());
  m_contacts.clear();
  for (const auto& r : *rows) {
    auto key = identity::decode_id(r.id);
    if (!key) continue;  // written by us, so never; skip rather than fail the node
    Contact c;
    c.key = *key;
    c.id = r.id;
    c.name = r.name;
    c.relation = relation_from(r.state);
    c.note = r.note;
    c.added_at = r.added_at;
    c.last_seen = r.last_seen;
    c.bell = r.bell;
    auto addrs = nlohmann::json::parse(r.addrs, nullptr, false);
    if (addrs.is_array())
      for (const auto& a : addrs)
        if (a.is_string()) c.addrs.push_back(a.get<std::string>());
    m_contacts[c.key] = c;
  }
  return {};
}

Status ContactBook::save(const Contact& c) {
  store::ContactRecord r;
  r.id = c.id;
  r.name = c.name;
  r.state = to_string(c.relation);
  r.note = c.note;
  r.addrs = nlohmann::json(c.addrs).dump();
  r.added_at = c.added_at;
  r.last_seen = c.last_seen;
  r.bell = c.bell;
  auto s = m_store.put(r);
  if (s) m_contacts[c.key] = c;
  return s;
}

Relation ContactBook::relation(const crypto::PublicKey& key) const {
  auto* c = find(key);
  return c ? c->relation : Relation::stranger;
}

const Contact* ContactBook::find(const crypto::PublicKey& key) const {
  auto it = m_contacts.find(key);
  return it == m_contacts.end() ? nullptr : &it->second;
}

Contact* ContactBook::mutable_find(const crypto::PublicKey& key) {
  auto it = m_contacts.find(key);
  return it == m_contacts.end() ? nullptr : &it->second;
}

Result<Contact> ContactBook::resolve(const std::string& name_or_id) const {
  if (auto key = identity::decode_id(name_or_id)) {
    if (auto* c = find(*key)) return *c;
    return tl::unexpected(not_found("no contact has the ID " + name_or_id));
  }
  std::vector<const Contact*> by_name, by_prefix;
  for (const auto& [k, c] : m_contacts) {
    if (lower(c.name) == lower(name_or_id)) by_name.push_back(&c);
    if (name_or_id.size() >= 6 && c.id.rfind(name_or_id, 0) == 0) by_prefix.push_back(&c);
  }
  const auto& hits = by_name.empty() ? by_prefix : by_name;
  if (hits.size() == 1) return *hits.front();
  if (hits.empty())
    return tl::unexpected(not_found("no contact named '" + name_or_id + "' (see `kith contacts list`)"));
  std::string ids;
  for (auto* c : hits) ids += " " + c->id;
  return tl::unexpected(invalid("'" + name_or_id + "' names several contacts; use an ID:" + ids));
}

std::vector<Contact> ContactBook::list() const {
  std::vector<Contact> out;
  for (const auto& [k, c] : m_contacts) out.push_back(c);
  std::sort(out.begin(), out.end(),
            [](const Contact& a, const Contact& b) { return lower(a.name) < lower(b.name); });
  return out;
}

std::size_t ContactBook::count(Relation relation) const {
  return static_cast<std::size_t>(std::count_if(
      m_contacts.begin(), m_contacts.end(), [&](const auto& kv) { return kv.second.relation == relation; }));
}

Result<Contact> ContactBook::add(const identity::Invite& invite, const std::string& name,
                                 const std::string& note, std::int64_t now) {
  if (invite.key == m_me) return tl::unexpected(ourselves());
  if (note.size() > MAX_NOTE) return tl::unexpected(invalid("the request's message is over 500 bytes"));
  Contact c;
  if (auto* existing = find(invite.key)) c = *existing;
  if (c.relation == Relation::blocked)
    return tl::unexpected(invalid(c.name + " is blocked; `kith contacts remove` them first to ask again"));
  if (c.relation == Relation::stranger) {
    c.key = invite.key;
    c.id = invite.id;
    c.added_at = now;
    c.relation = Relation::outgoing;
    c.note = note;
  } else if (c.relation == Relation::incoming) {
    c.relation = Relation::accepted;  // they asked first: asking back is accepting
  }
  if (!name.empty())
    c.name = name;
  else if (c.name.empty())
    c.name = invite.name.empty() ? invite.id.substr(0, 8) : invite.name;
  for (const auto& a : invite.addrs)
    if (std::find(c.addrs.begin(), c.addrs.end(), a) == c.addrs.end()) c.addrs.push_back(a);
  if (!invite.bell.empty()) c.bell = invite.bell;
  if (auto s = save(c); !s) return tl::unexpected(s.error());
  return c;
}

Result<Relation> ContactBook::record_request(const crypto::PublicKey& key, const std::string& name,
                                             const std::string& note, const std::vector<std::string>& addrs,
                                             std::int64_t now) {
  if (key == m_me) return tl::unexpected(ourselves());
  Contact c;
  if (auto* existing = find(key)) c = *existing;
  switch (c.relation) {
    case Relation::accepted:
    case Relation::blocked:
      return c.relation;
    case Relation::outgoing:
      c.relation = Relation::accepted;
      break;  // both asked
    case Relation::incoming:
      break;  // asked again: refresh
    case Relation::stranger: {
      if (count(Relation::incoming) >= MAX_PENDING_REQUESTS)
        return tl::unexpected(invalid("too many contact requests are waiting; refused"));
      c.key = key;
      c.id = identity::encode_id(key);
      c.added_at = now;
      c.relation = Relation::incoming;
      break;
    }
  }
  if (c.relation == Relation::incoming) {
    c.name = identity::valid_name(name) ? name : c.id.substr(0, 8);
    c.note = note.substr(0, MAX_NOTE);
  } else if (c.name.empty()) {
    c.name = identity::valid_name(name) ? name : c.id.substr(0, 8);
  }
  for (const auto& a : addrs)
    if (identity::valid_address_hint(a) && c.addrs.size() < identity::MAX_ADDRS &&
        std::find(c.addrs.begin(), c.addrs.end(), a) == c.addrs.end())
      c.addrs.push_back(a);
  if (auto s = save(c); !s) return tl::unexpected(s.error());
  return c.relation;
}

Status ContactBook::accept(const crypto::PublicKey& key) {
  auto* c = mutable_find(key);
  if (!c || c->relation != Relation::incoming)
    return tl::unexpected(not_found("there is no request from that person to accept"));
  Contact copy = *c;
  copy.relation = Relation::accepted;
  return save(copy);
}

Status ContactBook::mark_accepted(const crypto::PublicKey& key) {
  auto* c = mutable_find(key);
  if (!c || c->relation != Relation::outgoing) return {};
  Contact copy = *c;
  copy.relation = Relation::accepted;
  return save(copy);
}

Status ContactBook::decline(const crypto::PublicKey& key) {
  auto* c = mutable_find(key);
  if (!c || c->relation != Relation::incoming)
    return tl::unexpected(not_found("there is no request from that person to decline"));
  return remove(key);
}

Status ContactBook::block(const crypto::PublicKey& key, std::int64_t now) {
  if (key == m_me) return tl::unexpected(ourselves());
  Contact c;
  if (auto* existing = find(key)) c = *existing;
  if (c.relation == Relation::stranger) {
    c.key = key;
    c.id = identity::encode_id(key);
    c.name = c.id.substr(0, 8);
    c.added_at = now;
  }
  c.relation = Relation::blocked;
  return save(c);
}

Status ContactBook::remove(const crypto::PublicKey& key) {
  auto* c = mutable_find(key);
  if (!c) return tl::unexpected(not_found("no such contact"));
  auto r = m_store.remove(c->id);
  if (!r) return tl::unexpected(r.error());
  m_contacts.erase(key);
  return {};
}

Status ContactBook::rename(const crypto::PublicKey& key, const std::string& name) {
  if (!identity::valid_name(name))
    return tl::unexpected(invalid("a name is 1-64 bytes without control characters"));
  auto* c = mutable_find(key);
  if (!c) return tl::unexpected(not_found("no such contact"));
  Contact copy = *c;
  copy.name = name;
  return save(copy);
}

Status ContactBook::add_addrs(const crypto::PublicKey& key, const std::vector<std::string>& addrs) {
  auto* c = mutable_find(key);
  if (!c) return tl::unexpected(not_found("no such contact"));
  Contact copy = *c;
  bool changed = false;
  for (auto it = addrs.rbegin(); it != addrs.rend(); ++it) {
    if (!identity::valid_address_hint(*it)) return tl::unexpected(invalid("'" + *it + "' is not host:port"));
    auto found = std::find(copy.addrs.begin(), copy.addrs.end(), *it);
    if (found == copy.addrs.begin()) continue;
    if (found != copy.addrs.end()) copy.addrs.erase(found);
    copy.addrs.insert(copy.addrs.begin(), *it);
    changed = true;
  }
  if (copy.addrs.size() > identity::MAX_ADDRS) copy.addrs.resize(identity::MAX_ADDRS);
  return changed ? save(copy) : Status{};
}

Status ContactBook::seen(const crypto::PublicKey& key, std::int64_t now) {
  auto* c = mutable_find(key);
  if (!c) return {};
  c->last_seen = now;
  return m_store.set_last_seen(c->id, now);
}

}  // namespace kith::contacts
