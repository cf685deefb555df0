#pragma once
// The one SQLite wrapper every store uses. It exists so that the mistakes that
// caused a use-after-free in the machine store cannot be written again:
//  - a statement is executed through a Run, whose destructor always resets it
//    and clears its bindings, on every exit path (exceptions included);
//  - every bind is checked and copies its value (SQLITE_TRANSIENT): nothing a
//    statement holds points into caller memory once bind() returns;
//  - every step is checked: an error throws sqlite::Error with SQLite's own
//    message and extended result code ("database is locked", "database or
//    disk is full");
//  - a Transaction rolls back from its destructor, and only if a transaction
//    is really open (SQLite ends one by itself after some errors, e.g. FULL).
// Not thread-safe: one Db per thread (SQLite is opened NOMUTEX).
#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ramfleet::store::sqlite {

class Error : public std::runtime_error {
 public:
  // what(): "<context>: <sqlite message> (<code name>)".
  Error(const std::string& context, int extended_code, const std::string& sqlite_message);
  [[nodiscard]] int code() const { return code_ & 0xff; }    // SQLITE_BUSY, SQLITE_FULL...
  [[nodiscard]] int extended_code() const { return code_; }  // SQLITE_BUSY_SNAPSHOT...
  [[nodiscard]] const std::string& sqlite_message() const { return message_; }

 private:
  int code_;
  std::string message_;
};

enum class Synchronous { normal, full };

struct OpenOptions {
  bool read_only = false;  // also: never creates the file
  std::chrono::milliseconds busy_timeout{2000};
  bool wal = true;
  // FULL where a reply promised durability (a DHCP ACK): the WAL is fsynced at
  // every commit. NORMAL survives a crash of the process but may lose the last
  // commits on power loss.
  Synchronous synchronous = Synchronous::full;
  // 0: no limit. Otherwise writes that would grow the file past this many bytes
  // fail with SQLITE_FULL (PRAGMA max_page_count), like a full disk.
  std::int64_t max_bytes = 0;
};

// Creates `dir` (and parents) if needed and makes `dir` itself 0700: state
// directories hold leases, machine history and keys. Throws Error-free
// std::runtime_error naming the path.
void ensure_private_dir(const std::filesystem::path& dir);

class Statement;

class Db {
 public:
  // Opens or creates `file` (mode 0600, also for its -wal and -shm files, which
  // SQLite creates with the database's mode; existing files are tightened).
  // ":memory:" opens a throwaway database. Throws Error.
  static Db open(const std::filesystem::path& file, const OpenOptions& options = {});
  Db(Db&& other) noexcept;
  Db& operator=(Db&& other) noexcept;
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db();

  // Runs SQL without results (schema, pragmas). Throws Error.
  void exec(std::string_view sql);
  // Sets max_page_count so the file stays under `bytes` (0: no limit).
  void set_max_bytes(std::int64_t bytes);
  [[nodiscard]] bool in_transaction() const;
  [[nodiscard]] std::int64_t changes() const;
  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] sqlite3* raw() const { return db_; }
  // Throws Error for the connection's current error, `rc` when it has none.
  [[noreturn]] void fail(const std::string& context, int rc) const;

 private:
  Db(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_ = nullptr;
  std::string path_;
};

// One execution of a Statement: bind, step, read columns. The destructor resets
// the statement and clears its bindings whatever happened.
class Run {
 public:
  Run(const Run&) = delete;
  Run& operator=(const Run&) = delete;
  Run(Run&& other) noexcept : st_(std::exchange(other.st_, nullptr)) {}
  Run& operator=(Run&&) = delete;
  ~Run();

  // Parameters are numbered from 1, like ?1 in SQL. Values are copied.
  Run& bind(int index, std::string_view text);
  Run& bind(int index, const std::string& text) { return bind(index, std::string_view(text)); }
  Run& bind(int index, const char* text) { return bind(index, std::string_view(text)); }
  Run& bind(int index, std::int64_t value);
  Run& bind(int index, double value);
  Run& bind_blob(int index, std::span<const std::uint8_t> bytes);
  Run& bind_null(int index);
  template <typename T>
  Run& bind(int index, const std::optional<T>& value) {
    return value ? bind(index, *value) : bind_null(index);
  }

  // true: a row is ready; false: the statement is done. Throws Error.
  bool step();
  // Steps a statement that returns no rows. Throws Error.
  void done();

  [[nodiscard]] int columns() const;
  [[nodiscard]] std::string_view column_name(int i) const;
  [[nodiscard]] int type(int i) const;  // SQLITE_INTEGER, SQLITE_TEXT...
  [[nodiscard]] bool is_null(int i) const { return type(i) == SQLITE_NULL; }
  [[nodiscard]] std::int64_t i64(int i) const;
  [[nodiscard]] double f64(int i) const;
  [[nodiscard]] std::string text(int i) const;
  [[nodiscard]] std::vector<std::uint8_t> blob(int i) const;

 private:
  friend class Statement;
  explicit Run(sqlite3_stmt* st) : st_(st) {}
  void check_bind(int rc, int index);
  sqlite3_stmt* st_;
};

// A prepared statement, kept and reused. Use it through run(). Finalize
// (destroy) every Statement before its Db.
class Statement {
 public:
  Statement(const Db& db, std::string_view sql);  // throws Error
  Statement(Statement&& other) noexcept : st_(std::exchange(other.st_, nullptr)) {}
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();
  // One execution at a time per statement.
  [[nodiscard]] Run run() { return Run(st_); }

 private:
  sqlite3_stmt* st_ = nullptr;
};

// Switches the connection's synchronous level for a scope (outside any
// transaction), e.g. FULL for the one commit a reply promises is durable.
class SynchronousScope {
 public:
  SynchronousScope(Db& db, Synchronous level);  // throws Error
  SynchronousScope(const SynchronousScope&) = delete;
  SynchronousScope& operator=(const SynchronousScope&) = delete;
  ~SynchronousScope();

 private:
  Db& db_;
  std::int64_t previous_;
};

enum class Begin { deferred, immediate, exclusive };

// BEGIN on construction; commit() or the destructor rolls back (only if SQLite
// still has the transaction open: after SQLITE_FULL it may have ended it).
class Transaction {
 public:
  explicit Transaction(Db& db, Begin kind = Begin::immediate);  // throws Error
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();
  // Throws Error; if SQLite already ended the transaction (an earlier
  // statement's error rolled it back), throws instead of committing a part.
  void commit();

 private:
  Db& db_;
  bool open_ = true;
};

}  // namespace ramfleet::store::sqlite
