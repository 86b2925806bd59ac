#pragma once
// Contacts and messages over channels: the node's side of docs/protocol/channel.md.
//   - accepts channels (net::Listener) and dials contacts at the addresses it knows (LAN sightings, DHT
//     lookups, static hints), one channel per device pair, reconnecting with backoff;
//   - contact requests: a stranger's channel may carry one ContactRequest and is then held (or closed);
//     a blocked key is closed at once; only accepted contacts exchange messages;
//   - messages: signed by the author, stored (SQLite) before they are sent, kept in the outbox until the
//     recipient's delivery receipt, resent in order on every new channel, duplicates dropped by id;
//     read receipts; small groups relayed by their creator;
//   - file offers (`kith send`): carried like messages, handed to the app, acknowledged.
//
// Threading (docs/architecture.md § Concurrency model): everything the messenger knows — channels in
// use, where to reach whom, held requests, the ContactBook, counters — is owned by one strand, m_strand.
// There is no mutex. Public methods may be called from any thread: they post onto the strand and
// answer through a base::Done completion, called exactly once on the strand (with an error "the node
// is stopping" after stop()). Channels (which run on strands of their own), dials, the listener and
// timers post onto the strand too. Events, the file-offer handlers and completions are called on the
// strand after the work is done, with nothing locked: they may call the messenger back (its public
// methods post; port(), addresses(), invite(), device_cert() and status_snapshot() answer at once).
//
// Lifetime: start() once, then use; stop() from any thread (or from a callback); destroy the
// Messenger only when no thread runs the io_context any more (after io_context::stop() and joining
// its threads, or before it ever ran): handlers still queued then do nothing.
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/async.hpp"
#include "contacts/contact_book.hpp"
#include "crypto/sign.hpp"
#include "ice/ice_link.hpp"
#include "identity/device.hpp"
#include "messaging/events.hpp"
#include "messaging/views.hpp"
#include "net/channel.hpp"
#include "net/nat.hpp"
#include "net/relay.hpp"
#include "net/stun_responder.hpp"
#include "net/turn_client.hpp"
#include "store/contact_store.hpp"
#include "store/file_offer_store.hpp"
#include "store/message_store.hpp"

namespace kith::messaging {

struct RelayOptions {
  bool enabled = true;                     // relay channels between our contacts (relay.enabled)
  int max_circuits = 8;                    // spliced or waiting at once (relay.max_circuits)
  std::uint64_t max_bytes = 4ull << 30;    // per circuit, both directions; 0: no cap (relay.max_mib)
  std::chrono::milliseconds wait{15'000};  // a circuit's second half must arrive within this
  // How soon to ask relays again for someone we still cannot reach (doubling up to the max).
  std::chrono::milliseconds retry_min{5'000}, retry_max{60'000};
};

struct Options {
  std::string listen = "[::]:6882";  // channel listener (net::Listener::open); port 0: any free port
  std::string name;                  // our display name, sent in Hello and requests
  // The "host:port" addresses we tell contacts (Hello, requests, invites), given the port we listen on.
  std::function<std::vector<std::string>(std::uint16_t port)> advertise;
  net::ChannelOptions channel;
  std::chrono::milliseconds tick{500};  // how often dials are considered
  std::chrono::milliseconds backoff_min{1000};
  std::chrono::milliseconds backoff_max{60'000};
  std::chrono::milliseconds request_retry{30'000};  // an unanswered contact request is sent again
  // A stranger's channel that carries no ContactRequest within this is closed.
  std::chrono::milliseconds request_only_timeout{10'000};
  RelayOptions relay;
  // The DHT doorbell (rings.cpp; the DHT side is rendezvous::Doorbell). `bell`: ours, put in invites
  // (empty: invites carry none). `ringing`: called (on the strand, deferred) with the bells of the
  // contacts we cannot reach now, whenever that set changes.
  std::string bell;
  std::function<void(std::vector<std::string> bells)> ringing;
  // File data through relays (relays.cpp, docs/protocol/channel.md § Relays): the "host:port" of this
  // node's SSL torrent listener that a contact's data circuit is joined to ("" refuses them). Called
  // on the strand.
  std::function<std::string()> data_address;
  // An organisation's TURN server (turn.cpp): a relayed TCP address on it is advertised, and contacts'
  // public addresses are also dialled through it. None: no TURN server is contacted.
  std::optional<net::TurnServer> turn;
};

// The answer of every call made after stop(): base::errc::unavailable, "the node is stopping".
Error stopping_error();

class Messenger {
 public:
  using Clock = std::function<std::int64_t()>;  // unix milliseconds; called on the strand

  // Files to contacts (file_offers.cpp; app's file_offer_service.cpp does the swarm side).
  // OfferHandler: an accepted contact offers us a file. Called on the strand; `reply` may be called
  // later, from any thread, exactly once: it becomes the FileOfferAck (an error refuses, with its
  // message; a value accepts and lists where we take the transfer's peers), sent when the reply
  // reaches the strand if the contact is still connected (otherwise they offer it again on their
  // next channel).
  using OfferReply = Result<std::vector<std::string>>;
  using OfferHandler =
      std::function<void(std::string from_id, wire::pb::FileOffer offer, base::Done<OfferReply> reply)>;
  // OfferAckHandler: a recipient acknowledged one of our offers (its row in the store is already
  // updated); `peers`: where it takes the transfer's peers. Called on the strand.
  using OfferAckHandler = std::function<void(std::string offer_id, bool accepted, std::string reason,
                                             std::vector<std::string> peers)>;
  // OfferProgressHandler: the recipient's download of one of our offers moved on (the store is already
  // updated): state transferring | scanning | delivered | quarantined. Called on the strand.
  using OfferProgressHandler =
      std::function<void(std::string offer_id, std::string state, std::int64_t done)>;

  // `sink` receives every event (events.hpp) on the strand; `now_ms` is the clock for receipts, request
  // windows and dial backoff (tests inject their own).
  Messenger(boost::asio::io_context& io, Options options, const crypto::SigningKey& user,
            const crypto::SigningKey& device, store::ContactStore& contacts, store::MessageStore& messages,
            EventSink sink, Clock now_ms);
  ~Messenger();
  Messenger(const Messenger&) = delete;
  Messenger& operator=(const Messenger&) = delete;

  // Optional, before start(): where outgoing offers wait (state "pending") and what handles incoming
  // ones. Without it, offers are refused.
  void set_file_offers(store::FileOfferStore* store, OfferHandler on_offer, OfferAckHandler on_ack,
                       OfferProgressHandler on_progress = nullptr);

  // Loads the contact book, opens the listener and starts dialing. Once, before any other call, from
  // any thread (the io_context may or may not run yet).
  Status start();
  // Closes the listener and every channel; later calls answer "the node is stopping". Any thread;
  // idempotent. Runs at once on the strand, otherwise it is posted.
  void stop();

  // Fixed by start(), readable from any thread afterwards.
  std::uint16_t port() const { return m_port; }
  // What we advertise now (Hello, requests, invites, DHT presence): interface addresses, then the public
  // ones peers' observations revealed (nat.hpp). Any thread; changes are announced (AddressesChanged).
  std::vector<std::string> addresses() const;
  const identity::DeviceCert& device_cert() const { return m_cert; }
  // The invite link for this person: kith ID, our name, the advertised addresses.
  std::string invite() const;

  // Contacts (CLI `kith contacts ...`). `who`: a name or ID as ContactBook::resolve takes it.
  void add_contact(std::string invite_or_id, std::string name, std::string note,
                   base::Done<Result<ContactView>> done);
  void accept(std::string who, base::Done<Result<ContactView>> done);
  void decline(std::string who, base::Done<Status> done);
  // Blocks a contact by name, or anyone by kith ID.
  void block(std::string who, base::Done<Status> done);
  void remove(std::string who, base::Done<Status> done);
  void rename(std::string who, std::string name, base::Done<Status> done);
  void add_address(std::string who, std::string address, base::Done<Status> done);
  void contacts(base::Done<Result<std::vector<ContactView>>> done);  // every relation but incoming
  void requests(base::Done<Result<std::vector<ContactView>>> done);  // incoming requests
  void contact(std::string who, base::Done<Result<ContactView>> done);
  // The kith ID of `who` if it is an accepted contact; else base::errc::invalid_argument or not_found,
  // saying why.
  void accepted_contact(std::string who, base::Done<Result<std::string>> done);
  // Accepted contacts' keys (for DHT presence).
  void accepted_contacts(base::Done<Result<std::vector<crypto::PublicKey>>> done);

  // Messages.
  void send_text(std::string who, std::string text, base::Done<Result<MessageView>> done);
  void group_create(std::string name, std::vector<std::string> members, base::Done<Result<GroupView>> done);
  void group_add(std::string group, std::string who, base::Done<Result<GroupView>> done);
  void group_send(std::string group, std::string text, base::Done<Result<MessageView>> done);
  void groups(base::Done<Result<std::vector<GroupView>>> done);
  // conversation: a contact (name/ID), "group:NAME|ID", or "" for all; search: plain words (FTS5);
  // limit: clamped to 1-1000; after: a cursor.
  void inbox(std::string conversation, std::string search, int limit, std::int64_t after,
             base::Done<Result<InboxPage>> done);
  void message(std::string id, base::Done<Result<MessageDetails>> done);
  // Marks a conversation's incoming messages read and sends read receipts (queued while offline).
  void mark_read(std::string conversation, base::Done<Result<MarkReadResult>> done);

  void status(base::Done<Result<MessengerStatus>> done);
  // The same counters without waiting: the strand publishes them after each piece of work (so they may
  // lag it by that much); the outbox is counted in the database now. Any thread.
  MessengerStatus status_snapshot() const;

  // Discovery feeds (posted): a device of `cert.user` may be reached at `address` (LAN beacon, DHT
  // record).
  void add_sighting(const identity::DeviceCert& cert, const std::string& address, Via via);
  void add_user_addresses(const crypto::PublicKey& user, std::vector<std::string> addrs, Via via);
  // Calls (call_signals.cpp; calls::CallService decides what the signals mean). Before start(): who
  // gets the CallSignal frames accepted contacts send (called on the strand, deferred; `device` is
  // the sending device's key in hex). Strangers' and blocked keys' frames never get here.
  using CallSignalHandler = std::function<void(std::string contact_id, std::string contact_name,
                                               std::string device, wire::pb::CallSignal signal)>;
  void set_call_signals(CallSignalHandler on_signal);
  // Folder sync (sync_devices.cpp). Before start(): this node's Syncthing device ID and BEP listener
  // port, told to contacts in every Hello, and who hears the ones accepted contacts tell us (called on
  // the strand, deferred; `addresses` are "host:port" of their BEP listener: the channel's remote IP
  // when the channel is direct, then the hosts they advertise). Without it Hello carries none.
  struct ContactSyncDevice {
    std::string contact_id, contact_name, device;
    std::vector<std::string> addresses;
  };
  using SyncDeviceHandler = std::function<void(ContactSyncDevice)>;
  void set_sync_device(std::string device, std::uint16_t port, SyncDeviceHandler on_contact_device);
  // `who` (name or ID) as an accepted contact, with its devices we have a channel with now (hex keys).
  void call_target(std::string who, base::Done<Result<CallTarget>> done);
  // Sends `signal` to `device` (hex) of contact `contact_id` if a channel with it is open; else drops
  // it (the call's timeouts cover that). Posted.
  void send_call_signal(std::string contact_id, std::string device, wire::pb::CallSignal signal);
  // Sends a stored pending offer now if the contact is connected (otherwise it waits for a channel).
  // Posted.
  void deliver_offer(std::string contact_id, std::string offer_id);
  // Tells the sender of incoming offer `offer_id` how our download of it goes (FileOfferProgress), if
  // they are connected; the final states are told again on every new channel. Posted.
  void report_offer_progress(std::string contact_id, std::string offer_id, std::string state,
                             std::uint64_t done, std::uint64_t total);
  // A data circuit to accepted contact `who` (a kith ID) through one of our contacts' relays, joined at
  // their end to their SSL torrent listener: a raw TCP socket to run a file transfer's peer connection
  // through, when no direct path exists. An error when no relay would or could. Posted; `done` on the
  // strand.
  void open_data_circuit(std::string who, base::Done<Result<boost::asio::ip::tcp::socket>> done);
  // A router forwards this public "ip:port" to our listener (UPnP/NAT-PMP, swarm::SessionHost::map_port):
  // advertised after the interface addresses. A private IP (a router behind a carrier-grade NAT) is
  // ignored. A PORT alone (the router did not say its IP) is advertised with each public IP peers
  // see us at. Posted.
  void set_router_address(std::string address);
  // Someone rang our doorbell from these addresses: dial each (at most a few per call, each at most
  // once in ten minutes) without knowing whom we will meet; the channel is then served by who it is
  // (a request-only channel for a stranger, an ordinary one for a contact). Posted.
  void answer_rings(std::vector<std::string> addrs);
  // The owner of `bell` (a contact we ring) answered from these addresses, dialling us now: dial them
  // at the same moment from our listen port, taking TLS's server role (the owner dials as a client,
  // not knowing who we are), so that behind two NATs the SYNs cross (TCP simultaneous open). Posted.
  void answered(std::string bell, std::vector<std::string> addrs);

 private:
  struct Peer {
    std::shared_ptr<net::Channel> channel;
    identity::DeviceCert cert;
    bool hello = false;              // their Hello arrived: the channel is in use
    std::set<std::string> sent;      // message ids sent on this channel and not yet acknowledged
    bool punch_tried = false;        // a relayed channel: a hole punch was offered or answered
    std::int64_t since = 0;          // when the channel was adopted (unix ms)
    bool ice_tried = false;          // a relayed channel: a UDP hole punch was offered or answered
    bool ice_awaits_answer = false;  // we offered; the answer starts the checks
    std::shared_ptr<ice::Link> ice;  // that attempt, until its channel comes up or it fails
  };
  struct Reach {                                                // per contact: where and when to dial
    std::map<std::string, std::pair<Via, std::int64_t>> addrs;  // address -> (how learnt, when, unix ms)
    std::int64_t next_attempt = 0;
    std::chrono::milliseconds backoff{0};
    bool dialing = false;
    std::int64_t requested_at = 0;  // last ContactRequest sent (outgoing relation)
    int failed_rounds = 0;          // dial rounds that reached no address since the last channel
    std::int64_t relay_next = 0;    // when to ask relays (again)
    std::chrono::milliseconds relay_backoff{0};
  };
  struct Circuit {  // a relay circuit we serve, until both halves arrived
    crypto::PublicKey asker{}, target{};
    std::int64_t expires = 0;
    std::shared_ptr<boost::asio::ip::tcp::socket> first;  // the half that arrived first
  };
  struct Ask {  // a relay we asked to reach `target`
    crypto::PublicKey target{}, relay{};
    std::string relay_address;
    std::int64_t expires = 0;
    std::uint64_t data = 0;  // a data circuit: its DataAsk's id; 0 for a channel
  };
  struct DirectAsk {  // open_direct_data() waiting for a confirmed connection either way
    crypto::PublicKey key;
    base::Done<Result<boost::asio::ip::tcp::socket>> done;
    boost::asio::steady_timer timer;  // then the relays are asked
  };
  struct DataAsk {  // open_data_circuit() waiting for one of the relays it asked
    base::Done<Result<boost::asio::ip::tcp::socket>> done;
    int pending = 0;  // relays asked that have not answered, refused or expired
    bool connecting = false;
  };

  // --- strand plumbing (messenger.cpp) ---
  // What handlers and the handle below hold weakly: the strand (a copy that must not outlive the
  // io_context, so the messenger owns the only strong reference).
  struct Life {
    base::Strand strand;
  };
  // A handle other strands and threads (channels, dials, the listener, the app's replies) keep to hand
  // work to this strand. It holds nothing strongly: once the messenger is gone it posts nothing, and
  // the work it posted runs only while the messenger exists and has not stopped, then settle().
  struct Poster {
    std::weak_ptr<Life> life;
    Messenger* self;
    void operator()(std::function<void()> f) const;
  };
  Poster poster() { return {m_life, this}; }
  void on_strand(std::function<void()> f) { poster()(std::move(f)); }
  // Posts `f` (returning T) onto the strand and answers `done` with its value after settle(); with an
  // error when the messenger is stopping or gone.
  template <class T, class F>
  void answer(base::Done<T> done, F f);
  // After each piece of work on the strand: publishes the counters, then runs the deferred calls
  // (events, app callbacks) in order, with no reference into the state held.
  void settle();
  void defer(std::function<void()> call);
  void emit(Event event);
  void shutdown();  // closes everything; on the strand, or when no thread runs the io_context

  // --- channels (messenger.cpp); all on the strand ---
  void on_channel(std::shared_ptr<net::Channel> channel);
  void adopt(std::shared_ptr<net::Channel> channel);
  void serve_request_only(std::shared_ptr<net::Channel> channel);
  void on_request_frame(const std::shared_ptr<net::Channel>& channel, wire::pb::Frame frame);
  // Makes a held request channel (m_pending) an ordinary channel, after the user accepted.
  void promote(const crypto::PublicKey& user);
  void on_frame(const std::shared_ptr<net::Channel>& channel, wire::pb::Frame frame);
  void on_closed(const std::shared_ptr<net::Channel>& channel, const std::string& why);
  void on_hello(Peer& peer, const wire::pb::Hello& hello);
  void tick();
  void dial(const crypto::PublicKey& user, std::vector<std::string> candidates);
  void dial_next(const crypto::PublicKey& user, std::shared_ptr<std::vector<std::string>> list,
                 std::size_t i);
  std::vector<std::string> candidates(const contacts::Contact& c) const;
  void send_frame(Peer& peer, wire::pb::Frame frame);
  Peer* peer_of_user(const crypto::PublicKey& user);
  wire::pb::Frame hello_frame(const net::Channel& channel) const;
  wire::pb::Frame request_frame(const net::Channel& channel, const std::string& note) const;
  void on_dialled(const crypto::PublicKey& user, std::shared_ptr<net::Channel> channel);
  void learn_addresses(const crypto::PublicKey& user, const std::vector<std::string>& addrs, Via via);
  MessengerStatus status_now();

  // --- relays and the NAT report (relays.cpp); all on the strand ---
  void consider_relays(const contacts::Contact& c, Reach& reach, std::int64_t now);
  // Asks up to MAX_RELAYS_ASKED contacts; the number asked. `data`: a DataAsk's id (0: a channel).
  int ask_relays(const crypto::PublicKey& target, std::uint64_t data = 0);

  // --- file data through relays (data_circuits.cpp); all on the strand ---
  void on_data_relay_ready(const Ask& ask, net::RelayToken token);
  void data_ask_failed(std::uint64_t id, const std::string& why);  // one relay asked gave up
  void on_data_call(Peer& relay, net::RelayToken token, const crypto::PublicKey& from);
  void ask_data_relays(const crypto::PublicKey& key, base::Done<Result<boost::asio::ip::tcp::socket>> done);
  std::vector<std::string> direct_candidates(const std::vector<std::string>& list) const;
  void open_direct_data(Peer& peer, base::Done<Result<boost::asio::ip::tcp::socket>> done);
  void finish_direct_ask(net::RelayToken token, boost::asio::ip::tcp::socket socket);
  void connect_confirmed(net::RelayToken token, std::shared_ptr<std::vector<std::string>> list, std::size_t i,
                         std::function<void(Result<boost::asio::ip::tcp::socket>)> done);
  void on_direct_data(Peer& peer, const wire::pb::DataCircuit& circuit);
  bool take_direct_data(net::RelayToken token, std::shared_ptr<boost::asio::ip::tcp::socket> socket);
  // `answer`: written to the circuit first (a direct data circuit's confirmation; none through a relay).
  void join_to_torrent(const crypto::PublicKey& from, boost::asio::ip::tcp::socket circuit, const char* via,
                       std::string answer = {});
  void on_relay_request(Peer& peer, const wire::pb::RelayRequest& request);
  void on_relay_ready(Peer& peer, const wire::pb::RelayReady& ready);
  void on_relay_call(Peer& peer, const wire::pb::RelayCall& call);
  void on_relay_refused(Peer& peer, const wire::pb::RelayRefused& refused);
  void on_relay_socket(net::RelayToken token, std::shared_ptr<boost::asio::ip::tcp::socket> socket);
  void expire_relays(std::int64_t now);
  // Where we reach a contact's listener (to use it as a relay): the far end of a channel we opened, else
  // an address they told us.
  std::string listener_address(const Peer& peer) const;
  // A peer's word on where it sees us (Hello.observed, ContactRequest.observed) on that channel.
  void observe(const net::Channel& channel, const std::string& observed);

  // --- hole punching over a relayed channel (punch.cpp); all on the strand ---
  std::vector<std::string> punch_addresses() const;  // our listen port's public mappings, if worth a try
  void offer_punch(Peer& peer);
  void on_punch(Peer& peer, const wire::pb::Punch& punch);
  // Dials `addrs` from the listen port as one end of a simultaneous open; `tls_server`: our TLS role.
  void punch(const crypto::PublicKey& user, const std::vector<std::string>& addrs, bool tls_server);

  // --- UDP hole punching (ICE) over a relayed channel (ice_punch.cpp); all on the strand ---
  void open_stun_responder();  // start(), on the caller's thread
  void consider_ice(Peer& peer, std::int64_t now);
  void start_ice(Peer& peer, bool controlling, std::optional<ice::Candidates> theirs);
  void on_ice_gathered(const crypto::PublicKey& device, const ice::Link* link, bool controlling,
                       std::optional<ice::Candidates> theirs, Result<ice::Candidates> mine);
  void on_ice_punch(Peer& peer, const wire::pb::IcePunch& punch);
  void connect_ice(Peer& peer, ice::Candidates theirs);
  void secure_ice(const crypto::PublicKey& user, bool tls_server, ice::Stream stream);
  std::pair<std::string, std::uint16_t> stun_server_for(const Peer& peer) const;
  void update_advertised();
  RelayStatus relay_status() const;

  // --- a TURN server (turn.cpp); all on the strand but start_turn ---
  void start_turn();  // from start(), before anything else can run on the strand
  void turn_allocated(const std::string& relayed);
  void turn_lost(const std::string& why);
  void turn_incoming(boost::asio::ip::tcp::socket socket, const std::string& peer);
  void update_turn_permits();
  static bool is_turn_candidate(const std::string& candidate);  // "turn:ip:port"
  void add_turn_candidates(std::vector<std::string>& cands) const;
  void dial_via_turn(const crypto::PublicKey& user, const std::string& address,
                     std::function<void(Result<std::shared_ptr<net::Channel>>)> done);
  TurnStatus turn_status() const;

  // --- calls' signalling (call_signals.cpp); on the strand ---
  void learn_sync_device(const Peer& peer, const wire::pb::Hello& hello);  // sync_devices.cpp
  void on_call_signal(Peer& peer, const wire::pb::CallSignal& signal);

  // --- the DHT doorbell (rings.cpp); all on the strand ---
  void update_ringing();  // recomputes the bells to ring; tells Options::ringing when they changed
  void dial_ringer(const std::string& address);

  // --- contacts, messages, groups (conversations.cpp); all on the strand ---
  Result<ContactView> do_add_contact(const std::string& invite_or_id, const std::string& name,
                                     const std::string& note);
  Result<ContactView> do_accept(const std::string& who);
  Status do_decline(const std::string& who);
  Status do_block(const std::string& who);
  Status do_remove(const std::string& who);
  Status do_add_address(const std::string& who, const std::string& address);
  Result<MessageView> do_send_text(const std::string& who, const std::string& text);
  Result<GroupView> do_group_create(const std::string& name, const std::vector<std::string>& members);
  Result<GroupView> do_group_add(const std::string& group, const std::string& who);
  Result<MessageView> do_group_send(const std::string& group, const std::string& text);
  Result<InboxPage> do_inbox(const std::string& conversation, const std::string& search, int limit,
                             std::int64_t after);
  Result<MessageDetails> do_message(const std::string& id);
  Result<MarkReadResult> do_mark_read(const std::string& conversation);
  void on_message(Peer& peer, const wire::pb::SignedMessage& message);
  void on_receipt(Peer& peer, const wire::pb::Receipt& receipt);
  void flush(Peer& peer);
  void deliver_now(const std::string& recipient_id, const store::MessageRecord& m);
  Result<std::string> conversation_of(const std::string& who) const;
  Result<store::GroupRecord> resolve_group(const std::string& name_or_id) const;
  Result<MessageView> post(const std::string& conversation, const std::vector<std::string>& recipients,
                           wire::pb::MessageBody body);
  ContactView contact_view(const contacts::Contact& c) const;
  MessageView message_view(const store::MessageRecord& m) const;

  // --- file offers (file_offers.cpp); all on the strand ---
  Result<std::string> do_accepted_contact(const std::string& who) const;
  void on_file_offer(Peer& peer, const wire::pb::FileOffer& offer);
  void send_offer_ack(const crypto::PublicKey& user, const std::string& raw_id, const OfferReply& outcome);
  void on_file_offer_progress(Peer& peer, const wire::pb::FileOfferProgress& progress);
  void send_offer_progress(Peer& peer, const std::string& offer_id, const std::string& state,
                           std::uint64_t done, std::uint64_t total);
  void on_file_offer_ack(Peer& peer, const wire::pb::FileOfferAck& ack);
  void flush_offers(Peer& peer);
  void send_offer(Peer& peer, const store::FileOfferRecord& offer);

  boost::asio::io_context& m_io;
  base::Strand m_strand;
  // Handlers hold a weak reference: once the Messenger is gone, a handler still queued does nothing.
  std::shared_ptr<Life> m_life = std::make_shared<Life>(Life{m_strand});

  // Fixed at construction or by start(), then only read (any thread).
  Options m_options;
  const crypto::SigningKey& m_user;
  const crypto::SigningKey& m_device;
  identity::DeviceCert m_cert;
  std::string m_user_id;
  std::uint16_t m_port = 0;
  std::vector<std::string> m_interface_addrs;  // Options::advertise(port): this host's own addresses
  std::shared_ptr<boost::asio::ssl::context> m_client_ctx;
  std::shared_ptr<boost::asio::ssl::context> m_server_ctx;
  store::FileOfferStore* m_offers = nullptr;  // nullptr: offers refused
  OfferHandler m_on_offer;
  OfferAckHandler m_on_offer_ack;
  OfferProgressHandler m_on_offer_progress;
  CallSignalHandler m_on_call_signal;
  std::string m_sync_device;  // ours (set_sync_device)
  std::uint16_t m_sync_port = 0;
  SyncDeviceHandler m_on_sync_device;
  EventSink m_sink;
  Clock m_now;
  // The stores are thread-safe (store::Database serialises); the messenger uses them on its strand,
  // status_snapshot() reads the outbox count from any thread.
  store::ContactStore& m_contact_store;
  store::MessageStore& m_messages;

  // Owned by the strand.
  contacts::ContactBook m_book;
  std::unique_ptr<net::Listener> m_listener;
  std::unique_ptr<net::StunResponder> m_stun;  // answers contacts' ICE agents on our channel port (UDP)
  std::unique_ptr<ice::Engine> m_ice;          // made on the first UDP hole punch (its own GLib thread)
  boost::asio::steady_timer m_timer;
  bool m_ready = false;    // start()'s work reached the strand: channels may be served
  bool m_stopped = false;  // stop() reached the strand
  std::vector<std::shared_ptr<net::Channel>> m_early;  // accepted before m_ready
  std::map<crypto::PublicKey, Peer> m_peers;           // by device key: channels in use
  std::map<crypto::PublicKey, Reach> m_reach;          // by user key
  // Channels of people whose request waits for the user (by user key): held open so that an accept
  // reaches them at once, even behind a NAT that we cannot dial through. At most MAX_PENDING_CHANNELS.
  std::map<crypto::PublicKey, std::shared_ptr<net::Channel>> m_pending;
  std::map<crypto::PublicKey, wire::pb::Hello> m_pending_hello;  // their Hello on a held channel
  std::set<std::string> m_offers_in_flight;  // incoming offer ids the app has not answered yet
  std::uint64_t m_refused = 0;               // channels closed by policy (blocked, stranger sending data)
  std::uint64_t m_rejected_messages = 0;     // bad signature, wrong recipient, not a member
  std::int64_t m_request_window_start = 0;
  int m_requests_in_window = 0;                   // incoming requests per minute, flood cap
  std::vector<std::function<void()>> m_deferred;  // run by settle()
  // interface addresses + m_router_address + m_nat.public_addresses + m_turn_address
  std::vector<std::string> m_advertised;
  std::string m_router_address;                  // set_router_address
  std::uint16_t m_router_port = 0;               // set_router_address with a port alone
  std::shared_ptr<net::TurnClient> m_turn;       // with Options::turn: our advertised relayed address
  std::shared_ptr<net::TurnClient> m_turn_data;  // and one for data circuits (turn.cpp)
  std::string m_turn_state, m_turn_address;
  std::set<std::string> m_turn_permits;          // as last sent
  std::vector<net::Observation> m_observations;  // newest last, one per observer
  net::NatReport m_nat;
  std::map<net::RelayToken, Circuit> m_circuits;  // as a relay: announced, waiting for their halves
  int m_circuits_active = 0;                      // as a relay: spliced now
  std::uint64_t m_relayed_bytes = 0, m_relay_refused = 0;
  std::vector<std::string> m_ringing;                  // bells being rung (sorted), as last told
  std::map<std::string, std::int64_t> m_ring_dials;    // ringers' addresses -> when we dialled them
  std::map<std::string, std::int64_t> m_answer_dials;  // answering owners' addresses -> when we punched
  std::map<net::RelayToken, Ask> m_asks;               // relays we asked
  std::map<std::uint64_t, DataAsk> m_data_asks;        // open_data_circuit() calls waiting
  std::uint64_t m_next_data_ask = 0;
  int m_data_joins = 0;  // data circuits being joined to our torrent port (join_to_torrent)
  // DataCircuit tokens contacts announced: who, until when (unix ms).
  std::map<net::RelayToken, std::pair<crypto::PublicKey, std::int64_t>> m_direct_data;
  std::map<net::RelayToken, std::shared_ptr<DirectAsk>> m_direct_asks;  // ours, by token
  int m_relay_dials = 0;                                                // RelayCalls being followed

  // Published by settle() for status_snapshot().
  std::atomic<int> m_snap_contacts{0}, m_snap_online{0}, m_snap_requests{0};
  std::atomic<std::uint64_t> m_snap_refused{0}, m_snap_rejected{0};
  mutable std::mutex m_snap_mutex;  // guards the three below; held only to copy
  std::vector<std::string> m_snap_advertised;
  NatStatus m_snap_nat;
  RelayStatus m_snap_relay;
  TurnStatus m_snap_turn;
};

template <class T, class F>
void Messenger::answer(base::Done<T> done, F f) {
  boost::asio::post(m_strand, [this, life = std::weak_ptr<Life>(m_life), done = std::move(done),
                               f = std::move(f)]() mutable {
    if (!life.lock() || m_stopped) return done(T(tl::unexpected(stopping_error())));
    T result = f();
    settle();
    done(std::move(result));
  });
}

}  // namespace kith::messaging
