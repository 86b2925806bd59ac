// Calls' signalling over channels (docs/protocol/calls.md): the messenger only carries CallSignal
// frames between accepted contacts' devices; calls::CallService (wired by the app) decides what they
// mean. Strangers cannot ring: their request-only channels are closed on any frame but a request, and
// blocked keys have no channel.
#include <spdlog/spdlog.h>

#include "base/hex.hpp"
#include "identity/kith_id.hpp"
#include "messaging/messenger.hpp"

namespace kith::messaging {
namespace {

std::string device_hex(const crypto::PublicKey& key) {
  return base::to_hex(std::string_view(reinterpret_cast<const char*>(key.data()), key.size()));
}

}  // namespace

void Messenger::set_call_signals(CallSignalHandler on_signal) { m_on_call_signal = std::move(on_signal); }

void Messenger::call_target(std::string who, base::Done<Result<CallTarget>> done) {
  answer(std::move(done), [this, who = std::move(who)]() -> Result<CallTarget> {
    auto id = do_accepted_contact(who);
    if (!id) return tl::unexpected(id.error());
    auto c = m_book.resolve(*id);
    if (!c) return tl::unexpected(c.error());
    CallTarget target;
    target.id = *id;
    target.name = c->name;
    for (const auto& [device, peer] : m_peers)
      if (peer.cert.user == c->key && peer.hello && !peer.channel->closed())
        target.devices.push_back(device_hex(device));
    return target;
  });
}

void Messenger::send_call_signal(std::string contact_id, std::string device, wire::pb::CallSignal signal) {
  on_strand([this, contact_id = std::move(contact_id), device = std::move(device),
             signal = std::move(signal)]() mutable {
    for (auto& [key, peer] : m_peers) {
      if (device_hex(key) != device || !peer.hello || peer.channel->closed()) continue;
      if (identity::encode_id(peer.cert.user) != contact_id) return;  // the device is someone else's
      wire::pb::Frame f;
      *f.mutable_call_signal() = std::move(signal);
      send_frame(peer, std::move(f));
      return;
    }
    spdlog::debug("call signal for {} not sent: no channel with that device now", contact_id);
  });
}

void Messenger::on_call_signal(Peer& peer, const wire::pb::CallSignal& signal) {
  KITH_ASSERT_ON(m_strand);
  if (!m_on_call_signal) return;
  const auto* c = m_book.find(peer.cert.user);
  if (!c) return;
  defer([h = m_on_call_signal, id = c->id, name = c->name, device = device_hex(peer.channel->peer().device),
         signal]() { h(id, name, device, signal); });
}

}  // namespace kith::messaging
