// Messenger: contact commands, messages, receipts, groups, and the views of them (views.hpp).
#include <spdlog/spdlog.h>

#include <boost/asio/ip/address.hpp>
#include <nlohmann/json.hpp>  // group members are stored as JSON

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

// Via::lan for loopback, private, link-local and unique-local addresses; Via::internet otherwise.
Via network_of(const std::string& endpoint) {
  auto host = endpoint.substr(0, endpoint.rfind(':'));
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  boost::system::error_code ec;
  auto a = boost::asio::ip::make_address(host, ec);
  if (ec) return Via::internet;
  if (a.is_v4()) {
    const auto b = a.to_v4().to_bytes();
    const bool lan = b[0] == 127 || b[0] == 10 || (b[0] == 172 && (b[1] & 0xf0) == 16) ||
                     (b[0] == 192 && b[1] == 168) || (b[0] == 169 && b[1] == 254);
    return lan ? Via::lan : Via::internet;
  }
  const auto v6 = a.to_v6();
  return v6.is_loopback() || v6.is_link_local() || (v6.to_bytes()[0] & 0xfe) == 0xfc ? Via::lan
                                                                                     : Via::internet;
}

std::string hex(std::string_view bytes) { return base::to_hex(bytes); }

// Group members as stored ([{id, name}], written by us); anything else reads as no members.
std::vector<GroupMember> members_of(const store::GroupRecord& g) {
  std::vector<GroupMember> out;
  auto list = nlohmann::json::parse(g.members, nullptr, false);
  if (!list.is_array()) return out;
  auto text = [](const nlohmann::json& m, const char* key) {
    auto it = m.find(key);
    return it != m.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  for (const auto& m : list)
    if (m.is_object()) out.push_back({text(m, "id"), text(m, "name")});
  return out;
}

std::string members_json(const std::vector<GroupMember>& members) {
  auto list = nlohmann::json::array();
  for (const auto& m : members) list.push_back({{"id", m.id}, {"name", m.name}});
  return list.dump();
}

GroupView group_view(const store::GroupRecord& g) {
  return {g.id, g.name, g.creator, members_of(g), g.created_at};
}

}  // namespace

// --- public calls: posted onto the strand ------------------------------------------------------------

void Messenger::add_contact(std::string invite_or_id, std::string name, std::string note,
                            base::Done<Result<ContactView>> done) {
  answer(std::move(done), [this, invite_or_id = std::move(invite_or_id), name = std::move(name),
                           note = std::move(note)] { return do_add_contact(invite_or_id, name, note); });
}

void Messenger::accept(std::string who, base::Done<Result<ContactView>> done) {
  answer(std::move(done), [this, who = std::move(who)] { return do_accept(who); });
}

void Messenger::decline(std::string who, base::Done<Status> done) {
  answer(std::move(done), [this, who = std::move(who)] { return do_decline(who); });
}

void Messenger::block(std::string who, base::Done<Status> done) {
  answer(std::move(done), [this, who = std::move(who)] { return do_block(who); });
}

void Messenger::remove(std::string who, base::Done<Status> done) {
  answer(std::move(done), [this, who = std::move(who)] { return do_remove(who); });
}

void Messenger::rename(std::string who, std::string name, base::Done<Status> done) {
  answer(std::move(done), [this, who = std::move(who), name = std::move(name)]() -> Status {
    auto c = m_book.resolve(who);
    if (!c) return tl::unexpected(c.error());
    return m_book.rename(c->key, name);
  });
}

void Messenger::add_address(std::string who, std::string address, base::Done<Status> done) {
  answer(std::move(done),
         [this, who = std::move(who), address = std::move(address)] { return do_add_address(who, address); });
}

void Messenger::contacts(base::Done<Result<std::vector<ContactView>>> done) {
  answer(std::move(done), [this]() -> Result<std::vector<ContactView>> {
    std::vector<ContactView> out;
    for (const auto& c : m_book.list())
      if (c.relation != contacts::Relation::incoming) out.push_back(contact_view(c));
    return out;
  });
}

void Messenger::requests(base::Done<Result<std::vector<ContactView>>> done) {
  answer(std::move(done), [this]() -> Result<std::vector<ContactView>> {
    std::vector<ContactView> out;
    for (const auto& c : m_book.list())
      if (c.relation == contacts::Relation::incoming) out.push_back(contact_view(c));
    return out;
  });
}

void Messenger::contact(std::string who, base::Done<Result<ContactView>> done) {
  answer(std::move(done), [this, who = std::move(who)]() -> Result<ContactView> {
    auto c = m_book.resolve(who);
    if (!c) return tl::unexpected(c.error());
    return contact_view(*c);
  });
}

void Messenger::send_text(std::string who, std::string text, base::Done<Result<MessageView>> done) {
  answer(std::move(done),
         [this, who = std::move(who), text = std::move(text)] { return do_send_text(who, text); });
}

void Messenger::group_create(std::string name, std::vector<std::string> members,
                             base::Done<Result<GroupView>> done) {
  answer(std::move(done), [this, name = std::move(name), members = std::move(members)] {
    return do_group_create(name, members);
  });
}

void Messenger::group_add(std::string group, std::string who, base::Done<Result<GroupView>> done) {
  answer(std::move(done),
         [this, group = std::move(group), who = std::move(who)] { return do_group_add(group, who); });
}

void Messenger::group_send(std::string group, std::string text, base::Done<Result<MessageView>> done) {
  answer(std::move(done),
         [this, group = std::move(group), text = std::move(text)] { return do_group_send(group, text); });
}

void Messenger::groups(base::Done<Result<std::vector<GroupView>>> done) {
  answer(std::move(done), [this]() -> Result<std::vector<GroupView>> {
    auto all = m_contact_store.groups();
    if (!all) return tl::unexpected(all.error());
    std::vector<GroupView> out;
    for (const auto& g : *all) out.push_back(group_view(g));
    return out;
  });
}

void Messenger::inbox(std::string conversation, std::string search, int limit, std::int64_t after,
                      base::Done<Result<InboxPage>> done) {
  answer(std::move(done), [this, conversation = std::move(conversation), search = std::move(search), limit,
                           after] { return do_inbox(conversation, search, limit, after); });
}

void Messenger::message(std::string id, base::Done<Result<MessageDetails>> done) {
  answer(std::move(done), [this, id = std::move(id)] { return do_message(id); });
}

void Messenger::mark_read(std::string conversation, base::Done<Result<MarkReadResult>> done) {
  answer(std::move(done),
         [this, conversation = std::move(conversation)] { return do_mark_read(conversation); });
}

// --- contacts -----------------------------------------------------------------------------------------

Result<ContactView> Messenger::do_add_contact(const std::string& invite_or_id, const std::string& name,
                                              const std::string& note) {
  KITH_ASSERT_ON(m_strand);
  auto inv = identity::parse_invite(invite_or_id);
  if (!inv) return tl::unexpected(inv.error());
  if (inv->key == m_user.public_key()) return tl::unexpected(invalid("that is your own kith ID"));
  if (!name.empty() && !identity::valid_name(name))
    return tl::unexpected(invalid("a name is 1-64 bytes without control characters"));
  const auto before = m_book.relation(inv->key);
  auto c = m_book.add(*inv, name, note, m_now() / 1000);
  if (!c) return tl::unexpected(c.error());
  auto& reach = m_reach[c->key];
  reach.next_attempt = 0;  // dial (and ask) at once
  reach.requested_at = 0;
  reach.backoff = std::chrono::milliseconds(0);
  auto view = contact_view(*c);
  if (before == contacts::Relation::incoming && c->relation == contacts::Relation::accepted)
    emit(ContactAccepted{view});
  return view;
}

Result<ContactView> Messenger::do_accept(const std::string& who) {
  KITH_ASSERT_ON(m_strand);
  auto c = m_book.resolve(who);
  if (!c) return tl::unexpected(c.error());
  if (auto s = m_book.accept(c->key); !s) return tl::unexpected(s.error());
  promote(c->key);  // their request's channel, if still open, carries the answer at once
  auto& reach = m_reach[c->key];
  reach.next_attempt = 0;  // dial them: the channel tells them we accepted (kContactRequest answer)
  reach.backoff = std::chrono::milliseconds(0);
  auto view = contact_view(*m_book.find(c->key));
  emit(ContactAccepted{view});
  return view;
}

Status Messenger::do_decline(const std::string& who) {
  KITH_ASSERT_ON(m_strand);
  auto c = m_book.resolve(who);
  if (!c) return tl::unexpected(c.error());
  if (auto it = m_pending.find(c->key); it != m_pending.end()) {
    it->second->close("declined");
    m_pending.erase(it);
  }
  return m_book.decline(c->key);
}

Status Messenger::do_block(const std::string& who) {
  KITH_ASSERT_ON(m_strand);
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
  emit(ContactBlocked{key, identity::encode_id(key)});
  return {};
}

Status Messenger::do_remove(const std::string& who) {
  KITH_ASSERT_ON(m_strand);
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
  emit(ContactRemoved{c->key, c->id});
  return {};
}

Status Messenger::do_add_address(const std::string& who, const std::string& address) {
  KITH_ASSERT_ON(m_strand);
  auto c = m_book.resolve(who);
  if (!c) return tl::unexpected(c.error());
  if (auto s = m_book.add_addrs(c->key, {address}); !s) return s;
  auto& reach = m_reach[c->key];
  reach.next_attempt = 0;
  reach.backoff = std::chrono::milliseconds(0);
  return {};
}

ContactView Messenger::contact_view(const contacts::Contact& c) const {
  KITH_ASSERT_ON(m_strand);
  ContactView v;
  v.key = c.key;
  v.id = c.id;
  v.name = c.name;
  v.relation = c.relation;
  v.note = c.note;
  v.addrs = c.addrs;
  v.added_at = c.added_at;
  v.last_seen = c.last_seen;
  for (const auto& [k, p] : m_peers) {
    if (p.cert.user != c.key || !p.hello || p.channel->closed()) continue;
    v.online = true;
    v.address = p.channel->remote_address();
    // On the LAN: a private or link-local address, or one the contact's LAN beacons came from.
    Via via = network_of(p.channel->remote_address());
    const auto host = host_of(p.channel->remote_address());
    if (auto r = m_reach.find(c.key); r != m_reach.end())
      for (const auto& [addr, how] : r->second.addrs)
        if (how.first == Via::lan && host_of(addr) == host) via = Via::lan;
    v.via = via;
    v.incoming = p.channel->incoming();
    v.path = net::to_string(p.channel->path());
    if (p.channel->relayed())
      v.via = Via::internet;  // the relay's address says nothing about the contact's network
  }
  if (auto it = m_reach.find(c.key); it != m_reach.end()) {
    std::vector<DiscoveredAddress> known;
    for (const auto& [addr, how] : it->second.addrs) known.push_back({addr, how.first});
    v.discovered = std::move(known);
  }
  if (c.relation == contacts::Relation::accepted) {
    auto unread = m_messages.unread(c.id);
    v.unread = unread ? *unread : 0;
  }
  return v;
}

// --- messages -----------------------------------------------------------------------------------------

Result<std::string> Messenger::conversation_of(const std::string& who) const {
  KITH_ASSERT_ON(m_strand);
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
  KITH_ASSERT_ON(m_strand);
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

Result<MessageView> Messenger::post(const std::string& conversation,
                                    const std::vector<std::string>& recipients, wire::pb::MessageBody body) {
  KITH_ASSERT_ON(m_strand);
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
  auto view = message_view(m);
  emit(MessageSent{view});
  return view;
}

void Messenger::deliver_now(const std::string& recipient_id, const store::MessageRecord& m) {
  KITH_ASSERT_ON(m_strand);
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
  KITH_ASSERT_ON(m_strand);
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
    if (auto s = m_messages.remove_pending_receipt(mid, id); !s)
      spdlog::warn("a read receipt for {} stays queued: {}", id, s.error().message);
  }
}

Result<MessageView> Messenger::do_send_text(const std::string& who, const std::string& text) {
  KITH_ASSERT_ON(m_strand);
  if (text.empty()) return tl::unexpected(invalid("the message is empty"));
  if (text.size() > wire::MAX_TEXT) return tl::unexpected(invalid("a message is at most 16 KiB"));
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
  KITH_ASSERT_ON(m_strand);
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
      std::vector<GroupMember> members;
      for (const auto& mem : g.members())
        members.push_back({identity::encode_id(*wire::key_from_bytes(mem.key())), mem.name()});
      rec.members = members_json(members);
      rec.created_at = stored && *stored ? (*stored)->created_at : m_now() / 1000;
      if (auto s = m_contact_store.put_group(rec); !s)
        spdlog::warn("cannot store group {}: {}", gid, s.error().message);
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
  emit(MessageReceived{message_view(m)});
  for (const auto& r : relay_to) deliver_now(r, m);
}

void Messenger::on_receipt(Peer& peer, const wire::pb::Receipt& receipt) {
  KITH_ASSERT_ON(m_strand);
  const auto id = hex(receipt.message_id());
  const auto by = identity::encode_id(peer.cert.user);
  peer.sent.erase(id);
  const bool read = receipt.kind() == wire::pb::Receipt::READ;
  auto changed = read ? m_messages.mark_read(id, by, m_now()) : m_messages.mark_delivered(id, by, m_now());
  if (!changed || !*changed) return;
  if (read)
    emit(MessageRead{id, by});
  else
    emit(MessageDelivered{id, by});
}

Result<MarkReadResult> Messenger::do_mark_read(const std::string& who) {
  KITH_ASSERT_ON(m_strand);
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
    } else if (auto s = m_messages.add_pending_receipt(m.id, m.author); !s) {
      spdlog::warn("a read receipt for {} is lost: {}", m.author, s.error().message);
    }
  }
  return MarkReadResult{*conv, read->size(), receipts};
}

Result<MessageDetails> Messenger::do_message(const std::string& id) {
  KITH_ASSERT_ON(m_strand);
  auto m = m_messages.get(id);
  if (!m) return tl::unexpected(m.error());
  if (!*m) return tl::unexpected(not_found("no message " + id));
  MessageDetails details{message_view(**m), std::nullopt};
  if (auto d = m_messages.deliveries(id)) {
    std::vector<Receipt> list;
    for (const auto& r : *d) list.push_back({r.recipient, r.delivered_at, r.read_at});
    details.deliveries = std::move(list);
  }
  return details;
}

Result<InboxPage> Messenger::do_inbox(const std::string& conversation, const std::string& search, int limit,
                                      std::int64_t after) {
  KITH_ASSERT_ON(m_strand);
  auto conv = conversation_of(conversation);
  if (!conv) return tl::unexpected(conv.error());
  limit = std::clamp(limit, 1, 1000);
  auto rows =
      search.empty() ? m_messages.history(*conv, limit, after) : m_messages.search(search, *conv, limit);
  if (!rows) return tl::unexpected(rows.error());
  InboxPage page;
  page.cursor = after;
  for (const auto& m : *rows) {
    page.messages.push_back(message_view(m));
    page.cursor = std::max(page.cursor, m.rowid);
  }
  return page;
}

MessageView Messenger::message_view(const store::MessageRecord& m) const {
  KITH_ASSERT_ON(m_strand);
  auto name_of = [&](const std::string& id) -> std::string {
    if (id == m_user_id) return m_options.name.empty() ? "me" : m_options.name;
    if (auto k = identity::decode_id(id))
      if (auto* c = m_book.find(*k)) return c->name;
    return id.substr(0, 8);
  };
  MessageView v;
  v.id = m.id;
  v.conversation = m.conversation;
  v.author = m.author;
  v.author_name = name_of(m.author);
  v.outgoing = m.outgoing;
  v.seq = m.seq;
  v.sent_at = m.sent_at;
  v.received_at = m.received_at;
  v.text = m.text;
  v.cursor = m.rowid;
  if (m.conversation.rfind(GROUP_PREFIX, 0) == 0) {
    auto g = m_contact_store.group(m.conversation.substr(GROUP_PREFIX.size()));
    v.conversation_name = g && *g ? "group:" + (*g)->name : m.conversation;
  } else {
    v.conversation_name = name_of(m.conversation);
  }
  if (!m.outgoing) {
    v.read = m.read_at != 0;
    return v;
  }
  auto d = m_messages.deliveries(m.id);
  int delivered = 0, read = 0, total = 0;
  if (d)
    for (const auto& r : *d) {
      ++total;
      delivered += r.delivered_at != 0;
      read += r.read_at != 0;
    }
  v.delivered = delivered;
  v.recipients = total;
  v.state = total && read == total        ? MessageView::State::read
            : total && delivered == total ? MessageView::State::delivered
                                          : MessageView::State::queued;
  return v;
}

// --- groups -------------------------------------------------------------------------------------------

Result<GroupView> Messenger::do_group_create(const std::string& name,
                                             const std::vector<std::string>& members) {
  KITH_ASSERT_ON(m_strand);
  if (!identity::valid_name(name))
    return tl::unexpected(invalid("a group name is 1-64 bytes without control characters"));
  if (resolve_group(name)) return tl::unexpected(invalid("a group named '" + name + "' exists"));
  std::vector<GroupMember> list = {{m_user_id, m_options.name}};
  for (const auto& who : members) {
    auto c = m_book.resolve(who);
    if (!c) return tl::unexpected(c.error());
    if (c->relation != contacts::Relation::accepted)
      return tl::unexpected(invalid(c->name + " is not an accepted contact"));
    list.push_back({c->id, c->name});
  }
  if (list.size() > static_cast<std::size_t>(wire::MAX_GROUP_MEMBERS))
    return tl::unexpected(invalid("a group has at most 32 members"));
  store::GroupRecord g{hex(crypto::random_bytes(16)), name, m_user_id, members_json(list), m_now() / 1000};
  if (auto s = m_contact_store.put_group(g); !s) return tl::unexpected(s.error());
  return group_view(g);
}

Result<GroupView> Messenger::do_group_add(const std::string& group, const std::string& who) {
  KITH_ASSERT_ON(m_strand);
  auto g = resolve_group(group);
  if (!g) return tl::unexpected(g.error());
  if (g->creator != m_user_id) return tl::unexpected(invalid("only the group's creator adds members"));
  auto c = m_book.resolve(who);
  if (!c) return tl::unexpected(c.error());
  if (c->relation != contacts::Relation::accepted)
    return tl::unexpected(invalid(c->name + " is not an accepted contact"));
  auto list = members_of(*g);
  for (const auto& m : list)
    if (m.id == c->id) return group_view(*g);
  if (list.size() >= static_cast<std::size_t>(wire::MAX_GROUP_MEMBERS))
    return tl::unexpected(invalid("a group has at most 32 members"));
  list.push_back({c->id, c->name});
  g->members = members_json(list);
  if (auto s = m_contact_store.put_group(*g); !s) return tl::unexpected(s.error());
  return group_view(*g);
}

Result<MessageView> Messenger::do_group_send(const std::string& group, const std::string& text) {
  KITH_ASSERT_ON(m_strand);
  if (text.empty() || text.size() > wire::MAX_TEXT)
    return tl::unexpected(invalid("a message is 1 byte to 16 KiB"));
  auto g = resolve_group(group);
  if (!g) return tl::unexpected(g.error());
  auto creator = identity::decode_id(g->creator);
  if (!creator) return tl::unexpected(invalid("group " + g->id + " has no valid creator"));
  wire::pb::MessageBody body;
  body.set_text(text);
  auto* pg = body.mutable_group();
  pg->set_id(*base::from_hex(g->id));
  pg->set_name(g->name);
  pg->set_creator(wire::to_bytes(*creator));
  std::vector<std::string> recipients;
  bool me_in = false;
  for (const auto& m : members_of(*g)) {
    auto key = identity::decode_id(m.id);
    if (!key) continue;
    auto* mem = pg->add_members();
    mem->set_key(wire::to_bytes(*key));
    mem->set_name(m.name);
    if (m.id == m_user_id) {
      me_in = true;
      continue;
    }
    // Everyone we can reach ourselves; the creator relays to the rest.
    if (m.id == g->creator || m_book.relation(*key) == contacts::Relation::accepted)
      recipients.push_back(m.id);
  }
  if (!me_in) return tl::unexpected(invalid("you are not a member of that group"));
  if (pg->members_size() < 2)
    return tl::unexpected(invalid("the group has no other member yet: `kith group add`"));
  return post(std::string(GROUP_PREFIX) + g->id, recipients, std::move(body));
}

}  // namespace kith::messaging
