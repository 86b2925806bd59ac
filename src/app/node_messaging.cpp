// Node: contacts and messages (issue 3). The Messenger does the work; the node gives it the keys,
// the stores, the settings and the event sink.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <chrono>
#include <variant>

#include "app/node.hpp"
#include "identity/invite.hpp"
#include "identity/kith_id.hpp"
#include "swarm/peer_hints.hpp"
#include "sync/sync_service.hpp"

namespace kith::app {
namespace {

std::int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// profile.name, else the login name: what contacts see until they rename us.
std::string display_name(const std::string& configured) {
  if (!configured.empty()) return configured;
  if (const char* user = std::getenv("USER"); user && *user) return user;
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) == 0 && *host) return host;
  return "kith user";
}

}  // namespace

Status Node::start_messaging() {
  const auto settings = m_settings.current();
  auto device = crypto::SigningKey::load_or_create(m_home.device_key_file());
  if (!device) return tl::unexpected(device.error());
  m_device_key = std::make_unique<crypto::SigningKey>(std::move(*device));
  m_contact_store = std::make_unique<store::ContactStore>(*m_db);
  m_message_store = std::make_unique<store::MessageStore>(*m_db);

  messaging::Options o;
  o.listen = settings->get_string("channel.listen");
  o.name = display_name(settings->get_string("profile.name"));
  o.relay.enabled = settings->get_bool("relay.enabled");
  o.relay.max_circuits = static_cast<int>(settings->get_int("relay.max_circuits"));
  o.relay.max_bytes = static_cast<std::uint64_t>(settings->get_int("relay.max_mib")) << 20;
  if (const auto turn = settings->get_string("rendezvous.turn"); !turn.empty()) {
    auto server = net::parse_turn_server(turn);  // checked when the setting was read
    if (server) o.turn = std::move(*server);
  }
  // The doorbell shares the swarm's DHT with the presence records; it exists before the messenger so
  // that the messenger's `ringing` calls always find it.
  if (settings->get_bool("dht.enabled") && settings->get_bool("rendezvous.enabled")) {
    m_dht_port = std::make_unique<DhtPortAdapter>(*m_swarm);
    rendezvous::DoorbellOptions bell;
    bell.poll_interval = std::chrono::seconds(settings->get_int("rendezvous.bell_poll_s"));
    bell.answer_poll = std::min<std::chrono::milliseconds>(bell.answer_poll, bell.poll_interval);
    m_doorbell = std::make_unique<rendezvous::Doorbell>(
        m_io, *m_dht_port, rendezvous::own_bell(*m_user_key), bell,
        [this](std::vector<std::string> addrs) { m_messenger->answer_rings(std::move(addrs)); },
        [this](std::string bell, std::vector<std::string> addrs) {
          m_messenger->answered(std::move(bell), std::move(addrs));
        });
    o.bell = rendezvous::own_bell(*m_user_key);
    o.ringing = [d = m_doorbell.get()](std::vector<std::string> bells) { d->set_ringing(std::move(bells)); };
  }
  // Contacts' file data through relays is joined to our SSL torrent listener, on this host.
  if (const auto ssl = m_swarm->ssl_listen_port(); ssl != 0)
    o.data_address = [ssl] { return "127.0.0.1:" + std::to_string(ssl); };
  // Contacts are told the addresses this host has (as in magnet links' x.pe hints), with the channel port.
  const auto listen = o.listen;
  o.advertise = [listen](std::uint16_t port) {
    auto host = listen.substr(0, listen.rfind(':'));
    if (host == "[::]") return swarm::peer_hints("0.0.0.0:0,[::]:0", port);
    return swarm::peer_hints(host + ":0", port);
  };
  m_messenger = std::make_unique<messaging::Messenger>(
      m_io, std::move(o), *m_user_key, *m_device_key, *m_contact_store, *m_message_store,
      [this](const messaging::Event& e) { on_messaging_event(e); }, unix_ms);
  // The messenger asks on its strand and takes the FileOfferAck through `reply`: the checks and the
  // download's add run in the file-offer service, which replies when they are done.
  m_messenger->set_file_offers(
      m_file_offers.get(),
      [this](std::string from, wire::pb::FileOffer offer,
             base::Done<messaging::Messenger::OfferReply> reply) {
        m_offers->receive(std::move(from), std::move(offer), std::move(reply));
      },
      [this](const std::string& id, bool accepted, const std::string& reason,
             const std::vector<std::string>& peers) { m_offers->acknowledged(id, accepted, reason, peers); },
      [this](const std::string& id, const std::string& state, std::int64_t done) {
        m_offers->progressed(id, state, done);
      });
  // Files to contacts go through the messenger.
  m_data_relays = std::make_unique<DataRelays>(
      m_io, *m_swarm, [this](std::string who, base::Done<Result<boost::asio::ip::tcp::socket>> done) {
        m_messenger->open_data_circuit(std::move(who), std::move(done));
      });
  m_offers = std::make_unique<FileOfferService>(FileOfferService::Deps{
      .transfers = *m_transfers,
      .swarm = *m_swarm,
      .store = *m_file_offers,
      .settings = m_settings,
      .sink = m_sink,
      .accepted_contact =
          [this](std::string who, base::Done<Result<std::string>> done) {
            m_messenger->accepted_contact(std::move(who), std::move(done));
          },
      .deliver = [this](std::string contact,
                        std::string offer) { m_messenger->deliver_offer(contact, offer); },
      .report =
          [this](std::string contact, std::string offer, std::string state, std::uint64_t done,
                 std::uint64_t total) {
            m_messenger->report_offer_progress(std::move(contact), std::move(offer), std::move(state), done,
                                               total);
          },
      .relay_data =
          [this](std::string contact, std::string transfer) {
            m_data_relays->start(std::move(contact), std::move(transfer));
          }});
  m_offer_observer = m_offers.get();  // this instance lives as long as the node
  start_calls();
  // Sync before the messenger: every Hello tells contacts this node's sync device (node_sync.cpp).
  if (auto r = start_sync(display_name(settings->get_string("profile.name"))); !r) return r;
  if (auto r = m_messenger->start(); !r) return r;
  if (settings->get_bool("nat.upnp") || settings->get_bool("nat.natpmp"))
    m_swarm->map_port(m_messenger->port());
  start_rendezvous();

  const auto lan_port = settings->get_int("lan.port");
  if (lan_port < 1 || lan_port > 65535) {
    spdlog::warn("LAN discovery is off: lan.port {} is not a UDP port (1-65535)", lan_port);
  } else if (settings->get_bool("lan.discovery")) {
    lan::Options lo;
    lo.port = static_cast<std::uint16_t>(lan_port);
    m_lan = std::make_unique<lan::Discovery>(
        m_io, lo, m_messenger->device_cert(), m_messenger->port(),
        [this](std::string_view message) { return m_device_key->sign(message); },
        [this](const lan::Sighting& s) {
          m_messenger->add_sighting(s.cert, s.address, messaging::Via::lan);
        });
    // Without LAN discovery contacts are still reached by DHT and address hints: log, do not fail.
    if (auto r = m_lan->start(); !r) {
      spdlog::warn("LAN discovery is off: {}", r.error().message);
      m_lan.reset();
    }
  }
  return {};
}

}  // namespace kith::app

namespace kith::app {

void Node::start_rendezvous() {
  if (!m_dht_port) return;  // dht.enabled or rendezvous.enabled is off (start_messaging)
  m_doorbell->set_port(m_messenger->port());
  m_doorbell->start();
  m_rendezvous = std::make_unique<rendezvous::Rendezvous>(
      m_io, *m_dht_port, *m_user_key, rendezvous::Options{},
      [this](const crypto::PublicKey& contact, const rendezvous::Presence& presence) {
        m_messenger->add_user_addresses(contact, presence.addrs, messaging::Via::internet);
      });
  m_rendezvous->set_addresses(m_messenger->addresses());
  m_messenger->accepted_contacts([r = m_rendezvous.get()](Result<std::vector<crypto::PublicKey>> keys) {
    if (keys) r->set_contacts(std::move(*keys));
  });
  m_rendezvous->start();
}

void Node::on_messaging_event(const messaging::Event& e) {
  if (m_rendezvous) {
    if (std::holds_alternative<messaging::ContactAccepted>(e) ||
        std::holds_alternative<messaging::ContactRemoved>(e) ||
        std::holds_alternative<messaging::ContactBlocked>(e))
      m_messenger->accepted_contacts([r = m_rendezvous.get()](Result<std::vector<crypto::PublicKey>> keys) {
        if (keys) r->set_contacts(std::move(*keys));
      });
    if (auto* on = std::get_if<messaging::ContactOnline>(&e)) m_rendezvous->set_online(on->contact.key, true);
    if (auto* off = std::get_if<messaging::ContactOffline>(&e))
      m_rendezvous->set_online(off->contact.key, false);
    // A public address learnt from peers goes into the DHT presence record at once.
    if (auto* moved = std::get_if<messaging::AddressesChanged>(&e))
      m_rendezvous->set_addresses(moved->addresses);
  }
  if (auto* off = std::get_if<messaging::ContactOffline>(&e); off && m_calls)
    m_calls->contact_offline(off->contact.id);
  if (m_sync) {
    if (auto* removed = std::get_if<messaging::ContactRemoved>(&e)) m_sync->forget_contact(removed->id);
    if (auto* blocked = std::get_if<messaging::ContactBlocked>(&e)) m_sync->forget_contact(blocked->id);
  }
  if (m_messaging_sink) m_messaging_sink(e);
}

Identity Node::identity() const {
  Identity out;
  out.id = m_user_id;
  out.name = display_name(m_settings.current()->get_string("profile.name"));
  if (m_messenger) {
    out.invite = m_messenger->invite();
    out.addresses = m_messenger->addresses();
    out.channel_port = m_messenger->port();
    return out;
  }
  identity::Invite inv;
  inv.key = m_user_key->public_key();
  inv.name = identity::valid_name(out.name) ? out.name : "";
  out.invite = identity::format_invite(inv);
  return out;
}

Result<messaging::Messenger*> Node::require_messenger() {
  if (m_messenger) return m_messenger.get();
  return fail(base::make_error_code(base::errc::unavailable),
              "contacts and messages run in the daemon: start it with `kith daemon` (then run this again)");
}

}  // namespace kith::app
