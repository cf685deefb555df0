#include "core/log.hpp"

#include <array>

#include "spdlog/sinks/stdout_sinks.h"
#include "spdlog/spdlog.h"

namespace ramfleet::log {
namespace {
Format g_format = Format::logfmt;

spdlog::level::level_enum to_spdlog(Level level) {
  switch (level) {
    case Level::trace:
      return spdlog::level::trace;
    case Level::debug:
      return spdlog::level::debug;
    case Level::info:
      return spdlog::level::info;
    case Level::warn:
      return spdlog::level::warn;
    case Level::error:
      return spdlog::level::err;
    case Level::critical:
      return spdlog::level::critical;
    case Level::off:
      break;
  }
  return spdlog::level::off;
}

// Table lookups, early exit: string_view::find_first_of calls memchr per
// character, which cost ~5k instructions per /ipxe boot log line.
constexpr auto kLogfmtClass = [] {
  std::array<unsigned char, 256> t{};  // 1: needs quoting, 2: also needs a backslash
  for (unsigned char c : {' ', '=', '\t'}) t[c] = 1;
  for (unsigned char c : {'"', '\\', '\n'}) t[c] = 2;
  return t;
}();

void append_logfmt_value(std::string& out, std::string_view v) {
  bool quote = v.empty();
  for (std::size_t i = 0; i < v.size() && !quote; ++i) quote = kLogfmtClass[static_cast<unsigned char>(v[i])] != 0;
  if (!quote) {
    out.append(v);
    return;
  }
  out.push_back('"');
  std::size_t run = 0;  // start of the characters not yet copied
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (kLogfmtClass[static_cast<unsigned char>(v[i])] != 2) continue;
    out.append(v.data() + run, i - run);
    out.append(v[i] == '\n' ? "\\n" : v[i] == '"' ? "\\\"" : "\\\\");
    run = i + 1;
  }
  out.append(v.data() + run, v.size() - run);
  out.push_back('"');
}

void append_json_string(std::string& out, std::string_view v) {
  out.push_back('"');
  for (unsigned char c : v) {
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\t':
        out.append("\\t");
        break;
      default:
        if (c < 0x20) {
          out.append(fmt::format("\\u{:04x}", c));
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}
}  // namespace

void init(std::string_view level, Format format) {
  g_format = format;
  auto logger = spdlog::stderr_logger_mt("ramfleet");
  spdlog::set_default_logger(logger);
  if (format == Format::json) {
    spdlog::set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l",%v})", spdlog::pattern_time_type::utc);
  } else {
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
  }
  spdlog::set_level(spdlog::level::from_str(std::string(level)));
  spdlog::flush_on(spdlog::level::info);
}

void event(Level level, std::string_view name, std::initializer_list<Field> fields) {
  const auto spd_level = to_spdlog(level);
  if (!spdlog::should_log(spd_level)) return;
  std::string line;
  line.reserve(256);
  if (g_format == Format::json) {
    line.append("\"event\":");
    append_json_string(line, name);
    for (const auto& f : fields) {
      line.push_back(',');
      append_json_string(line, f.key);
      line.push_back(':');
      append_json_string(line, f.value);
    }
  } else {
    line.append("event=");
    line.append(name);
    for (const auto& f : fields) {
      line.push_back(' ');
      line.append(f.key);
      line.push_back('=');
      append_logfmt_value(line, f.value);
    }
  }
  // A string_view is logged as is; "{}" would format the line a second time.
  spdlog::log(spd_level, spdlog::string_view_t(line));
}

}  // namespace ramfleet::log
