#pragma once
// Persistent records of transfers (one row each) and of session state, in HOME/state.sqlite.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/database.hpp"

namespace kith::store {

struct TransferRecord {
  std::string id;
  std::string name;
  std::string kind;  // "share" or "get"
  std::string source;
  std::string destination;
  std::string only_glob;
  bool sequential = false;
  bool paused = false;
  bool released = false;
  std::int64_t added_at = 0;
  std::int64_t completed_at = 0;  // 0 while not released
  std::vector<std::uint8_t> resume;
  std::string runnable = "[]";  // JSON array of files that can run code (set by the safety check)
  std::string link_signature;   // "&x.kith.pk=..&x.kith.sig=.." appended to its magnet, or ""
  // Indices of the files to download, set when someone chose files one by one (then only_glob is
  // cleared); nullopt when no such choice was made.
  std::optional<std::vector<int>> wanted_files;
};

class TransferStore {
 public:
  explicit TransferStore(Database& db) : m_db(db) {}

  // Inserts or replaces the whole record (resume data included).
  Status put(const TransferRecord& record);
  Status save_resume(const std::string& id, const std::vector<std::uint8_t>& resume);
  Status set_paused(const std::string& id, bool paused);
  // Stores an explicit file selection and clears only_glob.
  Status set_wanted_files(const std::string& id, const std::vector<int>& wanted);
  Status mark_released(const std::string& id, std::int64_t when);
  Status set_runnable(const std::string& id, const std::string& json_array);
  Status remove(const std::string& id);
  Result<std::optional<TransferRecord>> get(const std::string& id);
  Result<std::vector<TransferRecord>> list();

  // Opaque session state (libtorrent's DHT state and such).
  Status put_kv(const std::string& key, const std::vector<std::uint8_t>& value);
  Result<std::optional<std::vector<std::uint8_t>>> get_kv(const std::string& key);
  Status remove_kv(const std::string& key);

 private:
  Database& m_db;
};

}  // namespace kith::store
