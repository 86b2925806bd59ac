#pragma once
// RAII SQLite database with numbered migrations. The only user of sqlite3 in kith.
//
// One connection per Database, guarded by a mutex: calls from any thread are serialised. SQLite work in
// kith is small (a row per transfer, resume blobs of a few KiB), so a serial connection is enough.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "base/error.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace kith::store {

enum class errc {
  open_failed = 1,  // the file could not be opened or is not a database
  query_failed,     // a statement failed (message has SQLite's text)
  too_new,          // the database was written by a newer kith (higher schema version)
  busy,             // another process holds the database lock
};
const std::error_category& category();
inline std::error_code make_error_code(errc e) { return {static_cast<int>(e), category()}; }

// A value bound to or read from a statement.
using Value = std::variant<std::nullptr_t, std::int64_t, double, std::string, std::vector<std::uint8_t>>;
using Row = std::vector<Value>;

class Database {
 public:
  // Opens (creating if missing) and brings the schema up to date by running `migrations` in order:
  // migration i (0-based) moves the schema from version i to i+1, in one transaction each.
  static Result<std::unique_ptr<Database>> open(const std::filesystem::path& file,
                                                const std::vector<std::string>& migrations);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs one statement with positional parameters (?1, ?2, ...) and returns all rows.
  Result<std::vector<Row>> query(const std::string& sql, const std::vector<Value>& params = {});
  Status exec(const std::string& sql, const std::vector<Value>& params = {});
  // Runs `body` inside BEGIN IMMEDIATE ... COMMIT; rolls back if it fails.
  Status transaction(const std::function<Status()>& body);

  int schema_version();

 private:
  explicit Database(sqlite3* db) : m_db(db) {}
  Result<std::vector<Row>> query_locked(const std::string& sql, const std::vector<Value>& params);
  Status migrate(const std::vector<std::string>& migrations);

  std::recursive_mutex m_mutex;  // recursive: transaction() bodies call exec()
  sqlite3* m_db;
};

// Typed accessors for Row values; a NULL or mismatched value gives the fallback.
std::int64_t as_int(const Value& v, std::int64_t fallback = 0);
std::string as_text(const Value& v);
std::vector<std::uint8_t> as_blob(const Value& v);

}  // namespace kith::store

template <>
struct std::is_error_code_enum<kith::store::errc> : std::true_type {};
