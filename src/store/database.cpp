#include "store/database.hpp"

#include <sqlite3.h>

namespace kith::store {
namespace {

// Distinct SQL texts kept prepared. kith's statements are constants, a few dozen in all; the bound only
// keeps SQL built at run time (none today) from growing the cache without end.
constexpr std::size_t MAX_CACHED_STATEMENTS = 256;

}  // namespace

const std::error_category& category() {
  static const char* const NAMES[] = {"", "open_failed", "query_failed", "too_new", "busy"};
  static const base::NamedCategory instance("kith.store", "store", NAMES);
  return instance;
}

Result<std::unique_ptr<Database>> Database::open(const std::filesystem::path& file,
                                                 const std::vector<std::string>& migrations) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(file.c_str(), &raw,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    sqlite3_close(raw);
    return fail(make_error_code(errc::open_failed), "cannot open " + file.string() + ": " + msg);
  }
  std::unique_ptr<Database> db(new Database(raw));
  sqlite3_busy_timeout(raw, 5000);
  // WAL: readers never block the writer, and a killed process leaves a consistent database.
  if (auto r = db->exec("PRAGMA journal_mode=WAL"); !r) {
    return fail(make_error_code(errc::open_failed),
                file.string() + " is not a kith database: " + r.error().message);
  }
  if (auto r = db->exec("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON"); !r)
    return tl::unexpected(r.error());
  if (auto r = db->migrate(migrations); !r) return tl::unexpected(r.error());
  return db;
}

Database::~Database() {
  for (auto& [sql, stmt] : m_statements) sqlite3_finalize(stmt);
  sqlite3_close(m_db);
}

int Database::schema_version() {
  auto rows = query("PRAGMA user_version");
  return rows && !rows->empty() ? static_cast<int>(as_int((*rows)[0][0])) : 0;
}

Status Database::migrate(const std::vector<std::string>& migrations) {
  int version = schema_version();
  if (version > static_cast<int>(migrations.size())) {
    return fail(make_error_code(errc::too_new), "state database has schema version " +
                                                    std::to_string(version) + " but this kith knows only " +
                                                    std::to_string(migrations.size()) + "; upgrade kith");
  }
  for (int i = version; i < static_cast<int>(migrations.size()); ++i) {
    auto r = transaction([&](Transaction& tx) -> Status {
      if (auto e = tx.exec(migrations[static_cast<std::size_t>(i)]); !e) return e;
      return tx.exec("PRAGMA user_version=" + std::to_string(i + 1));
    });
    if (!r) return r;
  }
  return {};
}

Status Database::check_not_in_transaction() const {
  if (m_transaction_thread.load() != std::this_thread::get_id()) return {};
  return fail(make_error_code(errc::query_failed),
              "database: a statement inside transaction() must run through its Transaction");
}

Status Database::transaction(const std::function<Status(Transaction&)>& body) {
  if (auto r = check_not_in_transaction(); !r) return r;  // nested: the lock is ours already
  std::lock_guard lock(m_mutex);
  if (auto r = exec_locked("BEGIN IMMEDIATE", {}); !r) return r;
  m_transaction_thread = std::this_thread::get_id();
  Transaction tx(*this);
  auto result = body(tx);
  m_transaction_thread = std::thread::id();
  if (!result) {
    if (auto r = exec_locked("ROLLBACK", {}); !r)
      result.error().message += " (and the rollback failed: " + r.error().message + ")";
    return result;
  }
  if (auto r = exec_locked("COMMIT", {}); !r) {
    (void)exec_locked("ROLLBACK", {});
    return r;
  }
  return {};
}

Result<std::vector<Row>> Transaction::query(const std::string& sql, const std::vector<Value>& params) {
  return m_db.query_locked(sql, params);
}

Status Transaction::exec(const std::string& sql, const std::vector<Value>& params) {
  return m_db.exec_locked(sql, params);
}

Status Database::exec(const std::string& sql, const std::vector<Value>& params) {
  if (auto r = check_not_in_transaction(); !r) return r;
  std::lock_guard lock(m_mutex);
  return exec_locked(sql, params);
}

Status Database::exec_locked(const std::string& sql, const std::vector<Value>& params) {
  if (params.empty()) {
    // sqlite3_exec runs several ';'-separated statements (migrations need that).
    char* err = nullptr;
    if (sqlite3_exec(m_db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "unknown error";
      sqlite3_free(err);
      auto code = sqlite3_errcode(m_db) == SQLITE_BUSY ? errc::busy : errc::query_failed;
      return fail(make_error_code(code), "database: " + msg);
    }
    return {};
  }
  auto r = query_locked(sql, params);
  if (!r) return tl::unexpected(r.error());
  return {};
}

Result<std::vector<Row>> Database::query(const std::string& sql, const std::vector<Value>& params) {
  if (auto r = check_not_in_transaction(); !r) return tl::unexpected(r.error());
  std::lock_guard lock(m_mutex);
  return query_locked(sql, params);
}

Result<std::vector<Row>> Database::query_locked(const std::string& sql, const std::vector<Value>& params) {
  auto stmt = prepare_locked(sql);
  if (!stmt) return tl::unexpected(stmt.error());
  return run_locked(*stmt, params);
}

Result<sqlite3_stmt*> Database::prepare_locked(const std::string& sql) {
  // Parsing is most of the cost of a small statement (a sync pull stores each file it places with
  // half a dozen of them), so each SQL text is prepared once and kept. Sharing one prepared statement
  // is safe: run_locked() steps it to the end and resets it before the lock is released.
  if (auto it = m_statements.find(sql); it != m_statements.end()) return it->second;
  // Emptied when full, but never inside a transaction body: its Statements point into the cache.
  if (m_statements.size() >= MAX_CACHED_STATEMENTS && m_transaction_thread.load() == std::thread::id()) {
    for (auto& [text, stmt] : m_statements) sqlite3_finalize(stmt);
    m_statements.clear();
  }
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(m_db, sql.c_str(), static_cast<int>(sql.size()), &raw, nullptr) != SQLITE_OK) {
    auto code = sqlite3_errcode(m_db) == SQLITE_BUSY ? errc::busy : errc::query_failed;
    return fail(make_error_code(code), std::string("database prepare: ") + sqlite3_errmsg(m_db));
  }
  m_statements.emplace(sql, raw);
  return raw;
}

Result<std::vector<Row>> Database::run_locked(sqlite3_stmt* raw, const std::vector<Value>& params) {
  // Reset and unbind on every way out, so a prepared Statement starts its next run clean.
  struct Reset {
    sqlite3_stmt* s;
    ~Reset() {
      sqlite3_reset(s);
      sqlite3_clear_bindings(s);
    }
  } reset{raw};
  auto error = [&](const char* what) {
    auto code = sqlite3_errcode(m_db) == SQLITE_BUSY ? errc::busy : errc::query_failed;
    return fail(make_error_code(code), std::string("database ") + what + ": " + sqlite3_errmsg(m_db));
  };
  for (std::size_t i = 0; i < params.size(); ++i) {
    int idx = static_cast<int>(i + 1);
    int rc = std::visit(
        [&](const auto& v) -> int {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::nullptr_t>)
            return sqlite3_bind_null(raw, idx);
          else if constexpr (std::is_same_v<T, std::int64_t>)
            return sqlite3_bind_int64(raw, idx, v);
          else if constexpr (std::is_same_v<T, double>)
            return sqlite3_bind_double(raw, idx, v);
          else if constexpr (std::is_same_v<T, std::string>)
            return sqlite3_bind_text(raw, idx, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
          else if (v.empty())
            // An empty vector's data() may be null, which sqlite3_bind_blob takes for NULL: an empty
            // BLOB is not a missing one (a NOT NULL column would refuse it).
            return sqlite3_bind_zeroblob(raw, idx, 0);
          else
            return sqlite3_bind_blob(raw, idx, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
        },
        params[i]);
    if (rc != SQLITE_OK) return error("bind");
  }
  std::vector<Row> rows;
  for (;;) {
    int rc = sqlite3_step(raw);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return error("step");
    Row row;
    int n = sqlite3_column_count(raw);
    for (int c = 0; c < n; ++c) {
      switch (sqlite3_column_type(raw, c)) {
        case SQLITE_INTEGER:
          row.emplace_back(static_cast<std::int64_t>(sqlite3_column_int64(raw, c)));
          break;
        case SQLITE_FLOAT:
          row.emplace_back(sqlite3_column_double(raw, c));
          break;
        case SQLITE_TEXT:
          row.emplace_back(std::string(reinterpret_cast<const char*>(sqlite3_column_text(raw, c)),
                                       static_cast<std::size_t>(sqlite3_column_bytes(raw, c))));
          break;
        case SQLITE_BLOB: {
          auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(raw, c));
          row.emplace_back(std::vector<std::uint8_t>(p, p + sqlite3_column_bytes(raw, c)));
          break;
        }
        default:
          row.emplace_back(nullptr);
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

Result<Statement> Transaction::prepare(const std::string& sql) {
  auto stmt = m_db.prepare_locked(sql);
  if (!stmt) return tl::unexpected(stmt.error());
  return Statement(m_db, *stmt);
}

Result<std::vector<Row>> Statement::query(const std::vector<Value>& params) {
  return m_db->run_locked(m_stmt, params);
}

Status Statement::exec(const std::vector<Value>& params) {
  auto r = m_db->run_locked(m_stmt, params);
  if (!r) return tl::unexpected(r.error());
  return {};
}

std::int64_t as_int(const Value& v, std::int64_t fallback) {
  if (auto* i = std::get_if<std::int64_t>(&v)) return *i;
  return fallback;
}

std::string as_text(const Value& v) {
  if (auto* s = std::get_if<std::string>(&v)) return *s;
  return {};
}

std::vector<std::uint8_t> as_blob(const Value& v) {
  if (auto* b = std::get_if<std::vector<std::uint8_t>>(&v)) return *b;
  if (auto* s = std::get_if<std::string>(&v)) return {s->begin(), s->end()};
  return {};
}

}  // namespace kith::store
