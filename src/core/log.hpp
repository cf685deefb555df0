#pragma once
// Structured logging: every line is one event name plus key=value fields
// (logfmt by default, JSON lines with --log-format json), so operators can grep
// and machines can parse the same output.
// spdlog stays inside log.cpp: this header is included almost everywhere, and
// only needs a level enum of its own.
#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>

namespace ramfleet::log {

struct Field {
  std::string_view key;
  std::string value;
  Field(std::string_view k, std::string v) : key(k), value(std::move(v)) {}
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(v) {}
  template <typename Int, typename = std::enable_if_t<std::is_arithmetic_v<Int>>>
  Field(std::string_view k, Int v) : key(k), value(std::to_string(v)) {}
};

enum class Format { logfmt, json };

enum class Level { trace, debug, info, warn, error, critical, off };

// Sets level ("trace".."off") and format for the process-wide logger (stderr).
void init(std::string_view level, Format format);

void event(Level level, std::string_view name, std::initializer_list<Field> fields);

inline void debug(std::string_view name, std::initializer_list<Field> f = {}) { event(Level::debug, name, f); }
inline void info(std::string_view name, std::initializer_list<Field> f = {}) { event(Level::info, name, f); }
inline void warn(std::string_view name, std::initializer_list<Field> f = {}) { event(Level::warn, name, f); }
inline void error(std::string_view name, std::initializer_list<Field> f = {}) { event(Level::error, name, f); }

}  // namespace ramfleet::log
