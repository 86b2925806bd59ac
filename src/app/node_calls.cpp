// Node: calls (issue 12). calls::CallService decides; the messenger carries its signals over the
// contacts' channels; the node wires the two and gives the service its settings and event sink.
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <chrono>

#include "app/node.hpp"
#include "base/endpoint.hpp"

namespace kith::app {
namespace {

store::CallRecord record_of(const calls::CallView& v) {
  return {v.id,          v.contact.id,   v.contact.name, calls::to_string(v.direction),
          v.video,       v.room,         v.link,         v.started_ms,
          v.answered_ms, v.connected_ms, v.ended_ms,     v.end_reason,
          v.replaced_by};
}

calls::CallView view_of(const store::CallRecord& r) {
  calls::CallView v;
  v.id = r.id;
  v.contact = {r.contact_id, r.contact_name};
  v.direction = r.direction == "incoming" ? calls::Direction::incoming : calls::Direction::outgoing;
  v.state = calls::State::ended;
  v.video = r.video;
  v.room = r.room;
  v.link = r.link;
  v.started_ms = r.started_ms;
  v.answered_ms = r.answered_ms;
  v.connected_ms = r.connected_ms;
  v.ended_ms = r.ended_ms;
  v.end_reason = r.end_reason;
  v.replaced_by = r.replaced_by;
  return v;
}

}  // namespace

void Node::start_calls() {
  const auto settings = m_settings.current();
  calls::Limits limits;
  // Checked when the setting was read (settings.cpp): parse cannot fail here.
  if (auto nets = calls::Networks::parse(base::split_list(settings->get_string("calls.ice_networks"))))
    limits.ice_networks = std::move(*nets);
  limits.relay_only = settings->get_bool("calls.relay_only");
  limits.self_id = m_user_id;
  auto* messenger = m_messenger.get();
  m_call_store = std::make_unique<store::CallStore>(*m_db);
  m_calls = std::make_unique<calls::CallService>(
      m_io, std::move(limits),
      calls::CallService::Deps{
          .target =
              [messenger](std::string who, base::Done<Result<calls::Target>> done) {
                messenger->call_target(std::move(who),
                                       [done = std::move(done)](Result<messaging::CallTarget> t) {
                                         if (!t) return done(tl::unexpected(t.error()));
                                         done(calls::Target{{t->id, t->name}, std::move(t->devices)});
                                       });
              },
          .send =
              [messenger](std::string contact, std::string device, wire::pb::CallSignal signal) {
                messenger->send_call_signal(std::move(contact), std::move(device), std::move(signal));
              },
          .sink = m_call_sink,
          .now_ms =
              [] {
                return std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                    .count();
              },
          .ended =
              [this, store = m_call_store.get()](const calls::CallView& call) {
                boost::asio::post(m_workers, [store, record = record_of(call)] {
                  if (auto ok = store->put(record); !ok)
                    spdlog::warn("call history: {} (the call is not kept)", ok.error().message);
                });
              }});
  // The history from before this run (startup: one small read, before any call can end).
  if (auto past = m_call_store->recent(static_cast<std::int64_t>(calls::Limits{}.history))) {
    std::vector<calls::CallView> views;
    for (const auto& r : *past) views.push_back(view_of(r));
    m_calls->restore(std::move(views));
  } else {
    spdlog::warn("call history: {} (starting without it)", past.error().message);
  }
  m_messenger->set_call_signals([calls = m_calls.get()](std::string id, std::string name, std::string device,
                                                        wire::pb::CallSignal signal) {
    calls->remote({std::move(id), std::move(name)}, std::move(device), std::move(signal));
  });
}

CallConfig Node::call_config() const {
  const auto settings = m_settings.current();
  CallConfig c;
  c.stun = settings->get_string("calls.stun");
  if (const auto turn = settings->get_string("calls.turn"); !turn.empty())
    if (auto server = net::parse_turn_server(turn)) c.turn = std::move(*server);  // checked when read
  c.ice_networks = base::split_list(settings->get_string("calls.ice_networks"));
  c.relay_only = settings->get_bool("calls.relay_only");
  return c;
}

Result<calls::CallService*> Node::require_calls() {
  if (m_calls) return m_calls.get();
  return fail(base::make_error_code(base::errc::unavailable),
              "calls run in the daemon: start it with `kith daemon` (then run this again)");
}

}  // namespace kith::app
