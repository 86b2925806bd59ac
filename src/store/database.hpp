#pragma once
// RAII SQLite database with numbered migrations. The only user of sqlite3 in kith.
//
// One connection per Database, guarded by a (non-recursive) mutex: calls from any thread are
// serialised. SQLite work in kith is small (a row per transfer, resume blobs of a few KiB), so a serial
// connection is enough; slow work belongs on a worker pool (docs/architecture.md § Threading).
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
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

class Database;

// A statement of one transaction, parsed once and run many times: bulk writes (a scan's thousands of
// rows) would otherwise spend most of their time re-parsing the same SQL. Made by
// Transaction::prepare(); valid only inside that transaction's body.
class Statement {
 public:
  // Binds `params` (?1, ?2, ...), runs to the end, returns all rows, and resets for the next run.
  Result<std::vector<Row>> query(const std::vector<Value>& params = {});
  Status exec(const std::vector<Value>& params = {});

 private:
  friend class Transaction;
  Statement(Database& db, sqlite3_stmt* stmt) : m_db(&db), m_stmt(stmt) {}
  Database* m_db;
  sqlite3_stmt* m_stmt;  // the Database's cached statement (it finalizes it)
};

// The statements of one Database::transaction(): they run under the lock transaction() holds. Valid
// only inside the body it was given to.
class Transaction {
 public:
  Result<std::vector<Row>> query(const std::string& sql, const std::vector<Value>& params = {});
  Status exec(const std::string& sql, const std::vector<Value>& params = {});
  // One statement (no ';'-separated lists) to run many times with different parameters.
  Result<Statement> prepare(const std::string& sql);

 private:
  friend class Database;
  explicit Transaction(Database& db) : m_db(db) {}
  Database& m_db;
};

class Database {
 public:
  // A private database in memory (SQLite's ":memory:"), gone when the Database is destroyed: unit
  // tests open one with the real migrations.
  static constexpr const char* IN_MEMORY = ":memory:";

  // Opens (creating if missing) and brings the schema up to date by running `migrations` in order:
  // migration i (0-based) moves the schema from version i to i+1, in one transaction each.
  // `file` may be IN_MEMORY.
  static Result<std::unique_ptr<Database>> open(const std::filesystem::path& file,
                                                const std::vector<std::string>& migrations);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs one statement with positional parameters (?1, ?2, ...) and returns all rows.
  Result<std::vector<Row>> query(const std::string& sql, const std::vector<Value>& params = {});
  Status exec(const std::string& sql, const std::vector<Value>& params = {});
  // Runs `body` inside BEGIN IMMEDIATE ... COMMIT, holding the lock throughout; rolls back if it
  // fails. The body runs its statements through the Transaction it is given: query()/exec() of this
  // Database called from inside the body fail (they would wait for the lock the body holds).
  Status transaction(const std::function<Status(Transaction&)>& body);

  int schema_version();

 private:
  friend class Transaction;
  friend class Statement;
  explicit Database(sqlite3* db) : m_db(db) {}
  // The statements themselves; the caller holds m_mutex. The statement stays the Database's (cached).
  Result<sqlite3_stmt*> prepare_locked(const std::string& sql);
  // Binds, steps to the end and resets `stmt` (which stays prepared).
  Result<std::vector<Row>> run_locked(sqlite3_stmt* stmt, const std::vector<Value>& params);
  Result<std::vector<Row>> query_locked(const std::string& sql, const std::vector<Value>& params);
  Status exec_locked(const std::string& sql, const std::vector<Value>& params);
  // An error if the calling thread is inside transaction(): it holds m_mutex already.
  Status check_not_in_transaction() const;
  Status migrate(const std::vector<std::string>& migrations);

  std::mutex m_mutex;
  std::atomic<std::thread::id> m_transaction_thread{};  // the thread running a transaction body, if any
  std::unordered_map<std::string, sqlite3_stmt*> m_statements;  // SQL text -> prepared, under m_mutex
  sqlite3* m_db;
};

// Typed accessors for Row values; a NULL or mismatched value gives the fallback.
std::int64_t as_int(const Value& v, std::int64_t fallback = 0);
std::string as_text(const Value& v);
std::vector<std::uint8_t> as_blob(const Value& v);

}  // namespace kith::store

template <>
struct std::is_error_code_enum<kith::store::errc> : std::true_type {};
