#pragma once
// The node's calls: CallMachine (call_machine.hpp) on a strand of its own, with the contact channel
// and the clock around it. The node gives it three things (app/node_calls.cpp): how to find an
// accepted contact's devices with an open channel, how to send a CallSignal to one of them (the
// messenger's channel), and a sink for its events. It never touches media: the local endpoint — a web
// page's RTCPeerConnection or `kith call`'s GStreamer — takes the contact's signals (events, or
// signals() for one that polls) and gives its own through signal().
//
// Threading (docs/architecture.md § Concurrency model): the machine and the timer belong to m_strand.
// Public methods may be called from any thread: they post and answer `done` on the strand. Events
// are delivered on the strand after the work, with nothing locked. Destroy the service only when no
// thread runs the io_context any more.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "base/async.hpp"
#include "calls/call_machine.hpp"

namespace kith::calls {

using Event = std::variant<CallChanged, ToEndpoint>;  // "call.updated", "call.signal"
using EventSink = std::function<void(const Event&)>;

struct Target {  // an accepted contact and the devices we have a channel with now
  Contact contact;
  std::vector<std::string> devices;
};

struct GroupCall {  // a group call just started: its room and the calls placed; who could not be called
  std::string room;
  std::vector<CallView> calls;
  std::vector<std::pair<std::string, std::string>> unreachable;  // who, why
};

struct SignalsPage {  // what an endpoint that polls takes: the call now and the contact's new signals
  CallView call;
  std::vector<EndpointSignal> signals;
};

class CallService {
 public:
  struct Deps {
    // `who` (a contact's name or kith ID) as an accepted contact with its reachable devices; an error
    // for anyone else. Answers on any thread.
    std::function<void(std::string who, base::Done<Result<Target>> done)> target;
    // Sends `signal` to `device` (hex key) of contact `contact_id` if a channel is open (else it is
    // dropped: the call's timeouts cover a lost signal).
    std::function<void(std::string contact_id, std::string device, wire::pb::CallSignal signal)> send;
    EventSink sink;
    std::function<std::int64_t()> now_ms;  // unix milliseconds
    // A call ended (called on the strand: keep it short — the node hands the write to its workers).
    std::function<void(const CallView&)> ended;
  };

  CallService(boost::asio::io_context& io, Limits limits, Deps deps);
  CallService(const CallService&) = delete;
  CallService& operator=(const CallService&) = delete;
  void stop();  // cancels the timer; later calls answer "the node is stopping"

  // Calls `who`; with a `room` (32 hex digits), joins that group call through them (calls.md).
  void place(std::string who, bool video, std::string room, base::Done<Result<CallView>> done);
  // Starts a group call: a fresh room, one call to each of `people` (2 to MAX_ROOM_CALLS) reachable now.
  void place_group(std::vector<std::string> people, bool video, base::Done<Result<GroupCall>> done);
  void leave_room(std::string room, base::Done<Result<std::size_t>> done);
  void answer(std::string id, base::Done<Status> done);
  void hangup(std::string id, base::Done<Status> done);
  void signal(std::string id, std::string type, std::string sdp, std::string candidate, std::uint32_t mline,
              base::Done<Status> done);
  void connected(std::string id, base::Done<Status> done);
  void failed(std::string id, std::string why, base::Done<Status> done);
  void list(base::Done<std::vector<CallView>> done);
  void restore(std::vector<CallView> ended);  // the history from before a restart (newest first)
  void get(std::string id, base::Done<Result<CallView>> done);
  void signals(std::string id, std::uint64_t after, base::Done<Result<SignalsPage>> done);

  // From the messenger (posted): a contact's device signalled; a contact's last channel closed.
  void remote(Contact from, std::string device, wire::pb::CallSignal signal);
  void contact_offline(std::string contact_id);

 private:
  // Runs `f(effects)` on the strand, carries out the effects, reschedules the timer, then answers.
  template <class T, class F>
  void run(base::Done<T> done, F f);
  void apply(Effects effects);
  void place_link(PlaceLink link);
  struct Gathering {  // place_group's people, resolved one after the other
    std::vector<std::string> people;
    std::vector<std::pair<std::string, Result<Target>>> targets;
    bool video = false;
    base::Done<Result<GroupCall>> done;
  };
  void gather(std::shared_ptr<Gathering> g);
  void arm_timer();
  Status stopping() const;

  base::Strand m_strand;
  boost::asio::steady_timer m_timer;
  CallMachine m_machine;
  Deps m_deps;
  bool m_stopped = false;
};

}  // namespace kith::calls
