#include "app/block_service.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>

#include "app/transfer_service.hpp"
#include "base/clock.hpp"
#include "safety/block_entry.hpp"
#include "safety/errors.hpp"

namespace kith::app {
namespace {

std::string key_of(const std::string& kind, const std::string& value) { return kind + ":" + value; }

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

BlockService::BlockService(Deps deps)
    : m_deps(std::move(deps)),
      m_strand(boost::asio::make_strand(m_deps.io)),
      m_blocked_hashes(std::make_shared<const std::map<std::string, std::string>>()) {}

void BlockService::emit(Event e) const {
  if (m_deps.sink) m_deps.sink(e);
}

Status BlockService::start() {
  auto entries = m_deps.store.list();
  if (!entries) return tl::unexpected(entries.error());
  for (auto& e : *entries) m_entries[key_of(e.kind, e.value)] = e;
  publish_hashes();
  apply_peer_id_rules();
  auto filter = load_ip_filter_files(m_deps.settings.current()->get_list("safety.ipfilter"));
  if (!filter) return tl::unexpected(filter.error());
  if (auto r = m_deps.swarm.set_ip_filter(filter->ranges); !r) return r;
  m_ip_filter = filter->summary;
  return {};
}

void BlockService::publish_hashes() {
  auto next = std::make_shared<std::map<std::string, std::string>>();
  for (const auto& [key, e] : m_entries)
    if (e.kind == "info_hash") (*next)[e.value] = e.reason;
  std::lock_guard lock(m_snapshot_mutex);
  m_blocked_hashes = std::move(next);
}

void BlockService::apply_peer_id_rules() {
  std::vector<swarm::PeerIdRule> rules;
  for (const auto& [key, e] : m_entries) {
    if (e.kind != "peer_id") continue;
    auto p = safety::peer_id_pattern(e.value);
    rules.push_back({p.bytes, p.prefix});
  }
  m_deps.swarm.set_blocked_peer_ids(std::move(rules));
}

Status BlockService::check(const swarm::InfoHashes& hashes) const {
  std::shared_ptr<const std::map<std::string, std::string>> blocked;
  {
    std::lock_guard lock(m_snapshot_mutex);
    blocked = m_blocked_hashes;
  }
  for (const auto* h : {&hashes.v1, &hashes.v2}) {
    if (h->empty()) continue;
    auto it = blocked->find(*h);
    if (it == blocked->end()) continue;
    std::string why = it->second.empty() ? "" : " (" + it->second + ")";
    return fail(safety::make_error_code(safety::errc::blocked), "info-hash " + *h + " is on the block list" +
                                                                    why + "; `kith block remove " + *h +
                                                                    "` allows it again");
  }
  return {};
}

void BlockService::add(std::string kind, std::string value, std::string reason,
                       base::Done<Result<event::BlockAdded>> done) {
  boost::asio::post(m_strand, [this, kind = std::move(kind), value = std::move(value),
                               reason = std::move(reason), done = std::move(done)]() mutable {
    auto kv = normalise(kind, value);
    if (!kv) return done(tl::unexpected(kv.error()));
    store::BlockRecord rec{kv->first, kv->second, reason, base::unix_seconds()};
    if (auto r = m_deps.store.put(rec); !r) return done(tl::unexpected(r.error()));
    m_entries[key_of(rec.kind, rec.value)] = rec;
    spdlog::info("blocked {} {}{}", rec.kind, rec.value, reason.empty() ? "" : " (" + reason + ")");
    if (rec.kind == "peer_id") {
      apply_peer_id_rules();
      event::BlockAdded added{rec, {}};
      emit(added);
      return done(added);
    }
    publish_hashes();
    m_deps.transfers.remove_blocked(
        rec.value,
        base::post_to(m_strand, base::Done<std::vector<std::string>>(
                                    [this, rec, done = std::move(done)](std::vector<std::string> removed) {
                                      event::BlockAdded added{rec, std::move(removed)};
                                      emit(added);
                                      done(added);
                                    })));
  });
}

void BlockService::remove(std::string kind, std::string value, base::Done<Status> done) {
  boost::asio::post(m_strand, [this, kind = std::move(kind), value = std::move(value),
                               done = std::move(done)] {
    auto kv = normalise(kind, value);
    if (!kv) return done(tl::unexpected(kv.error()));
    auto removed = m_deps.store.remove(kv->first, kv->second);
    if (!removed) return done(tl::unexpected(removed.error()));
    if (!*removed)
      return done(fail(base::make_error_code(base::errc::not_found),
                       kv->first + " " + kv->second + " is not on the block list (see `kith block list`)"));
    m_entries.erase(key_of(kv->first, kv->second));
    if (kv->first == "peer_id")
      apply_peer_id_rules();
    else
      publish_hashes();
    spdlog::info("unblocked {} {}", kv->first, kv->second);
    emit(event::BlockRemoved{kv->first, kv->second});
    done(Status{});
  });
}

void BlockService::list(base::Done<BlockList> done) {
  boost::asio::post(m_strand, [this, done = std::move(done)] {
    BlockList out;
    for (const auto& [key, e] : m_entries) out.entries.push_back(e);
    std::stable_sort(out.entries.begin(), out.entries.end(),
                     [](const auto& a, const auto& b) { return a.added_at < b.added_at; });
    out.ip_filter = m_ip_filter;
    done(std::move(out));
  });
}

void BlockService::reload_ip_filter(base::Done<Result<IpFilterSummary>> done) {
  auto files = m_deps.settings.current()->get_list("safety.ipfilter");
  // Reading and parsing a filter of hundreds of thousands of ranges: the pool.
  boost::asio::post(m_deps.workers, [this, files = std::move(files), done = std::move(done)]() mutable {
    auto filter = load_ip_filter_files(files);
    if (filter)  // building libtorrent's filter from many ranges is slow too (SessionHost: any thread)
      if (auto r = m_deps.swarm.set_ip_filter(filter->ranges); !r) filter = tl::unexpected(r.error());
    boost::asio::post(m_strand, [this, filter = std::move(filter), done = std::move(done)] {
      if (!filter) return done(tl::unexpected(filter.error()));
      m_ip_filter = filter->summary;
      emit(event::IpFilterReloaded{m_ip_filter});
      done(m_ip_filter);
    });
  });
}

void BlockService::counts(base::Done<BlockCounts> done) {
  boost::asio::post(m_strand, [this, done = std::move(done)] {
    BlockCounts c;
    for (const auto& [key, e] : m_entries) (e.kind == "info_hash" ? c.info_hashes : c.peer_ids)++;
    c.ip_filter_ranges = m_ip_filter.ranges;
    done(c);
  });
}

}  // namespace kith::app
