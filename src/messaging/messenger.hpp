#pragma once
// Contacts and messages over channels: the node's side of issue 3.
//   - accepts channels (net::Listener) and dials contacts at the addresses it knows (LAN sightings, DHT
//     lookups, static hints), one channel per device pair, reconnecting with backoff;
//   - contact requests: a stranger's channel may carry one ContactRequest and is then closed; a blocked
//     key is closed at once; only accepted contacts exchange messages;
//   - messages: signed by the author, stored (SQLite) before they are sent, kept in the outbox until the
//     recipient's delivery receipt, resent in order on every new channel, duplicates dropped by id;
//     read receipts; small groups relayed by their creator.
//
// Threading: public methods may be called from any thread; state is guarded by m_mutex. Channel
// handlers run on the channels' strands (the io_context's thread).
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "contacts/contact_book.hpp"
#include "crypto/sign.hpp"
#include "identity/device.hpp"
#include "net/channel.hpp"
#include "store/contact_store.hpp"
#include "store/file_offer_store.hpp"
#include "store/message_store.hpp"

namespace kith::messaging {

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
};

// How a contact was last reached or where it may be.
enum class Via { lan, internet, hint };

class Messenger {
 public:
  using EventSink = std::function<void(const std::string& type, const nlohmann::json& data)>;
  using Clock = std::function<std::int64_t()>;  // unix milliseconds

  Messenger(boost::asio::io_context& io, Options options, const crypto::SigningKey& user,
            const crypto::SigningKey& device, store::ContactStore& contacts, store::MessageStore& messages,
            EventSink sink, Clock now_ms);
  ~Messenger();
  Status start();
  void stop();
  std::uint16_t port() const;
  std::vector<std::string> addresses() const { return m_advertised; }
  const identity::DeviceCert& device_cert() const { return m_cert; }

  // The invite link for this person: kith ID, our name, the advertised addresses.
  std::string invite() const;

  // Contacts (CLI `kith contacts ...`). Names or IDs as ContactBook::resolve takes them.
  Result<nlohmann::json> add_contact(const std::string& invite_or_id, const std::string& name,
                                     const std::string& note);
  Result<nlohmann::json> accept(const std::string& who);
  Status decline(const std::string& who);
  // Blocks a contact by name or anyone by kith ID.
  Status block(const std::string& who);
  Status remove(const std::string& who);
  Status rename(const std::string& who, const std::string& name);
  Status add_address(const std::string& who, const std::string& address);
  nlohmann::json contacts();  // every relation except incoming requests
  nlohmann::json requests();  // incoming requests
  Result<nlohmann::json> contact(const std::string& who);

  // Messages.
  Result<nlohmann::json> send_text(const std::string& who, const std::string& text);
  Result<nlohmann::json> group_create(const std::string& name, const std::vector<std::string>& members);
  Result<nlohmann::json> group_add(const std::string& group, const std::string& who);
  Result<nlohmann::json> group_send(const std::string& group, const std::string& text);
  nlohmann::json groups();
  // conversation: a contact (name/ID), "group:NAME|ID", or "" for all. after: rowid cursor.
  Result<nlohmann::json> inbox(const std::string& conversation, const std::string& search, int limit,
                               std::int64_t after);
  Result<nlohmann::json> message(const std::string& id);
  // Marks a conversation's incoming messages read and sends read receipts (queued while offline).
  Result<nlohmann::json> mark_read(const std::string& conversation);

  // Discovery feeds: a device of `cert.user` may be reached at `address` (LAN beacon, DHT record).
  void add_sighting(const identity::DeviceCert& cert, const std::string& address, Via via);
  void add_user_addresses(const crypto::PublicKey& user, const std::vector<std::string>& addrs, Via via);
  // Accepted contacts' keys (for DHT presence).
  std::vector<crypto::PublicKey> accepted_contacts() const;

  nlohmann::json status() const;

  // Files to contacts (file_offers.cpp; app's node_files.cpp does the swarm side). Offers are stored
  // by the caller in `store` (state "pending") and sent on every new channel until acknowledged.
  // on_offer runs on a channel's strand, under this messenger's lock, for each FileOffer an accepted
  // contact sends; its result is sent back as the FileOfferAck (an error refuses, with its message).
  // on_ack runs the same way when a recipient acknowledges one of ours.
  using OfferHandler = std::function<Status(const std::string& from_id, const wire::pb::FileOffer& offer)>;
  using OfferAckHandler =
      std::function<void(const std::string& offer_id, bool accepted, const std::string& reason)>;
  void set_file_offers(store::FileOfferStore* store, OfferHandler on_offer, OfferAckHandler on_ack);
  // The kith ID of `who` (name or ID) if it is an accepted contact; else base::errc::invalid_argument
  // or not_found, saying why.
  Result<std::string> accepted_contact(const std::string& who);
  // Sends a stored pending offer now if the contact is connected (otherwise it waits for a channel).
  void deliver_offer(const std::string& contact_id, const std::string& offer_id);

 private:
  struct Peer {
    std::shared_ptr<net::Channel> channel;
    identity::DeviceCert cert;
    bool hello = false;          // their Hello arrived: the channel is in use
    std::set<std::string> sent;  // message ids sent on this channel and not yet acknowledged
  };
  struct Reach {                                                // per contact: where and when to dial
    std::map<std::string, std::pair<Via, std::int64_t>> addrs;  // address -> (how learnt, when, unix ms)
    std::int64_t next_attempt = 0;
    std::chrono::milliseconds backoff{0};
    bool dialing = false;
    std::int64_t requested_at = 0;  // last ContactRequest sent (outgoing relation)
  };

  void on_channel(std::shared_ptr<net::Channel> channel);
  void adopt(std::shared_ptr<net::Channel> channel);
  void serve_request_only(std::shared_ptr<net::Channel> channel);
  void on_request_frame(const std::shared_ptr<net::Channel>& channel, wire::pb::Frame frame);
  // Makes a held request channel (m_pending) an ordinary channel, after the user accepted.
  void promote(const crypto::PublicKey& user);
  void on_frame(const std::shared_ptr<net::Channel>& channel, wire::pb::Frame frame);
  void on_closed(const std::shared_ptr<net::Channel>& channel, const std::string& why);
  void on_hello(Peer& peer, const wire::pb::Hello& hello);
  void on_message(Peer& peer, const wire::pb::SignedMessage& message);
  void on_receipt(Peer& peer, const wire::pb::Receipt& receipt);
  void on_file_offer(Peer& peer, const wire::pb::FileOffer& offer);
  void on_file_offer_ack(Peer& peer, const wire::pb::FileOfferAck& ack);
  void flush_offers(Peer& peer);
  void send_offer(Peer& peer, const store::FileOfferRecord& offer);
  void tick();
  void dial(const crypto::PublicKey& user, std::vector<std::string> candidates);
  std::vector<std::string> candidates(const contacts::Contact& c) const;
  void flush(Peer& peer);
  void send_frame(Peer& peer, wire::pb::Frame frame);
  void deliver_now(const std::string& recipient_id, const store::MessageRecord& m);
  Peer* peer_of_user(const crypto::PublicKey& user);
  wire::pb::Frame hello_frame() const;
  wire::pb::Frame request_frame(const std::string& note) const;
  Result<std::string> conversation_of(const std::string& who) const;
  Result<store::GroupRecord> resolve_group(const std::string& name_or_id) const;
  Result<nlohmann::json> post(const std::string& conversation, const std::vector<std::string>& recipients,
                              wire::pb::MessageBody body);
  nlohmann::json contact_json(const contacts::Contact& c) const;
  nlohmann::json message_json(const store::MessageRecord& m);
  nlohmann::json group_json(const store::GroupRecord& g) const;
  void publish(const std::string& type, const nlohmann::json& data);

  boost::asio::io_context& m_io;
  Options m_options;
  const crypto::SigningKey& m_user;
  const crypto::SigningKey& m_device;
  identity::DeviceCert m_cert;
  std::string m_user_id;
  store::ContactStore& m_contact_store;
  store::MessageStore& m_messages;
  contacts::ContactBook m_book;
  EventSink m_sink;
  Clock m_now;
  std::shared_ptr<boost::asio::ssl::context> m_client_ctx;
  std::shared_ptr<boost::asio::ssl::context> m_server_ctx;
  std::unique_ptr<net::Listener> m_listener;
  std::vector<std::string> m_advertised;  // set once in start()
  boost::asio::steady_timer m_timer;
  std::shared_ptr<bool> m_alive;

  mutable std::recursive_mutex m_mutex;        // guards everything below and m_book
  std::map<crypto::PublicKey, Peer> m_peers;   // by device key: channels in use
  std::map<crypto::PublicKey, Reach> m_reach;  // by user key
  // Channels of people whose request waits for the user (by user key): held open so that an accept
  // reaches them at once, even behind a NAT that we cannot dial through. At most MAX_PENDING_CHANNELS.
  std::map<crypto::PublicKey, std::shared_ptr<net::Channel>> m_pending;
  std::map<crypto::PublicKey, wire::pb::Hello> m_pending_hello;  // their Hello on a held channel
  std::uint64_t m_refused = 0;                // channels closed by policy (blocked, stranger sending data)
  std::uint64_t m_rejected_messages = 0;      // bad signature, wrong recipient, not a member
  store::FileOfferStore* m_offers = nullptr;  // set once before start(); nullptr: offers refused
  OfferHandler m_on_offer;
  OfferAckHandler m_on_offer_ack;
  std::int64_t m_request_window_start = 0;
  int m_requests_in_window = 0;  // incoming requests per minute, flood cap
};

}  // namespace kith::messaging
