#include "api/json_node.hpp"

#include "api/json_messaging.hpp"

namespace kith::api {
namespace {

nlohmann::json parse_or(const std::string& text, nlohmann::json fallback) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  return j.is_discarded() ? fallback : j;
}

nlohmann::json publisher_json(const app::Publisher& p) {
  if (!p.is_signed) return {{"signed", false}};
  return {{"signed", true}, {"id", p.id}, {"you", p.you}};
}

template <class... F>
struct overloaded : F... {
  using F::operator()...;
};
template <class... F>
overloaded(F...) -> overloaded<F...>;

}  // namespace

nlohmann::json to_json(const app::Transfer& t) {
  const auto& st = t.status;
  const auto& rec = t.record;
  auto runnable = parse_or(rec.runnable.empty() ? "[]" : rec.runnable, nlohmann::json::array());
  if (!runnable.is_array()) runnable = nlohmann::json::array();
  nlohmann::json info_hashes = nlohmann::json::object();
  if (!st.hashes.v1.empty()) info_hashes["v1"] = st.hashes.v1;
  if (!st.hashes.v2.empty()) info_hashes["v2"] = st.hashes.v2;
  const bool quarantined = t.release && (t.release->phase == app::ReleasePhase::quarantined ||
                                         t.release->phase == app::ReleasePhase::quarantining);
  nlohmann::json j{
      {"id", st.id.empty() ? rec.id : st.id},
      {"name", st.name.empty() ? rec.name : st.name},
      {"kind", rec.kind},
      {"state", t.state},
      {"error", t.error},
      {"error_code", t.error.empty() ? std::string() : st.error_code},
      {"disk_full", st.disk_full},
      {"progress", st.progress},
      {"total_wanted", st.total_wanted},
      {"total_done", st.total_done},
      {"total_size", st.total_size},
      {"download_rate", st.download_rate},
      {"upload_rate", st.upload_rate},
      {"downloaded", st.downloaded},
      {"uploaded", st.uploaded},
      {"peers", st.peers},
      {"seeds", st.seeds},
      {"eta", st.eta},
      {"has_metadata", st.has_metadata},
      {"sequential", st.sequential},
      {"only", rec.only_glob},
      {"released", rec.released},
      {"destination", rec.destination},
      {"save_path", st.save_path},
      {"source", rec.source},
      {"added_at", rec.added_at},
      {"completed_at", rec.completed_at},
      {"info_hashes", info_hashes},
      {"runnable", runnable},
      {"quarantined", quarantined},
      {"scan",
       {{"done", t.release ? t.release->scan_done : 0}, {"total", t.release ? t.release->scan_total : 0}}},
      {"publisher", publisher_json(t.publisher)}};
  if (t.hashing) {
    const auto& h = *t.hashing;
    j["hashing"] = {{"path", h.path}, {"done", h.done}, {"total", h.total}, {"rate", h.rate}, {"eta", h.eta}};
    j["eta"] = h.eta;
  }
  if (t.detailed) {
    j["files"] = to_json(t.files);
    if (!t.magnet.empty()) j["magnet"] = t.magnet;
  }
  return j;
}

nlohmann::json to_json(const std::vector<app::Transfer>& list) {
  auto out = nlohmann::json::array();
  for (const auto& t : list) out.push_back(to_json(t));
  return out;
}

nlohmann::json to_json(const std::vector<swarm::FileStatus>& files) {
  auto out = nlohmann::json::array();
  for (const auto& f : files)
    out.push_back(
        {{"index", f.index}, {"path", f.path}, {"size", f.size}, {"done", f.done}, {"wanted", f.wanted}});
  return out;
}

nlohmann::json to_json(const std::vector<swarm::PeerStatus>& peers) {
  auto out = nlohmann::json::array();
  for (const auto& p : peers)
    out.push_back({{"endpoint", p.endpoint},
                   {"client", p.client},
                   {"peer_id", p.peer_id},
                   {"seed", p.seed},
                   {"incoming", p.incoming},
                   {"connection", p.connection},
                   {"progress", p.progress},
                   {"download_rate", p.download_rate},
                   {"upload_rate", p.upload_rate},
                   {"downloaded", p.downloaded},
                   {"uploaded", p.uploaded}});
  return out;
}

nlohmann::json to_json(const store::QuarantineRecord& q) {
  return {{"id", q.id},
          {"name", q.name},
          {"source", q.source},
          {"outcome", q.outcome},
          {"signature", q.signature},
          {"reason", q.reason},
          {"details", parse_or(q.details, nlohmann::json::object())},
          {"peers", parse_or(q.peers, nlohmann::json::array())},
          {"destination", q.destination},
          {"quarantined_at", q.quarantined_at},
          {"state", q.state},
          {"resolved_at", q.resolved_at}};
}

nlohmann::json to_json(const app::QuarantineItem& item) {
  auto j = to_json(item.record);
  if (!item.location.empty()) j["location"] = item.location;
  return j;
}

nlohmann::json to_json(const store::BlockRecord& e) {
  return {{"kind", e.kind}, {"value", e.value}, {"reason", e.reason}, {"added_at", e.added_at}};
}

nlohmann::json to_json(const app::IpFilterSummary& s) {
  auto files = nlohmann::json::array();
  for (const auto& f : s.files)
    files.push_back({{"path", f.path},
                     {"format", f.format},
                     {"ranges", f.ranges},
                     {"allowed", f.allowed},
                     {"bad_lines", f.bad_lines},
                     {"bad_line_numbers", f.bad_line_numbers},
                     {"first_error", f.first_error}});
  return {{"files", files}, {"ranges", s.ranges}};
}

nlohmann::json to_json(const app::BlockList& list) {
  auto entries = nlohmann::json::array();
  for (const auto& e : list.entries) entries.push_back(to_json(e));
  return {{"entries", entries}, {"ip_filter", to_json(list.ip_filter)}};
}

nlohmann::json to_json(const app::NodeStatus& s) {
  const auto& st = s.session;
  nlohmann::json j{
      {"node_id", s.node_id},
      {"user_id", s.user_id},
      {"version", s.version},
      {"home", s.home},
      {"bt_port", s.bt_port},
      {"ssl_port", s.ssl_port},
      {"peer_hints", s.peer_hints},
      {"dht", {{"enabled", s.dht_enabled}, {"running", st.dht_running}, {"nodes", st.dht_nodes}}},
      {"lsd", s.lsd},
      {"download_rate", s.download_rate},
      {"upload_rate", s.upload_rate},
      {"limits", {{"download", s.limit_download}, {"upload", s.limit_upload}}},
      {"transfers", s.transfers},
      {"safety", s.safety},
      {"quarantined", s.quarantined},
      {"blocklist",
       {{"blocked_info_hashes", s.blocked_info_hashes},
        {"blocked_peer_ids", s.blocked_peer_ids},
        {"refused_by_ip_filter", st.refused_by_ip_filter},
        {"refused_by_peer_id", st.refused_by_peer_id},
        {"ip_filter_ranges", s.ip_filter_ranges}}},
      {"messaging", s.messaging ? messenger_status_json(*s.messaging) : nlohmann::json(nullptr)},
      {"rendezvous", nullptr}};
  if (s.rendezvous) {
    const auto& r = *s.rendezvous;
    j["rendezvous"] = {{"puts_ok", r.puts_ok},       {"puts_failed", r.puts_failed},
                       {"lookups", r.lookups},       {"found", r.found},
                       {"rings", r.rings},           {"bell_polls", r.bell_polls},
                       {"bell_heard", r.bell_heard}, {"bell_answers", r.bell_answers}};
  }
  return j;
}

nlohmann::json to_json(const app::Identity& i) {
  return {{"id", i.id},
          {"name", i.name},
          {"invite", i.invite},
          {"addresses", i.addresses},
          {"channel_port", i.channel_port ? nlohmann::json(*i.channel_port) : nlohmann::json(nullptr)}};
}

nlohmann::json to_json(const store::FileOfferRecord& o) {
  return {{"id", o.id},
          {"direction", o.direction},
          {"contact", o.contact},
          {"transfer_id", o.transfer_id},
          {"name", o.name},
          {"size", o.size},
          {"peers", parse_or(o.peers, nlohmann::json::array())},
          {"state", o.state},
          {"done", o.done},
          {"reason", o.reason},
          {"created_at", o.created_at}};
}

nlohmann::json to_json(const app::ListedReport& r) {
  auto j = safety::to_json(r.report);
  j["path"] = r.path;
  return j;
}

nlohmann::json to_json(const app::SettingChange& c) {
  return {{"name", c.name}, {"value", c.value}, {"applied", c.live ? "live" : "restart"}};
}

std::pair<std::string, nlohmann::json> event_json(const app::Event& event) {
  namespace ev = app::event;
  return std::visit(
      overloaded{
          [](const ev::TransferAdded& e) -> std::pair<std::string, nlohmann::json> {
            return {"transfer.added", {{"id", e.id}, {"name", e.name}, {"kind", e.kind}}};
          },
          [](const ev::TransferHashed& e) -> std::pair<std::string, nlohmann::json> {
            return {"transfer.hashed", {{"job", e.job}, {"id", e.id}}};
          },
          [](const ev::TransferMetadata& e) -> std::pair<std::string, nlohmann::json> {
            return {"transfer.metadata", {{"id", e.id}, {"name", e.name}}};
          },
          [](const ev::TransferState& e) -> std::pair<std::string, nlohmann::json> {
            return {"transfer.state", {{"id", e.id}, {"state", e.state}}};
          },
          [](const ev::TransferProgress& e) -> std::pair<std::string, nlohmann::json> {
            return {"transfer.progress", to_json(e.transfer)};
          },
          [](const ev::TransferScanning& e) -> std::pair<std::string, nlohmann::json> {
            return {"transfer.scanning", {{"id", e.id}, {"files", e.files}}};
          },
          [](const ev::TransferScanned& e) -> std::pair<std::string, nlohmann::json> {
            return {"transfer.scanned",
                    {{"id", e.id},
                     {"outcome", safety::to_string(e.decision.outcome)},
                     {"reason", e.decision.reason},
                     {"runnable", e.decision.runnable},
                     {"bytes_scanned", e.decision.bytes_scanned}}};
          },
          [](const ev::TransferCompleted& e) -> std::pair<std::string, nlohmann::json> {
            return {"transfer.completed", {{"id", e.id}, {"name", e.name}, {"path", e.path}}};
          },
          [](const ev::TransferError& e) -> std::pair<std::string, nlohmann::json> {
            nlohmann::json j{{"id", e.id}, {"message", e.message}};
            if (e.has_disk_full) j["disk_full"] = e.disk_full;
            return {"transfer.error", j};
          },
          [](const ev::TransferRemoved& e) -> std::pair<std::string, nlohmann::json> {
            return {"transfer.removed", {{"id", e.id}}};
          },
          [](const ev::QuarantineAdded& e) -> std::pair<std::string, nlohmann::json> {
            return {"quarantine.added", to_json(e.item)};
          },
          [](const ev::QuarantineReleased& e) -> std::pair<std::string, nlohmann::json> {
            return {"quarantine.released", {{"id", e.id}, {"path", e.path}}};
          },
          [](const ev::QuarantineDeleted& e) -> std::pair<std::string, nlohmann::json> {
            return {"quarantine.deleted", {{"id", e.id}}};
          },
          [](const ev::ReportCreated& e) -> std::pair<std::string, nlohmann::json> {
            return {"report.created", {{"id", e.id}, {"transfer_id", e.transfer_id}, {"path", e.path}}};
          },
          [](const ev::BlockAdded& e) -> std::pair<std::string, nlohmann::json> {
            auto j = to_json(e.entry);
            j["removed"] = e.removed;
            return {"blocklist.added", j};
          },
          [](const ev::BlockRemoved& e) -> std::pair<std::string, nlohmann::json> {
            return {"blocklist.removed", {{"kind", e.kind}, {"value", e.value}}};
          },
          [](const ev::IpFilterReloaded& e) -> std::pair<std::string, nlohmann::json> {
            return {"blocklist.ip_filter", to_json(e.summary)};
          },
          [](const ev::FileOffer& e) -> std::pair<std::string, nlohmann::json> {
            return {e.type, to_json(e.offer)};
          },
      },
      event);
}

}  // namespace kith::api
