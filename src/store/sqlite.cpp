#include "store/sqlite.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace ramfleet::store::sqlite {

namespace {
[[noreturn]] void fail_on(sqlite3* db, const std::string& context, int rc) {
  const int ext = sqlite3_extended_errcode(db);
  const bool same = (ext & 0xff) == (rc & 0xff);  // the connection's error is this one
  const char* file = sqlite3_db_filename(db, "main");
  const std::string where = file != nullptr && *file != 0 ? file : ":memory:";
  throw Error(where + ": " + context, same ? ext : rc, same ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

std::string describe(const std::string& context, int code, const std::string& message) {
  const std::string name = sqlite3_errstr(code);
  return context + ": " + message + " (" + (name == message ? "" : name + ", ") + "code " + std::to_string(code) + ")";
}

// Creates the database file 0600 before SQLite opens it: SQLite then creates
// its -wal and -shm files with the database's mode. Files left 0644 by older
// versions are tightened.
void make_private_file(const std::filesystem::path& file) {
  const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    throw Error("cannot create " + file.string(), SQLITE_CANTOPEN, std::strerror(errno));
  }
  const int rc = ::fchmod(fd, 0600);
  const int err = errno;
  ::close(fd);
  if (rc != 0) throw Error("cannot chmod 0600 " + file.string(), SQLITE_PERM, std::strerror(err));
  for (const char* suffix : {"-wal", "-shm", "-journal"}) {
    const std::string side = file.string() + suffix;
    if (::chmod(side.c_str(), 0600) != 0 && errno != ENOENT) {
      throw Error("cannot chmod 0600 " + side, SQLITE_PERM, std::strerror(errno));
    }
  }
}
}  // namespace

Error::Error(const std::string& context, int extended_code, const std::string& sqlite_message)
    : std::runtime_error(describe(context, extended_code, sqlite_message)),
      code_(extended_code),
      message_(sqlite_message) {}

void ensure_private_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw std::runtime_error("cannot create state directory " + dir.string() + ": " + ec.message());
  if (::chmod(dir.c_str(), 0700) != 0) {
    throw std::runtime_error("cannot chmod 0700 state directory " + dir.string() + ": " + std::strerror(errno));
  }
}

// --- Db -----------------------------------------------------------------------

Db Db::open(const std::filesystem::path& file, const OpenOptions& o) {
  const std::string path = file.string();
  const bool memory = path == ":memory:";
  if (!memory && !o.read_only) make_private_file(file);
  sqlite3* raw = nullptr;
  std::string target = path;
  int flags = SQLITE_OPEN_NOMUTEX;
  if (o.read_only) {
    flags |= SQLITE_OPEN_READONLY | SQLITE_OPEN_URI;
    target = "file:" + path + "?mode=ro";
  } else {
    flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  }
  const int rc = sqlite3_open_v2(target.c_str(), &raw, flags, nullptr);
  Db db(raw, path);  // closes the handle on every path from here
  if (rc != SQLITE_OK) {
    throw Error("cannot open " + path, rc, raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc));
  }
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, static_cast<int>(o.busy_timeout.count()));
  if (!o.read_only) {
    if (o.wal && !memory) db.exec("PRAGMA journal_mode=WAL");
    db.exec(o.synchronous == Synchronous::full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
    db.set_max_bytes(o.max_bytes);
  }
  return db;
}

Db::Db(Db&& other) noexcept : db_(std::exchange(other.db_, nullptr)), path_(std::move(other.path_)) {}

Db& Db::operator=(Db&& other) noexcept {
  if (this != &other) {
    sqlite3_close_v2(db_);
    db_ = std::exchange(other.db_, nullptr);
    path_ = std::move(other.path_);
  }
  return *this;
}

// close_v2: statements still alive (a bug, but not a leak of the file) keep
// the connection until they are finalized.
Db::~Db() { sqlite3_close_v2(db_); }

void Db::exec(std::string_view sql) {
  const std::string s(sql);
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    const int ext = sqlite3_extended_errcode(db_);
    throw Error(path_ + ": " + s, (ext & 0xff) == (rc & 0xff) ? ext : rc, msg);
  }
}

void Db::set_max_bytes(std::int64_t bytes) {
  if (bytes <= 0) {
    exec("PRAGMA max_page_count=4294967294");
    return;
  }
  Statement page_size(*this, "PRAGMA page_size");
  auto r = page_size.run();
  std::int64_t size = r.step() ? r.i64(0) : 4096;
  if (size <= 0) size = 4096;
  exec("PRAGMA max_page_count=" + std::to_string(std::max<std::int64_t>(1, bytes / size)));
}

bool Db::in_transaction() const { return sqlite3_get_autocommit(db_) == 0; }

std::int64_t Db::changes() const { return sqlite3_changes64(db_); }

void Db::fail(const std::string& context, int rc) const { fail_on(db_, context, rc); }

// --- Statement and Run ----------------------------------------------------------

Statement::Statement(const Db& db, std::string_view sql) {
  const int rc = sqlite3_prepare_v2(db.raw(), sql.data(), static_cast<int>(sql.size()), &st_, nullptr);
  if (rc != SQLITE_OK) db.fail("prepare " + std::string(sql.substr(0, 80)), rc);
}

Statement::~Statement() { sqlite3_finalize(st_); }

Run::~Run() {
  if (st_ == nullptr) return;
  sqlite3_reset(st_);
  sqlite3_clear_bindings(st_);
}

void Run::check_bind(int rc, int index) {
  if (rc != SQLITE_OK) fail_on(sqlite3_db_handle(st_), "bind parameter " + std::to_string(index), rc);
}

Run& Run::bind(int index, std::string_view text) {
  // A null pointer would bind NULL, not an empty string.
  const char* p = text.data() != nullptr ? text.data() : "";
  check_bind(sqlite3_bind_text64(st_, index, p, text.size(), SQLITE_TRANSIENT, SQLITE_UTF8), index);
  return *this;
}

Run& Run::bind(int index, std::int64_t value) {
  check_bind(sqlite3_bind_int64(st_, index, value), index);
  return *this;
}

Run& Run::bind(int index, double value) {
  check_bind(sqlite3_bind_double(st_, index, value), index);
  return *this;
}

Run& Run::bind_blob(int index, std::span<const std::uint8_t> bytes) {
  static const std::uint8_t kEmpty = 0;  // an empty span's data() may be null, which would bind NULL
  const void* p = bytes.data() != nullptr ? bytes.data() : &kEmpty;
  check_bind(sqlite3_bind_blob64(st_, index, p, bytes.size(), SQLITE_TRANSIENT), index);
  return *this;
}

Run& Run::bind_null(int index) {
  check_bind(sqlite3_bind_null(st_, index), index);
  return *this;
}

bool Run::step() {
  const int rc = sqlite3_step(st_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  const char* sql = sqlite3_sql(st_);
  fail_on(sqlite3_db_handle(st_), std::string("step ") + std::string(std::string_view(sql ? sql : "?").substr(0, 80)),
          rc);
}

void Run::done() {
  if (step()) {
    const char* sql = sqlite3_sql(st_);
    throw Error(std::string(sql ? sql : "?"), SQLITE_MISUSE, "returned a row where none was expected");
  }
}

int Run::columns() const { return sqlite3_column_count(st_); }

std::string_view Run::column_name(int i) const {
  const char* n = sqlite3_column_name(st_, i);
  return n ? n : "";
}

int Run::type(int i) const { return sqlite3_column_type(st_, i); }

std::int64_t Run::i64(int i) const { return sqlite3_column_int64(st_, i); }

double Run::f64(int i) const { return sqlite3_column_double(st_, i); }

std::string Run::text(int i) const {
  const auto* p = sqlite3_column_text(st_, i);
  if (p == nullptr) return {};
  return {reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(st_, i))};
}

std::vector<std::uint8_t> Run::blob(int i) const {
  const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(st_, i));
  if (p == nullptr) return {};
  return {p, p + sqlite3_column_bytes(st_, i)};
}

// --- SynchronousScope ----------------------------------------------------------------

SynchronousScope::SynchronousScope(Db& db, Synchronous level) : db_(db) {
  Statement q(db_, "PRAGMA synchronous");
  auto r = q.run();
  previous_ = r.step() ? r.i64(0) : 1;
  db_.exec(level == Synchronous::full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
}

SynchronousScope::~SynchronousScope() {
  const std::string sql = "PRAGMA synchronous=" + std::to_string(previous_);
  sqlite3_exec(db_.raw(), sql.c_str(), nullptr, nullptr, nullptr);
}

// --- Transaction ------------------------------------------------------------------

Transaction::Transaction(Db& db, Begin kind) : db_(db) {
  switch (kind) {
    case Begin::deferred:
      db_.exec("BEGIN");
      break;
    case Begin::immediate:
      db_.exec("BEGIN IMMEDIATE");
      break;
    case Begin::exclusive:
      db_.exec("BEGIN EXCLUSIVE");
      break;
  }
}

Transaction::~Transaction() {
  if (open_ && db_.in_transaction()) sqlite3_exec(db_.raw(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void Transaction::commit() {
  if (!db_.in_transaction()) {
    open_ = false;
    throw Error(db_.path() + ": commit", SQLITE_ABORT,
                "an earlier statement failed and SQLite rolled the transaction back");
  }
  db_.exec("COMMIT");  // on failure the destructor rolls back what is still open
  open_ = false;
}

}  // namespace ramfleet::store::sqlite
