// One call's media, driven through the node's API (call_link.hpp).
#include "cli/call_link.hpp"

#include <deque>
#include <mutex>
#include <utility>

namespace kith::cli {

// What the media thread reports, taken by the command's thread (which alone talks to the node).
struct CallLink::Outbox {
  struct Item {
    std::string kind;  // "description" | "candidate" | "state"
    std::string type, text;
    unsigned mline = 0;
    media::State state = media::State::connecting;
  };
  std::mutex mutex;
  std::deque<Item> items;
  void push(Item item) {
    std::lock_guard lock(mutex);
    items.push_back(std::move(item));
  }
  std::deque<Item> take() {
    std::lock_guard lock(mutex);
    return std::exchange(items, {});
  }
};

void apply_call_config(const nlohmann::json& config, media::Options& o) {
  for (const auto& server : config.value("ice_servers", nlohmann::json::array())) {
    const auto url = server.value("urls", std::string());
    if (url.rfind("stun:", 0) == 0) o.stun = url.substr(5);
    if (url.rfind("turn:", 0) == 0) {
      auto hostport =
          url.substr(5, url.find('?') == std::string::npos ? std::string::npos : url.find('?') - 5);
      o.turn = "turn://" + server.value("username", std::string()) + ":" +
               server.value("credential", std::string()) + "@" + hostport;
    }
  }
  o.relay_only = config.value("ice_transport_policy", std::string()) == "relay";
  for (const auto& n : config.value("ice_networks", nlohmann::json::array()))
    if (n.is_string()) o.ice_networks.push_back(n.get<std::string>());
}

CallLink::CallLink(nlohmann::json call, media::Options options)
    : m_options(std::move(options)), m_outbox(std::make_shared<Outbox>()), m_last(std::move(call)) {
  m_id = m_last.value("id", std::string());
  m_outgoing = m_last.value("direction", std::string()) == "outgoing";
  m_answered = !m_outgoing;  // an incoming call reaches us answered (by us, or at once by the node)
  m_options.video = m_options.video || m_last.value("video", false);
}

CallLink::~CallLink() { close(); }

Status CallLink::start_media() {
  media::Callbacks callbacks;
  auto outbox = m_outbox;
  callbacks.on_description = [outbox](std::string type, std::string sdp) {
    outbox->push({"description", std::move(type), std::move(sdp)});
  };
  callbacks.on_candidate = [outbox](unsigned mline, std::string line) {
    outbox->push({"candidate", "", std::move(line), mline});
  };
  callbacks.on_state = [outbox](media::State state, std::string detail) {
    outbox->push({"state", "", std::move(detail), 0, state});
  };
  auto call = media::Call::create(m_options, callbacks);
  if (!call) return tl::unexpected(call.error());
  m_media = std::move(*call);
  return {};
}

Result<std::unique_ptr<CallLink>> CallLink::create(Backend& backend, nlohmann::json call,
                                                   const media::Options& options) {
  std::unique_ptr<CallLink> link(new CallLink(std::move(call), options));
  if (auto ok = link->start_media(); !ok) {
    link->fail(backend, ok.error().message);  // ends the call for the contact too
    return tl::unexpected(ok.error());
  }
  return link;
}

void CallLink::fail(Backend& backend, const std::string& why) {
  nlohmann::json body{{"reason", why}};
  (void)backend.call("POST", path("/failed"), &body);  // the next step sees the call ended
}

Status CallLink::hang_up(Backend& backend) {
  m_hung_up = true;
  auto r = backend.call("POST", path("/hangup"));
  if (!r) return tl::unexpected(r.error());
  return {};
}

Result<nlohmann::json> CallLink::step(Backend& backend) {
  // What the media side said since the last round.
  for (auto& item : m_outbox->take()) {
    if (!m_media) break;  // closed: what it said last no longer matters
    if (item.kind == "description") {
      nlohmann::json body{{"type", item.type}, {"sdp", item.text}};
      if (auto r = backend.call("POST", path("/signals"), &body); !r) fail(backend, r.error().message);
    } else if (item.kind == "candidate") {
      nlohmann::json body{{"type", "candidate"}, {"candidate", item.text}, {"mline", item.mline}};
      (void)backend.call("POST", path("/signals"),
                         &body);  // a refused candidate (other network) is not fatal
    } else if (item.state == media::State::connected) {
      (void)backend.call("POST", path("/connected"));  // a call that ended meanwhile refuses: seen below
    } else if (item.state == media::State::failed) {
      fail(backend, item.text);
    }
  }
  auto page = backend.call("GET", path("/signals?after=" + std::to_string(m_seq)));
  if (!page) return tl::unexpected(page.error());
  m_last = (*page)["call"];
  const auto state = m_last.value("state", std::string());
  if (state == "active") m_was_active = true;
  if (!m_media) return m_last;
  if ((state == "connecting" || state == "active") && !m_answered) {
    m_answered = true;
    if (m_outgoing)
      if (auto r = m_media->create_offer(); !r) fail(backend, r.error().message);
  }
  if (state == "ended") {
    // Glare: both called at once and this call gave way to the contact's, which the node answered.
    // Our peer connection already made an offer: a fresh one answers the other.
    if (auto next = m_last.value("replaced_by", std::string()); !next.empty() && !m_hung_up) {
      m_media->close();
      (void)m_outbox->take();  // the lost call's signals
      m_media.reset();
      m_id = next;
      m_outgoing = false;
      m_answered = true;
      m_seq = 0;
      if (auto ok = start_media(); !ok) {
        fail(backend, ok.error().message);
        return tl::unexpected(ok.error());
      }
    }
    return m_last;
  }
  for (const auto& s : (*page)["signals"]) {
    m_seq = std::max<std::uint64_t>(m_seq, s.value("seq", std::uint64_t{0}));
    const auto type = s.value("type", std::string());
    Status applied =
        type == "candidate"
            ? m_media->add_remote_candidate(s.value("mline", 0u), s.value("candidate", std::string()))
            : m_media->set_remote_description(type, s.value("sdp", std::string()));
    if (!applied) fail(backend, "the contact's " + type + " was refused: " + applied.error().message);
  }
  return m_last;
}

media::Stats CallLink::close() {
  if (m_final_stats) return *m_final_stats;
  media::Stats stats;
  if (m_media) {
    stats = m_media->stats();
    m_media->close();
  }
  m_final_stats = stats;
  return stats;
}

}  // namespace kith::cli
