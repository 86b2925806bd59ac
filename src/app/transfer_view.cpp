#include "app/transfer_view.hpp"

#include "identity/link_signature.hpp"

namespace kith::app {
namespace {

// The user-facing state adds kith's release steps to libtorrent's states: a download is only
// "completed" once it was scanned clean and left staging; "quarantined" wins over "paused" (a
// quarantined transfer is paused so it does not spread what it holds).
std::string state_of(const swarm::TransferStatus& st, const store::TransferRecord& rec,
                     const std::optional<ReleaseView>& release) {
  std::string state = st.state;
  if (rec.kind != "get") return state;
  const auto phase =
      release ? release->phase : (rec.released ? ReleasePhase::released : ReleasePhase::staging);
  if (phase == ReleasePhase::quarantined || phase == ReleasePhase::quarantining) return "quarantined";
  // Moving pauses the torrent and takes it out of the session for a moment: that is the release.
  if (phase == ReleasePhase::releasing) return "releasing";
  if (state == "error" || state == "paused") return state;
  switch (phase) {
    case ReleasePhase::staging:
      // Every piece is there but the pipeline has not looked yet.
      return state == "finished" || state == "seeding" ? "verifying" : state;
    case ReleasePhase::verifying:
      return "verifying";
    case ReleasePhase::scanning:
      return "scanning";
    case ReleasePhase::releasing:
      return "releasing";
    case ReleasePhase::held:
      return "held";
    case ReleasePhase::released:
      return state == "seeding" || state == "finished" ? "completed" : state;
    default:
      return state;
  }
}

}  // namespace

Publisher publisher_of(const std::string& link_signature, const std::string& user_id) {
  auto sig = identity::parse_link_signature("magnet:?" + link_signature);
  if (!sig || !*sig) return {};
  return {true, (*sig)->signer, (*sig)->signer == user_id};
}

Transfer make_transfer(const swarm::TransferStatus& status, const store::TransferRecord& record,
                       const std::optional<ReleaseView>& release, const std::string& user_id) {
  Transfer t;
  t.status = status;
  t.record = record;
  t.release = release;
  t.publisher = publisher_of(record.link_signature, user_id);
  t.state = state_of(status, record, release);
  t.error = status.error;
  if (t.error.empty() && release && !release->error.empty()) t.error = release->error;
  return t;
}

}  // namespace kith::app
