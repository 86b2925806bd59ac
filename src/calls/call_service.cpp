#include "calls/call_service.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <random>

#include "base/hex.hpp"
#include "calls/errors.hpp"

namespace kith::calls {
namespace {

std::string fresh_call_id() {
  std::random_device rd;
  std::string bytes(16, '\0');
  for (auto& b : bytes) b = static_cast<char>(rd() & 0xff);
  return base::to_hex(bytes);
}

}  // namespace

CallService::CallService(boost::asio::io_context& io, Limits limits, Deps deps)
    : m_strand(boost::asio::make_strand(io)),
      m_timer(m_strand),
      m_machine(std::move(limits)),
      m_deps(std::move(deps)) {}

Status CallService::stopping() const {
  return tl::unexpected(Error{base::make_error_code(base::errc::unavailable), "the node is stopping"});
}

void CallService::stop() {
  boost::asio::post(m_strand, [this] {
    m_stopped = true;
    m_timer.cancel();
  });
}

template <class T, class F>
void CallService::run(base::Done<T> done, F f) {
  boost::asio::post(m_strand, [this, done = std::move(done), f = std::move(f)]() mutable {
    if (m_stopped) {
      if constexpr (std::is_same_v<T, std::vector<CallView>>)
        done({});
      else
        done(tl::unexpected(stopping().error()));
      return;
    }
    Effects effects;
    T answer = f(effects);
    apply(std::move(effects));
    arm_timer();
    done(std::move(answer));
  });
}

void CallService::apply(Effects effects) {
  KITH_ASSERT_ON(m_strand);
  for (auto& e : effects) {
    if (auto* send = std::get_if<SendSignal>(&e))
      m_deps.send(send->contact_id, send->device, std::move(send->signal));
    else if (auto* changed = std::get_if<CallChanged>(&e)) {
      if (changed->call.state == State::ended && m_deps.ended) m_deps.ended(changed->call);
      if (m_deps.sink) m_deps.sink(*changed);
    } else if (auto* to = std::get_if<ToEndpoint>(&e)) {
      if (m_deps.sink) m_deps.sink(*to);
    } else if (auto* link = std::get_if<PlaceLink>(&e)) {
      place_link(std::move(*link));
    }
  }
}

// A roster named a participant we are not connected with, and we are the one to call (the machine
// decided). Not a contact, or not reachable: they stay unconnected to us (the rosters say so).
void CallService::place_link(PlaceLink link) {
  m_deps.target(link.contact_id, [this, link](Result<Target> target) mutable {
    run<Status>([](Status) {},
                [this, link, target = std::move(target)](Effects& out) mutable -> Status {
                  if (!target) return tl::unexpected(target.error());
                  auto placed =
                      m_machine.place(fresh_call_id(), std::move(target->contact), std::move(target->devices),
                                      link.video, m_deps.now_ms(), out, link.room, /*link=*/true);
                  if (!placed) return tl::unexpected(placed.error());
                  return {};
                });
  });
}

void CallService::arm_timer() {
  KITH_ASSERT_ON(m_strand);
  auto next = m_machine.next_deadline();
  if (!next || m_stopped) {
    m_timer.cancel();
    return;
  }
  const auto wait = std::max<std::int64_t>(0, *next - m_deps.now_ms());
  m_timer.expires_after(std::chrono::milliseconds(wait + 10));
  m_timer.async_wait([this](boost::system::error_code ec) {
    if (ec || m_stopped) return;
    Effects effects;
    m_machine.tick(m_deps.now_ms(), effects);
    apply(std::move(effects));
    arm_timer();
  });
}

void CallService::place(std::string who, bool video, std::string room, base::Done<Result<CallView>> done) {
  // The contact's devices first (the messenger's strand), then the machine (ours).
  m_deps.target(std::move(who),
                [this, video, room = std::move(room), done = std::move(done)](Result<Target> target) mutable {
                  run<Result<CallView>>(
                      std::move(done),
                      [this, video, room = std::move(room),
                       target = std::move(target)](Effects& out) mutable -> Result<CallView> {
                        if (!target) return tl::unexpected(target.error());
                        return m_machine.place(fresh_call_id(), std::move(target->contact),
                                               std::move(target->devices), video, m_deps.now_ms(), out, room);
                      });
                });
}

void CallService::place_group(std::vector<std::string> people, bool video,
                              base::Done<Result<GroupCall>> done) {
  gather(std::make_shared<Gathering>(Gathering{std::move(people), {}, video, std::move(done)}));
}

// Each person's devices in turn (the messenger's strand), then every call at once on ours.
void CallService::gather(std::shared_ptr<Gathering> g) {
  if (g->targets.size() < g->people.size()) {
    auto who = g->people[g->targets.size()];
    m_deps.target(who, [this, g, who](Result<Target> t) mutable {
      g->targets.emplace_back(std::move(who), std::move(t));
      gather(std::move(g));
    });
    return;
  }
  run<Result<GroupCall>>(std::move(g->done), [this, g](Effects& out) -> Result<GroupCall> {
    GroupCall group{fresh_call_id(), {}, {}};
    for (auto& [who, target] : g->targets) {
      auto placed = target ? m_machine.place(fresh_call_id(), target->contact, target->devices, g->video,
                                             m_deps.now_ms(), out, group.room)
                           : Result<CallView>(tl::unexpected(target.error()));
      if (placed)
        group.calls.push_back(std::move(*placed));
      else
        group.unreachable.emplace_back(who, placed.error().message);
    }
    if (group.calls.empty())
      return tl::unexpected(Error{make_error_code(errc::not_reachable),
                                  group.unreachable.empty() ? "no one to call"
                                                            : "no one you asked can be called now: " +
                                                                  group.unreachable.front().second});
    return group;
  });
}

void CallService::leave_room(std::string room, base::Done<Result<std::size_t>> done) {
  run<Result<std::size_t>>(std::move(done),
                           [this, room = std::move(room)](Effects& out) -> Result<std::size_t> {
                             return m_machine.leave_room(room, m_deps.now_ms(), out);
                           });
}

void CallService::answer(std::string id, base::Done<Status> done) {
  run<Status>(std::move(done), [this, id = std::move(id)](Effects& out) {
    return m_machine.answer(id, m_deps.now_ms(), out);
  });
}

void CallService::hangup(std::string id, base::Done<Status> done) {
  run<Status>(std::move(done), [this, id = std::move(id)](Effects& out) {
    return m_machine.hangup(id, m_deps.now_ms(), out);
  });
}

void CallService::signal(std::string id, std::string type, std::string sdp, std::string candidate,
                         std::uint32_t mline, base::Done<Status> done) {
  run<Status>(std::move(done), [=, this](Effects& out) {
    return m_machine.local_signal(id, type, sdp, candidate, mline, out);
  });
}

void CallService::connected(std::string id, base::Done<Status> done) {
  run<Status>(std::move(done), [this, id = std::move(id)](Effects& out) {
    return m_machine.connected(id, m_deps.now_ms(), out);
  });
}

void CallService::failed(std::string id, std::string why, base::Done<Status> done) {
  run<Status>(std::move(done), [this, id = std::move(id), why = std::move(why)](Effects& out) {
    return m_machine.failed(id, why, m_deps.now_ms(), out);
  });
}

void CallService::list(base::Done<std::vector<CallView>> done) {
  run<std::vector<CallView>>(std::move(done), [this](Effects&) { return m_machine.list(); });
}

void CallService::restore(std::vector<CallView> ended) {
  run<Status>([](Status) {},
              [this, ended = std::move(ended)](Effects&) mutable -> Status {
                m_machine.restore(std::move(ended));
                return {};
              });
}

void CallService::get(std::string id, base::Done<Result<CallView>> done) {
  run<Result<CallView>>(std::move(done), [this, id = std::move(id)](Effects&) { return m_machine.get(id); });
}

void CallService::signals(std::string id, std::uint64_t after, base::Done<Result<SignalsPage>> done) {
  run<Result<SignalsPage>>(std::move(done),
                           [this, id = std::move(id), after](Effects&) -> Result<SignalsPage> {
                             auto call = m_machine.get(id);
                             if (!call) return tl::unexpected(call.error());
                             auto list = m_machine.signals(id, after);
                             if (!list) return tl::unexpected(list.error());
                             return SignalsPage{std::move(*call), std::move(*list)};
                           });
}

void CallService::remote(Contact from, std::string device, wire::pb::CallSignal signal) {
  run<Status>([](Status) {},
              [=, this](Effects& out) -> Status {
                m_machine.remote(from, device, signal, m_deps.now_ms(), out);
                return {};
              });
}

void CallService::contact_offline(std::string contact_id) {
  run<Status>([](Status) {},
              [this, contact_id = std::move(contact_id)](Effects& out) -> Status {
                m_machine.contact_offline(contact_id, m_deps.now_ms(), out);
                return {};
              });
}

}  // namespace kith::calls
