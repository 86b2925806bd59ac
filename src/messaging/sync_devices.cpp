// Folder sync between contacts (docs/sync.md § Contacts): each node tells its contacts its Syncthing
// device ID and BEP port in Hello; what an accepted contact tells goes to the sync service, which then
// trusts that device without `kith sync device add`. The channel's pinned TLS is what makes the claim
// trustworthy: only the contact's own device can have sent it.
#include <algorithm>

#include "base/endpoint.hpp"
#include "messaging/messenger.hpp"

namespace kith::messaging {

namespace {
constexpr std::size_t MAX_SYNC_DEVICE_TEXT = 72;  // 56 characters and 7 dashes, with room for slack
constexpr std::size_t MAX_SYNC_ADDRESSES = 8;
}  // namespace

void Messenger::set_sync_device(std::string device, std::uint16_t port, SyncDeviceHandler on_contact_device) {
  m_sync_device = std::move(device);
  m_sync_port = port;
  m_on_sync_device = std::move(on_contact_device);
}

void Messenger::learn_sync_device(const Peer& peer, const wire::pb::Hello& hello) {
  KITH_ASSERT_ON(m_strand);
  if (!m_on_sync_device || hello.sync_device().empty() || hello.sync_device().size() > MAX_SYNC_DEVICE_TEXT ||
      hello.sync_port() == 0 || hello.sync_port() > 65535)
    return;
  const auto* c = m_book.find(peer.cert.user);
  if (!c) return;
  const auto port = static_cast<std::uint16_t>(hello.sync_port());
  ContactSyncDevice found{
      .contact_id = c->id, .contact_name = c->name, .device = hello.sync_device(), .addresses = {}};
  auto add_host_of = [&](const std::string& address) {
    auto hp = base::parse_host_port(address);
    if (!hp || found.addresses.size() >= MAX_SYNC_ADDRESSES) return;
    auto a = base::join_host_port(hp->host, port);
    if (std::find(found.addresses.begin(), found.addresses.end(), a) == found.addresses.end())
      found.addresses.push_back(std::move(a));
  };
  // Where their channel came from first (on a LAN, the address their beacon led us to), then where they
  // say they listen. A relayed channel's remote address is the relay's: never theirs.
  if (peer.channel->observes_peer()) add_host_of(peer.channel->remote_address());
  for (const auto& a : hello.addrs())
    if (identity::valid_address_hint(a)) add_host_of(a);
  defer([h = m_on_sync_device, found = std::move(found)]() mutable { h(std::move(found)); });
}

}  // namespace kith::messaging
