// Messenger: contact commands, messages, receipts, groups, and the JSON shapes of docs/api.md.
#include <spdlog/spdlog.h>

#include <boost/asio/ip/address.hpp>

#include "base/hex.hpp"
#include "crypto/random.hpp"
#include "identity/invite.hpp"
#include "identity/kith_id.hpp"
#include "messaging/messenger.hpp"
#include "wire/message.hpp"

namespace kith::messaging {
namespace {

constexpr std::string_view GROUP_PREFIX = "group:";

Error invalid(const std::string& why) {
  return Error{base::make_error_code(base::errc::invalid_argument), why};
}
Error not_found(const std::string& why) { return Error{base::make_error_code(base::errc::not_found), why}; }

// The address part of "ip:port" / "[ip%scope]:port", without brackets or scope.
std::string host_of(const std::string& endpoint) {
  auto host = endpoint.substr(0, endpoint.rfind(':'));
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  return host.substr(0, host.find('%'));
}

// "lan" for loopback, private, link-local and unique-local addresses; "internet" otherwise.
std::string network_of(const std::string& endpoint) {
  auto host = endpoint.substr(0, endpoint.rfind(':'));
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  boost::system::error_code ec;
  auto a = boost::asio::ip::make_address(host, ec);
  if (ec) return "internet";
  if (a.is_v4()) {
    const auto b = a.to_v4().to_bytes();
    const bool lan = b[0] == 127 || b[0] == 10 || (b[0] == 172 && (b[1] & 0xf0) == 16) ||
                     (b[0] == 192 && b[1] == 168) || (b[0] == 169 && b[1] == 254);
    return lan ? "lan" : "internet";
  }
  const auto v6 = a.to_v6();
  return v6.is_loopback() || v6.is_link_local() || (v6.to_bytes()[0] & 0xfe) == 0xfc ? "lan" : "internet";
}

std::string hex(std::string_view bytes) { return base::to_hex(bytes); }

}  // namespace

Result<nlohmann::json> Messenger::add_contact(const std::string& invite_or_id, const std::string& name,
                                              const std::string& note) {
  auto inv = identity::parse_invite(invite_or_id);
  if (!inv) return tl::unexpected(inv.error());
  if (inv->key == m_user.public_key()) return tl::unexpected(invalid("that is your own kith ID"));
  if (!name.empty() && !identity::valid_name(name))
    return tl::unexpected(invalid("a name is 1-64 bytes without control characters"));
  std::lock_guard lock(m_mutex);
  const auto before = m_book.relation(inv->key);
  auto c = m_book.add(*inv, name, note, m_now() / 1000);
  if (!c) return tl::unexpected(c.error());
  auto& reach = m_reach[c->key];
  reach.next_attempt = 0;  // dial (and ask) at once
  reach.requested_at = 0;
  reach.backoff = std::chrono::milliseconds(0);
  if (before == contacts::Relation::incoming && c->relation == contacts::Relation::accepted)
    publish("contact.accepted", contact_json(*c));
  return contact_json(*c);
}

Result<nlohmann::json> Messenger::accept(const std::string& who) {
  std::lock_guard lock(m_mutex);
  auto c = m_book.resolve(who);
  if (!c) return tl::unexpected(c.error());
  if (auto s = m_book.accept(c->key); !s) return tl::unexpected(s.error());
  promote(c->key);  // their request's channel, if still open, carries the answer at once
  auto& reach = m_reach[c->key];
  reach.next_attempt = 0;  // dial them: the channel tells them we accepted (kContactRequest answer)
  reach.backoff = std::chrono::milliseconds(0);
  const auto* now = m_book.find(c->key);
  publish("contact.accepted", contact_json(*now));
  return contact_json(*now);
}

Status Messenger::decline(const std::string& who) {
  std::lock_guard lock(m_mutex);
  auto c = m_book.resolve(who);
  if (!c) return tl::unexpected(c.error());
  if (auto it = m_pending.find(c->key); it != m_pending.end()) {
    it->second->close("declined");
    m_pending.erase(it);
  }
  return m_book.decline(c->key);
}

Status Messenger::block(const std::string& who) {
  std::lock_guard lock(m_mutex);
  crypto::PublicKey key;
  if (auto c = m_book.resolve(who))
    key = c->key;
  else if (auto k = identity::decode_id(who))
    key = *k;
  else
    return tl::unexpected(c.error());
  if (key == m_user.public_key()) return tl::unexpected(invalid("that is your own kith ID"));
  if (auto s = m_book.block(key, m_now() / 1000); !s) return s;
  if (auto it = m_pending.find(key); it != m_pending.end()) {
    it->second->close("blocked");
    m_pending.erase(it);
  }
  for (auto& [k, p] : m_peers)
    if (p.cert.user == key) p.channel->close("blocked");
  publish("contact.blocked", {{"id", identity::encode_id(key)}});
  return {};
}

Status Messenger::remove(const std::string& who) {
  std::lock_guard lock(m_mutex);
  auto c = m_book.resolve(who);
  if (!c) return tl::unexpected(c.error());
  if (auto s = m_book.remove(c->key); !s) return s;
  if (auto it = m_pending.find(c->key); it != m_pending.end()) {
    it->second->close("removed");
    m_pending.erase(it);
  }
  for (auto& [k, p] : m_peers)
    if (p.cert.user == c->key) p.channel->close("removed from contacts");
  m_reach.erase(c->key);
  publish("contact.removed", {{"id", c->id}});
  return {};
}

Status Messenger::rename(const std::string& who, const std::string& name) {
  std::lock_guard lock(m_mutex);
  auto c = m_book.resolve(who);
  if (!c) return tl::unexpected(c.error());
  return m_book.rename(c->key, name);
}

Status Messenger::add_address(const std::string& who, const std::string& address) {
  std::lock_guard lock(m_mutex);
  auto c = m_book.resolve(who);
  if (!c) return tl::unexpected(c.error());
  if (auto s = m_book.add_addrs(c->key, {address}); !s) return s;
  auto& reach = m_reach[c->key];
  reach.next_attempt = 0;
  reach.backoff = std::chrono::milliseconds(0);
  return {};
}

nlohmann::json Messenger::contacts() {
  std::lock_guard lock(m_mutex);
  auto out = nlohmann::json::array();
  for (const auto& c : m_book.list())
    if (c.relation != contacts::Relation::incoming) out.push_back(contact_json(c));
  return out;
}

nlohmann::json Messenger::requests() {
  std::lock_guard lock(m_mutex);
  auto out = nlohmann::json::array();
  for (const auto& c : m_book.list())
    if (c.relation == contacts::Relation::incoming) out.push_back(contact_json(c));
  return out;
}

Result<nlohmann::json> Messenger::contact(const std::string& who) {
  std::lock_guard lock(m_mutex);
  auto c = m_book.resolve(who);
  if (!c) return tl::unexpected(c.error());
  return contact_json(*c);
}

nlohmann::json Messenger::contact_json(const contacts::Contact& c) const {
  nlohmann::json j = {{"id", c.id},
                      {"name", c.name},
                      {"state", contacts::to_string(c.relation)},
                      {"addrs", c.addrs},
                      {"added_at", c.added_at},
                      {"last_seen", c.last_seen ? nlohmann::json(c.last_seen) : nlohmann::json()},
                      {"online", false},
                      {"via", nullptr},
                      {"address", nullptr}};
  if (!c.note.empty()) j["note"] = c.note;
  for (const auto& [k, p] : m_peers) {
    if (p.cert.user != c.key || !p.hello || p.channel->closed()) continue;
    j["online"] = true;
    j["address"] = p.channel->remote_address();
    // On the LAN: a private or link-local address, or one the contact's LAN beacons came from.
    std::string via = network_of(p.channel->remote_address());
    const auto host = host_of(p.channel->remote_address());
    if (auto r = m_reach.find(c.key); r != m_reach.end())
      for (const auto& [addr, how] : r->second.addrs)
        if (how.first == Via::lan && host_of(addr) == host) via = "lan";
    j["via"] = via;
    j["incoming"] = p.channel->incoming();
  }
  if (auto it = m_reach.find(c.key); it != m_reach.end()) {
    auto known = nlohmann::json::array();
    for (const auto& [addr, how] : it->second.addrs)
      known.push_back({{"address", addr},
                       {"source", how.first == Via::lan        ? "lan"
                                  : how.first == Via::internet ? "dht"
                                                               : "hint"}});
    j["discovered"] = known;
  }
  if (c.relation == contacts::Relation::accepted) {
    auto unread = m_messages.unread(c.id);
    j["unread"] = unread ? *unread : 0;
  }
  return j;
}

Result<std::string> Messenger::conversation_of(const std::string& who) const {
  if (who.empty()) return std::string();
  if (who.rfind(GROUP_PREFIX, 0) == 0) {
    auto g = resolve_group(who.substr(GROUP_PREFIX.size()));
    if (!g) return tl::unexpected(g.error());
    return std::string(GROUP_PREFIX) + g->id;
  }
  auto c = m_book.resolve(who);
  if (!c) return tl::unexpected(c.error());
  return c->id;
}

Result<store::GroupRecord> Messenger::resolve_group(const std::string& name_or_id) const {
  auto all = m_contact_store.groups();
  if (!all) return tl::unexpected(all.error());
  std::vector<store::GroupRecord> hits;
  for (const auto& g : *all)
    if (g.id == name_or_id || g.name == name_or_id ||
        (name_or_id.size() >= 6 && g.id.rfind(name_or_id, 0) == 0))
      hits.push_back(g);
  if (hits.size() == 1) return hits.front();
  if (hits.empty())
    return tl::unexpected(not_found("no group named '" + name_or_id + "' (see `kith group list`)"));
  return tl::unexpected(invalid("'" + name_or_id + "' names several groups; use the group's id"));
}

Result<nlohmann::json> Messenger::post(const std::string& conversation,
                                       const std::vector<std::string>& recipients,
                                       wire::pb::MessageBody body) {
  auto seq = m_messages.next_seq(conversation, m_user_id);
  if (!seq) return tl::unexpected(seq.error());
  body.set_id(crypto::random_bytes(wire::MESSAGE_ID_SIZE));
  body.set_author(wire::to_bytes(m_user.public_key()));
  body.set_sent_at_ms(m_now());
  body.set_seq(static_cast<std::uint64_t>(*seq));
  const auto signed_msg = wire::sign_message(body, m_user);
  store::MessageRecord m;
  m.id = hex(body.id());
  m.conversation = conversation;
  m.author = m_user_id;
  m.outgoing = true;
  m.seq = *seq;
  m.sent_at = body.sent_at_ms();
  m.received_at = m.sent_at;
  m.text = body.text();
  m.signed_bytes = signed_msg.SerializeAsString();
  auto inserted = m_messages.insert(m, recipients, m_now());
  if (!inserted) return tl::unexpected(inserted.error());
  for (const auto& r : recipients) deliver_now(r, m);
  auto j = message_json(m);
  publish("message.sent", j);
  return j;
}

void Messenger::deliver_now(const std::string& recipient_id, const store::MessageRecord& m) {
  auto key = identity::decode_id(recipient_id);
  if (!key) return;
  Peer* peer = peer_of_user(*key);
  if (!peer || peer->sent.count(m.id)) return;
  wire::pb::Frame f;
  if (!f.mutable_message()->ParseFromString(m.signed_bytes)) return;
  peer->sent.insert(m.id);
  send_frame(*peer, std::move(f));
}

void Messenger::flush(Peer& peer) {
  flush_offers(peer);
  const auto id = identity::encode_id(peer.cert.user);
  auto out = m_messages.outbox(id);
  if (out)
    for (const auto& m : *out) deliver_now(id, m);
  auto receipts = m_messages.pending_receipts(id);
  if (!receipts) return;
  for (const auto& mid : *receipts) {
    auto raw = base::from_hex(mid);
    if (!raw) continue;
    wire::pb::Frame f;
    f.mutable_receipt()->set_message_id(*raw);
    f.mutable_receipt()->set_kind(wire::pb::Receipt::READ);
    send_frame(peer, std::move(f));
    (void)m_messages.remove_pending_receipt(mid, id);
  }
}

Result<nlohmann::json> Messenger::send_text(const std::string& who, const std::string& text) {
  if (text.empty()) return tl::unexpected(invalid("the message is empty"));
  if (text.size() > wire::MAX_TEXT) return tl::unexpected(invalid("a message is at most 16 KiB"));
  std::lock_guard lock(m_mutex);
  auto c = m_book.resolve(who);
  if (!c) return tl::unexpected(c.error());
  if (c->relation != contacts::Relation::accepted)
    return tl::unexpected(invalid(c->name + " is not an accepted contact (" +
                                  contacts::to_string(c->relation) +
                                  "); messages go to accepted contacts only"));
  wire::pb::MessageBody body;
  body.set_recipient(wire::to_bytes(c->key));
  body.set_text(text);
  return post(c->id, {c->id}, std::move(body));
}

void Messenger::on_message(Peer& peer, const wire::pb::SignedMessage& message) {
  const auto from = identity::encode_id(peer.cert.user);
  auto body = wire::open_message(message);
  auto reject = [&](const std::string& why) {
    ++m_rejected_messages;
    spdlog::warn("refused a message from {}: {}", from, why);
  };
  if (!body) return reject(body.error().message);
  const auto author = *wire::key_from_bytes(body->author());
  std::string conversation;
  std::vector<std::string> relay_to;
  if (body->has_group()) {
    const auto& g = body->group();
    const auto gid = hex(g.id());
    bool me_in = false, peer_in = false;
    for (const auto& mem : g.members()) {
      me_in |= mem.key() == wire::to_bytes(m_user.public_key());
      peer_in |= mem.key() == wire::to_bytes(peer.cert.user);
    }
    auto stored = m_contact_store.group(gid);
    const std::string creator =
        stored && *stored ? (*stored)->creator : identity::encode_id(*wire::key_from_bytes(g.creator()));
    if (stored && *stored && identity::encode_id(*wire::key_from_bytes(g.creator())) != creator)
      return reject("group " + gid + " claims another creator");
    if (!me_in || !peer_in) return reject("not a member of group " + gid);
    if (author != peer.cert.user && from != creator)
      return reject("only a group's creator relays others' messages");
    // The creator's messages carry the membership everyone follows.
    if (!stored || !*stored || identity::encode_id(author) == creator) {
      store::GroupRecord rec;
      rec.id = gid;
      rec.name = g.name();
      rec.creator = creator;
      auto members = nlohmann::json::array();
      for (const auto& mem : g.members())
        members.push_back(
            {{"id", identity::encode_id(*wire::key_from_bytes(mem.key()))}, {"name", mem.name()}});
      rec.members = members.dump();
      rec.created_at = stored && *stored ? (*stored)->created_at : m_now() / 1000;
      (void)m_contact_store.put_group(rec);
    }
    conversation = std::string(GROUP_PREFIX) + gid;
    if (creator == m_user_id && author != m_user.public_key())
      for (const auto& mem : g.members()) {
        auto id = identity::encode_id(*wire::key_from_bytes(mem.key()));
        if (id != m_user_id && mem.key() != body->author()) relay_to.push_back(id);
      }
  } else {
    if (author != peer.cert.user) return reject("a direct message from someone else than the channel's peer");
    if (body->recipient() != wire::to_bytes(m_user.public_key()))
      return reject("a direct message for someone else");
    conversation = from;
  }
  store::MessageRecord m;
  m.id = hex(body->id());
  m.conversation = conversation;
  m.author = identity::encode_id(author);
  m.seq = static_cast<std::int64_t>(body->seq());
  m.sent_at = body->sent_at_ms();
  m.received_at = m_now();
  m.text = body->text();
  m.signed_bytes = message.SerializeAsString();
  auto inserted = m_messages.insert(m, relay_to, m_now());
  if (!inserted) {
    spdlog::error("cannot store a message from {}: {}", from, inserted.error().message);
    return;  // no receipt: the sender keeps it and sends it again
  }
  wire::pb::Frame receipt;
  receipt.mutable_receipt()->set_message_id(body->id());
  receipt.mutable_receipt()->set_kind(wire::pb::Receipt::DELIVERED);
  send_frame(peer, std::move(receipt));  // for a duplicate too: the first receipt may have been lost
  if (!*inserted) return;
  publish("message.received", message_json(m));
  for (const auto& r : relay_to) deliver_now(r, m);
}

void Messenger::on_receipt(Peer& peer, const wire::pb::Receipt& receipt) {
  const auto id = hex(receipt.message_id());
  const auto by = identity::encode_id(peer.cert.user);
  peer.sent.erase(id);
  const bool read = receipt.kind() == wire::pb::Receipt::READ;
  auto changed = read ? m_messages.mark_read(id, by, m_now()) : m_messages.mark_delivered(id, by, m_now());
  if (!changed || !*changed) return;
  publish(read ? "message.read" : "message.delivered", {{"id", id}, {"by", by}});
}

Result<nlohmann::json> Messenger::mark_read(const std::string& who) {
  std::lock_guard lock(m_mutex);
  auto conv = conversation_of(who);
  if (!conv) return tl::unexpected(conv.error());
  if (conv->empty()) return tl::unexpected(invalid("name a conversation to mark read"));
  auto read = m_messages.read_conversation(*conv, m_now());
  if (!read) return tl::unexpected(read.error());
  int receipts = 0;
  for (const auto& m : *read) {
    if (m.conversation.rfind(GROUP_PREFIX, 0) == 0) continue;  // read receipts are for direct messages
    auto key = identity::decode_id(m.author);
    if (!key) continue;
    ++receipts;
    if (Peer* peer = peer_of_user(*key)) {
      wire::pb::Frame f;
      f.mutable_receipt()->set_message_id(*base::from_hex(m.id));
      f.mutable_receipt()->set_kind(wire::pb::Receipt::READ);
      send_frame(*peer, std::move(f));
    } else {
      (void)m_messages.add_pending_receipt(m.id, m.author);
    }
  }
  return nlohmann::json{{"conversation", *conv}, {"read", read->size()}, {"receipts", receipts}};
}

Result<nlohmann::json> Messenger::message(const std::string& id) {
  std::lock_guard lock(m_mutex);
  auto m = m_messages.get(id);
  if (!m) return tl::unexpected(m.error());
  if (!*m) return tl::unexpected(not_found("no message " + id));
  auto j = message_json(**m);
  if (auto d = m_messages.deliveries(id)) {
    auto list = nlohmann::json::array();
    for (const auto& r : *d)
      list.push_back({{"recipient", r.recipient},
                      {"delivered_at", r.delivered_at ? nlohmann::json(r.delivered_at) : nlohmann::json()},
                      {"read_at", r.read_at ? nlohmann::json(r.read_at) : nlohmann::json()}});
    j["deliveries"] = list;
  }
  return j;
}

Result<nlohmann::json> Messenger::inbox(const std::string& conversation, const std::string& search, int limit,
                                        std::int64_t after) {
  std::lock_guard lock(m_mutex);
  auto conv = conversation_of(conversation);
  if (!conv) return tl::unexpected(conv.error());
  limit = std::clamp(limit, 1, 1000);
  auto rows =
      search.empty() ? m_messages.history(*conv, limit, after) : m_messages.search(search, *conv, limit);
  if (!rows) return tl::unexpected(rows.error());
  auto list = nlohmann::json::array();
  std::int64_t cursor = after;
  for (const auto& m : *rows) {
    list.push_back(message_json(m));
    cursor = std::max(cursor, m.rowid);
  }
  return nlohmann::json{{"messages", list}, {"cursor", cursor}};
}

nlohmann::json Messenger::message_json(const store::MessageRecord& m) {
  auto name_of = [&](const std::string& id) -> std::string {
    if (id == m_user_id) return m_options.name.empty() ? "me" : m_options.name;
    if (auto k = identity::decode_id(id))
      if (auto* c = m_book.find(*k)) return c->name;
    return id.substr(0, 8);
  };
  nlohmann::json j = {{"id", m.id},
                      {"conversation", m.conversation},
                      {"author", m.author},
                      {"author_name", name_of(m.author)},
                      {"outgoing", m.outgoing},
                      {"seq", m.seq},
                      {"sent_at", m.sent_at},
                      {"received_at", m.received_at},
                      {"text", m.text},
                      {"cursor", m.rowid}};
  if (m.conversation.rfind(GROUP_PREFIX, 0) == 0) {
    auto g = m_contact_store.group(m.conversation.substr(GROUP_PREFIX.size()));
    j["conversation_name"] = g && *g ? "group:" + (*g)->name : m.conversation;
  } else {
    j["conversation_name"] = name_of(m.conversation);
  }
  if (!m.outgoing) {
    j["read"] = m.read_at != 0;
    return j;
  }
  auto d = m_messages.deliveries(m.id);
  int delivered = 0, read = 0, total = 0;
  if (d)
    for (const auto& r : *d) {
      ++total;
      delivered += r.delivered_at != 0;
      read += r.read_at != 0;
    }
  j["delivered"] = delivered;
  j["recipients"] = total;
  j["status"] = total && read == total ? "read" : total && delivered == total ? "delivered" : "queued";
  return j;
}

nlohmann::json Messenger::group_json(const store::GroupRecord& g) const {
  auto members = nlohmann::json::parse(g.members, nullptr, false);
  return {{"id", g.id},
          {"name", g.name},
          {"creator", g.creator},
          {"members", members.is_array() ? members : nlohmann::json::array()},
          {"created_at", g.created_at}};
}

Result<nlohmann::json> Messenger::group_create(const std::string& name,
                                               const std::vector<std::string>& members) {
  if (!identity::valid_name(name))
    return tl::unexpected(invalid("a group name is 1-64 bytes without control characters"));
  std::lock_guard lock(m_mutex);
  if (resolve_group(name)) return tl::unexpected(invalid("a group named '" + name + "' exists"));
  auto list = nlohmann::json::array({{{"id", m_user_id}, {"name", m_options.name}}});
  for (const auto& who : members) {
    auto c = m_book.resolve(who);
    if (!c) return tl::unexpected(c.error());
    if (c->relation != contacts::Relation::accepted)
      return tl::unexpected(invalid(c->name + " is not an accepted contact"));
    list.push_back({{"id", c->id}, {"name", c->name}});
  }
  if (list.size() > static_cast<std::size_t>(wire::MAX_GROUP_MEMBERS))
    return tl::unexpected(invalid("a group has at most 32 members"));
  store::GroupRecord g{hex(crypto::random_bytes(16)), name, m_user_id, list.dump(), m_now() / 1000};
  if (auto s = m_contact_store.put_group(g); !s) return tl::unexpected(s.error());
  return group_json(g);
}

Result<nlohmann::json> Messenger::group_add(const std::string& group, const std::string& who) {
  std::lock_guard lock(m_mutex);
  auto g = resolve_group(group);
  if (!g) return tl::unexpected(g.error());
  if (g->creator != m_user_id) return tl::unexpected(invalid("only the group's creator adds members"));
  auto c = m_book.resolve(who);
  if (!c) return tl::unexpected(c.error());
  if (c->relation != contacts::Relation::accepted)
    return tl::unexpected(invalid(c->name + " is not an accepted contact"));
  auto list = nlohmann::json::parse(g->members);
  for (const auto& m : list)
    if (m.value("id", "") == c->id) return group_json(*g);
  if (list.size() >= static_cast<std::size_t>(wire::MAX_GROUP_MEMBERS))
    return tl::unexpected(invalid("a group has at most 32 members"));
  list.push_back({{"id", c->id}, {"name", c->name}});
  g->members = list.dump();
  if (auto s = m_contact_store.put_group(*g); !s) return tl::unexpected(s.error());
  return group_json(*g);
}

Result<nlohmann::json> Messenger::group_send(const std::string& group, const std::string& text) {
  if (text.empty() || text.size() > wire::MAX_TEXT)
    return tl::unexpected(invalid("a message is 1 byte to 16 KiB"));
  std::lock_guard lock(m_mutex);
  auto g = resolve_group(group);
  if (!g) return tl::unexpected(g.error());
  wire::pb::MessageBody body;
  body.set_text(text);
  auto* pg = body.mutable_group();
  pg->set_id(*base::from_hex(g->id));
  pg->set_name(g->name);
  pg->set_creator(wire::to_bytes(*identity::decode_id(g->creator)));
  std::vector<std::string> recipients;
  bool me_in = false;
  for (const auto& m : nlohmann::json::parse(g->members)) {
    const auto id = m.value("id", "");
    auto key = identity::decode_id(id);
    if (!key) continue;
    auto* mem = pg->add_members();
    mem->set_key(wire::to_bytes(*key));
    mem->set_name(m.value("name", ""));
    if (id == m_user_id) {
      me_in = true;
      continue;
    }
    // Everyone we can reach ourselves; the creator relays to the rest.
    if (id == g->creator || m_book.relation(*key) == contacts::Relation::accepted) recipients.push_back(id);
  }
  if (!me_in) return tl::unexpected(invalid("you are not a member of that group"));
  if (pg->members_size() < 2)
    return tl::unexpected(invalid("the group has no other member yet: `kith group add`"));
  return post(std::string(GROUP_PREFIX) + g->id, recipients, std::move(body));
}

nlohmann::json Messenger::groups() {
  std::lock_guard lock(m_mutex);
  auto out = nlohmann::json::array();
  if (auto all = m_contact_store.groups())
    for (const auto& g : *all) out.push_back(group_json(g));
  return out;
}

}  // namespace kith::messaging
