#pragma once
// The local block list and IP filter: what the node refuses to fetch, seed or talk to (docs/safety.md).
//
// Threading: the list lives on m_strand; its public methods post there and answer through Done. The
// blocked info-hashes are also kept as an immutable snapshot behind a leaf mutex, because other
// services ask check() synchronously while they add a transfer. Reading and parsing filter files runs
// on the worker pool.
#include <boost/asio/thread_pool.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "app/events.hpp"
#include "app/ip_filter_files.hpp"
#include "app/model.hpp"
#include "app/settings_store.hpp"
#include "base/async.hpp"
#include "store/block_store.hpp"
#include "swarm/session_host.hpp"

namespace kith::app {

class TransferService;

struct BlockCounts {
  int info_hashes = 0;
  int peer_ids = 0;
  std::size_t ip_filter_ranges = 0;
};

class BlockService {
 public:
  struct Deps {
    boost::asio::io_context& io;
    boost::asio::thread_pool& workers;
    const SettingsStore& settings;
    swarm::SessionHost& swarm;
    store::BlockStore& store;
    TransferService& transfers;
    EventSink sink;
  };
  explicit BlockService(Deps deps);

  // At start, before any transfer is added: loads the list, applies blocked peer IDs and the IP filter
  // files of safety.ipfilter. A filter the settings name but that cannot be loaded stops the node
  // (fail closed). Synchronous: call it before the io_context runs.
  Status start();

  // Any thread: error safety::errc::blocked if either hash is on the list.
  Status check(const swarm::InfoHashes& hashes) const;

  // kind: "info_hash" or "peer_id" (see safety/block_entry.hpp). Blocking an info-hash also removes a
  // transfer of it from the node: a download not yet released loses its staged or quarantined data;
  // released downloads and shares keep their files where they are.
  void add(std::string kind, std::string value, std::string reason,
           base::Done<Result<event::BlockAdded>> done);
  // Error base::errc::not_found if the entry is not on the list.
  void remove(std::string kind, std::string value, base::Done<Status> done);
  void list(base::Done<BlockList> done);
  // Reads the files of safety.ipfilter again (on the pool); on error the old filter stays.
  void reload_ip_filter(base::Done<Result<IpFilterSummary>> done);
  void counts(base::Done<BlockCounts> done);

 private:
  void apply_peer_id_rules();
  void publish_hashes();
  void emit(Event e) const;

  Deps m_deps;
  base::Strand m_strand;
  std::map<std::string, store::BlockRecord> m_entries;  // "kind:value" -> entry (strand)
  IpFilterSummary m_ip_filter;                          // (strand)
  mutable std::mutex m_snapshot_mutex;                  // guards m_blocked_hashes only
  std::shared_ptr<const std::map<std::string, std::string>> m_blocked_hashes;  // hash -> reason
};

}  // namespace kith::app
