// Node's block list and IP filter: what the node refuses to fetch, seed or talk to (safety, issue 4).
// The rest of Node is in node.cpp.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "app/ip_filter_files.hpp"
#include "app/node.hpp"
#include "safety/block_entry.hpp"
#include "safety/errors.hpp"

namespace kith::app {
namespace {

std::string key_of(const std::string& kind, const std::string& value) { return kind + ":" + value; }

nlohmann::json entry_json(const store::BlockRecord& r) {
  return {{"kind", r.kind}, {"value", r.value}, {"reason", r.reason}, {"added_at", r.added_at}};
}

Result<std::pair<std::string, std::string>> normalise(const std::string& kind, const std::string& value) {
  safety::BlockKind k;
  if (!safety::parse_kind(kind, k)) {
    return fail(safety::make_error_code(safety::errc::bad_list),
                "block list kind must be info_hash or peer_id, not '" + kind + "'");
  }
  auto v = safety::normalise_block_value(k, value);
  if (!v) return tl::unexpected(v.error());
  return std::pair{std::string(safety::kind_name(k)), *v};
}

}  // namespace

Status Node::load_blocklist() {
  m_blocks = std::make_unique<store::BlockStore>(*m_db);
  auto entries = m_blocks->list();
  if (!entries) return tl::unexpected(entries.error());
  {
    std::lock_guard lock(m_mutex);
    for (auto& e : *entries) m_blocked[key_of(e.kind, e.value)] = e;
  }
  apply_peer_id_rules();
  // A filter that the settings name but that cannot be loaded stops the node (fail closed).
  auto filter = load_ip_filter_files(m_settings.get_list("safety.ipfilter"));
  if (!filter) return tl::unexpected(filter.error());
  if (auto r = m_swarm->set_ip_filter(filter->ranges); !r) return r;
  std::lock_guard lock(m_mutex);
  m_ip_filter_summary = filter->summary;
  return {};
}

void Node::apply_peer_id_rules() {
  std::vector<swarm::PeerIdRule> rules;
  {
    std::lock_guard lock(m_mutex);
    for (const auto& [key, e] : m_blocked) {
      if (e.kind != "peer_id") continue;
      auto p = safety::peer_id_pattern(e.value);
      rules.push_back({p.bytes, p.prefix});
    }
  }
  m_swarm->set_blocked_peer_ids(std::move(rules));
}

Status Node::check_not_blocked(const swarm::InfoHashes& hashes) {
  std::lock_guard lock(m_mutex);
  for (const auto* h : {&hashes.v1, &hashes.v2}) {
    if (h->empty()) continue;
    auto it = m_blocked.find(key_of("info_hash", *h));
    if (it == m_blocked.end()) continue;
    std::string why = it->second.reason.empty() ? "" : " (" + it->second.reason + ")";
    return fail(safety::make_error_code(safety::errc::blocked), "info-hash " + *h + " is on the block list" +
                                                                    why + "; `kith block remove " + *h +
                                                                    "` allows it again");
  }
  return {};
}

Result<nlohmann::json> Node::block(const std::string& kind, const std::string& value,
                                   const std::string& reason) {
  auto kv = normalise(kind, value);
  if (!kv) return tl::unexpected(kv.error());
  store::BlockRecord rec{
      kv->first, kv->second, reason,
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
          .count()};
  if (auto r = m_blocks->put(rec); !r) return tl::unexpected(r.error());
  {
    std::lock_guard lock(m_mutex);
    m_blocked[key_of(rec.kind, rec.value)] = rec;
  }
  auto removed = nlohmann::json::array();
  if (rec.kind == "peer_id") {
    apply_peer_id_rules();
  } else {
    for (const auto& st : m_swarm->list()) {
      if (st.hashes.v1 != rec.value && st.hashes.v2 != rec.value) continue;
      spdlog::warn("{}: info-hash blocked; removing the transfer", st.id);
      if (auto r = remove(st.id, false); !r) return tl::unexpected(r.error());
      removed.push_back(st.id);
    }
  }
  auto j = entry_json(rec);
  j["removed"] = removed;
  spdlog::info("blocked {} {}{}", rec.kind, rec.value, reason.empty() ? "" : " (" + reason + ")");
  publish("blocklist.added", j);
  return j;
}

Status Node::unblock(const std::string& kind, const std::string& value) {
  auto kv = normalise(kind, value);
  if (!kv) return tl::unexpected(kv.error());
  auto removed = m_blocks->remove(kv->first, kv->second);
  if (!removed) return tl::unexpected(removed.error());
  if (!*removed) {
    return fail(base::make_error_code(base::errc::not_found),
                kv->first + " " + kv->second + " is not on the block list (see `kith block list`)");
  }
  {
    std::lock_guard lock(m_mutex);
    m_blocked.erase(key_of(kv->first, kv->second));
  }
  if (kv->first == "peer_id") apply_peer_id_rules();
  spdlog::info("unblocked {} {}", kv->first, kv->second);
  publish("blocklist.removed", {{"kind", kv->first}, {"value", kv->second}});
  return {};
}

nlohmann::json Node::blocklist() {
  auto entries = nlohmann::json::array();
  std::lock_guard lock(m_mutex);
  std::vector<const store::BlockRecord*> sorted;
  for (const auto& [key, e] : m_blocked) sorted.push_back(&e);
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto* a, const auto* b) { return a->added_at < b->added_at; });
  for (const auto* e : sorted) entries.push_back(entry_json(*e));
  return {{"entries", entries}, {"ip_filter", m_ip_filter_summary}};
}

Result<nlohmann::json> Node::reload_ip_filter() {
  auto filter = load_ip_filter_files(m_settings.get_list("safety.ipfilter"));
  if (!filter) return tl::unexpected(filter.error());
  if (auto r = m_swarm->set_ip_filter(filter->ranges); !r) return tl::unexpected(r.error());
  {
    std::lock_guard lock(m_mutex);
    m_ip_filter_summary = filter->summary;
  }
  publish("blocklist.ip_filter", filter->summary);
  return filter->summary;
}

}  // namespace kith::app
