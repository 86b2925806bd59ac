#include "calls/call_service.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <random>

#include "base/hex.hpp"

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
      if (m_deps.sink) m_deps.sink(*changed);
    } else if (auto* to = std::get_if<ToEndpoint>(&e)) {
      if (m_deps.sink) m_deps.sink(*to);
    }
  }
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

void CallService::place(std::string who, bool video, base::Done<Result<CallView>> done) {
  // The contact's devices first (the messenger's strand), then the machine (ours).
  m_deps.target(std::move(who), [this, video, done = std::move(done)](Result<Target> target) mutable {
    run<Result<CallView>>(
        std::move(done), [this, video, target = std::move(target)](Effects& out) mutable -> Result<CallView> {
          if (!target) return tl::unexpected(target.error());
          return m_machine.place(fresh_call_id(), std::move(target->contact), std::move(target->devices),
                                 video, m_deps.now_ms(), out);
        });
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
