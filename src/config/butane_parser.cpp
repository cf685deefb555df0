#include "config/butane_parser.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <functional>
#include <map>
#include <set>
#include <string_view>
#include <system_error>

#include "config/files_dir.hpp"
#include "config/spec_version.hpp"
#include "core/yaml_fields.hpp"

namespace ramfleet::config {

namespace fs = std::filesystem;

bool valid_unit_name(const std::string& name) {
  static constexpr std::array kSuffixes{".service", ".socket", ".device", ".mount", ".automount", ".swap",
                                        ".target",  ".path",   ".timer",  ".slice", ".scope"};
  if (name.empty() || name.size() > 255) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':' || c == '_' ||
              c == '.' || c == '-' || c == '@' || c == '\\';
    if (!ok) return false;
  }
  for (std::string_view suffix : kSuffixes) {
    if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      return true;
    }
  }
  return false;
}

bool valid_dropin_name(const std::string& name) {
  return name.size() > 5 && name.find('/') == std::string::npos && name.compare(name.size() - 5, 5, ".conf") == 0;
}

namespace {

using Keys = std::initializer_list<std::string_view>;

class Parser {
 public:
  Parser(const LayerSource& layer, const TemplateRenderer& renderer, const ParseOptions& options,
         DiagnosticCollector& diag)
      : layer_(layer), renderer_(renderer), files_(options.files_dir), diag_(diag), y_(layer.name, diag) {}

  NodeConfig run() {
    auto loaded = y_.parse(layer_.text);
    if (!loaded) return std::move(config_);
    YAML::Node root = std::move(*loaded);
    if (!root || root.IsNull()) {
      diag_.error(Location{layer_.name, 1, 1}, "empty config: expected a mapping with 'variant' and 'version'");
      return std::move(config_);
    }
    if (!expect_map(root, "config")) return std::move(config_);
    for_each_key(root, "config",
                 {"variant", "version", "ignition", "storage", "systemd", "passwd", "kernel_arguments", "boot_device",
                  "grub", "extensions"},
                 [&](const std::string& key, const YAML::Node& k, const YAML::Node& v) {
                   if (key == "variant") {
                     config_.variant = string_opt(v);
                     if (config_.variant.set() && *config_.variant != "fcos" && *config_.variant != "flatcar") {
                       diag_.error(config_.variant.at,
                                   "unsupported variant '" + *config_.variant + "' (supported: fcos, flatcar)");
                     }
                   } else if (key == "version") {
                     config_.version = string_opt(v);
                   } else if (key == "ignition") {
                     parse_ignition(v);
                   } else if (key == "storage") {
                     parse_storage(v);
                   } else if (key == "systemd") {
                     parse_systemd(v);
                   } else if (key == "passwd") {
                     parse_passwd(v);
                   } else if (key == "kernel_arguments") {
                     parse_kernel_arguments(v);
                   } else {
                     unsupported(k, key);
                   }
                 });
    if (config_.variant.set() && config_.version.set() &&
        !ignition_spec_for(*config_.variant, *config_.version).has_value() &&
        (*config_.variant == "fcos" || *config_.variant == "flatcar")) {
      diag_.error(config_.version.at, "unsupported version '" + *config_.version + "' for variant '" +
                                          *config_.variant + "' (supported: " + supported_butane_versions() + ")");
    }
    check_duplicates();
    return std::move(config_);
  }

 private:
  // ---- locations and generic shapes -------------------------------------------------
  // Loading and places come from core's field reader; the shapes below keep
  // Butane's own rules: a key with nothing under it is absent, unknown keys
  // are warnings, and every scalar may be a template.
  Location at(const YAML::Mark& m) const { return y_.location(m); }
  Location at(const YAML::Node& n) const { return y_.location(n); }

  static const char* kind_name(const YAML::Node& n) {
    switch (n.Type()) {
      case YAML::NodeType::Map:
        return "a mapping";
      case YAML::NodeType::Sequence:
        return "a list";
      case YAML::NodeType::Scalar:
        return "a scalar";
      case YAML::NodeType::Null:
        return "null";
      default:
        return "nothing";
    }
  }

  bool expect_map(const YAML::Node& n, const std::string& what) {
    if (n.IsMap()) return true;
    if (n.IsNull()) return false;  // "storage:" with nothing under it: nothing to do
    diag_.error(at(n), what + " must be a mapping, not " + kind_name(n));
    return false;
  }
  bool expect_seq(const YAML::Node& n, const std::string& what) {
    if (n.IsSequence()) return true;
    if (n.IsNull()) return false;
    diag_.error(at(n), what + " must be a list, not " + kind_name(n));
    return false;
  }

  void unsupported(const YAML::Node& k, const std::string& key) {
    diag_.error(at(k), "'" + key + "' is valid Butane but not supported by ramfleet (diskless machines run from RAM)");
  }

  // Calls fn for every key; unknown keys are warnings (as in Butane), duplicates errors.
  void for_each_key(const YAML::Node& map, const std::string& what, Keys known,
                    const std::function<void(const std::string&, const YAML::Node&, const YAML::Node&)>& fn) {
    std::map<std::string, Location> seen;
    for (auto it = map.begin(); it != map.end(); ++it) {
      const YAML::Node k = it->first;  // by value: it-> is a proxy
      if (!k.IsScalar()) {
        diag_.error(at(k), "keys in " + what + " must be strings");
        continue;
      }
      const std::string& key = k.Scalar();
      auto [pos, inserted] = seen.emplace(key, at(k));
      if (!inserted) {
        diag_.error(at(k), "duplicate key '" + key + "' in " + what + " (first at " + pos->second.str() + ")");
        continue;
      }
      if (std::find(known.begin(), known.end(), key) == known.end()) {
        diag_.warning(at(k), "unknown key '" + key + "' in " + what);
        continue;
      }
      const YAML::Node v = it->second;
      fn(key, k, v);
    }
  }

  // Lookup without YAML::Node::operator[] (gcc 12 misreports it as dangling).
  static std::optional<YAML::Node> find_key(const YAML::Node& map, const std::string& key) {
    for (auto it = map.begin(); it != map.end(); ++it) {
      const YAML::Node k = it->first;
      if (k.IsScalar() && k.Scalar() == key) return YAML::Node(it->second);
    }
    return std::nullopt;
  }

  // ---- scalars ------------------------------------------------------------------------
  std::optional<std::string> scalar(const YAML::Node& n, const std::string& what) {
    if (n.IsNull()) return std::nullopt;
    if (!n.IsScalar()) {
      diag_.error(at(n), what + " must be a string, not " + kind_name(n));
      return std::nullopt;
    }
    auto mark = n.Mark();
    ScalarOrigin origin{layer_.text, mark.pos >= 0 ? static_cast<std::size_t>(mark.pos) : 0, at(n)};
    return renderer_.render(n.Scalar(), origin, diag_);
  }
  Opt<std::string> string_opt(const YAML::Node& n, const std::string& what = "value") {
    Opt<std::string> o;
    o.at = at(n);
    o.value = scalar(n, what);
    return o;
  }
  Opt<bool> bool_opt(const YAML::Node& n, const std::string& what) {
    Opt<bool> o;
    o.at = at(n);
    auto text = scalar(n, what);
    if (!text) return o;
    if (*text == "true" || *text == "True" || *text == "TRUE") {
      o.value = true;
    } else if (*text == "false" || *text == "False" || *text == "FALSE") {
      o.value = false;
    } else {
      diag_.error(o.at, what + " must be a boolean (true or false), not '" + *text + "'");
    }
    return o;
  }
  Opt<int> int_opt(const YAML::Node& n, const std::string& what) {
    Opt<int> o;
    o.at = at(n);
    auto text = scalar(n, what);
    if (!text) return o;
    int v = 0;
    auto [p, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
    if (text->empty() || ec != std::errc{} || p != text->data() + text->size() || v < 0) {
      diag_.error(o.at, what + " must be a non-negative integer, not '" + *text + "'");
      return o;
    }
    o.value = v;
    return o;
  }
  // Butane users write modes in octal (0644, 0o644); a plain number is decimal as in Ignition.
  Opt<int> mode_opt(const YAML::Node& n) {
    Opt<int> o;
    o.at = at(n);
    auto text = scalar(n, "mode");
    if (!text) return o;
    std::string_view digits = *text;
    int base = 10;
    if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'o' || digits[1] == 'O')) {
      digits.remove_prefix(2);
      base = 8;
    } else if (digits.size() > 1 && digits[0] == '0') {
      digits.remove_prefix(1);
      base = 8;
    }
    int v = 0;
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v, base);
    if (digits.empty() || ec != std::errc{} || p != digits.data() + digits.size()) {
      diag_.error(o.at, "invalid mode '" + *text + "': expected an octal number such as 0644");
      return o;
    }
    if (v < 0 || v > 07777) {
      diag_.error(o.at, "invalid mode '" + *text + "': larger than 07777");
      return o;
    }
    if (base == 10 && (v & 07000) != 0) {
      diag_.warning(o.at, "mode " + *text + " is decimal (octal 0" + to_octal(v) +
                              ", with setuid/setgid/sticky bits); write 0" + *text + " for octal");
    }
    o.value = v;
    return o;
  }
  static std::string to_octal(int v) {
    std::array<char, 16> buf{};
    auto [p, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v, 8);
    (void)ec;
    return std::string(buf.data(), p);
  }

  std::vector<Located<std::string>> string_list(const YAML::Node& n, const std::string& what) {
    std::vector<Located<std::string>> out;
    if (!expect_seq(n, what)) return out;
    for (const auto& item : n) {
      auto v = scalar(item, what + " entry");
      if (v) out.push_back({*v, at(item)});
    }
    return out;
  }

  std::optional<std::string> absolute_path(const YAML::Node& n, const std::string& what, Location& path_at) {
    path_at = at(n);
    auto p = scalar(n, what);
    if (!p) return std::nullopt;
    if (p->empty() || (*p)[0] != '/') {
      diag_.error(path_at, what + " '" + *p + "' is not absolute (must start with '/')");
      return std::nullopt;
    }
    return p;
  }

  // ---- ignition ------------------------------------------------------------------------
  void parse_ignition(const YAML::Node& n) {
    if (!expect_map(n, "ignition")) return;
    for_each_key(n, "ignition", {"config", "timeouts", "security", "proxy"},
                 [&](const std::string& key, const YAML::Node& k, const YAML::Node& v) {
                   if (key != "config") return unsupported(k, "ignition." + key);
                   if (!expect_map(v, "ignition.config")) return;
                   for_each_key(v, "ignition.config", {"merge", "replace"},
                                [&](const std::string& ck, const YAML::Node&, const YAML::Node& cv) {
                                  if (ck == "merge") {
                                    if (!expect_seq(cv, "ignition.config.merge")) return;
                                    for (const auto& item : cv) {
                                      if (auto r = resource(item, "ignition.config.merge entry", true)) {
                                        config_.config_merge.push_back(std::move(*r));
                                      }
                                    }
                                  } else {
                                    config_.config_replace = resource(cv, "ignition.config.replace", true);
                                  }
                                });
                 });
  }

  // ---- resources (contents, append, configs) -----------------------------------------
  std::optional<Resource> resource(const YAML::Node& n, const std::string& what, bool allow_compression_inline) {
    if (!expect_map(n, what)) return std::nullopt;
    Resource r;
    r.at = at(n);
    int sources = 0;
    bool has_inline = false;
    for_each_key(
        n, what, {"inline", "local", "source", "compression", "verification", "http_headers"},
        [&](const std::string& key, const YAML::Node&, const YAML::Node& v) {
          if (key == "inline") {
            ++sources;
            has_inline = true;
            r.data_at = at(v);
            auto s = scalar(v, what + ".inline");
            r.data = s.value_or("");
          } else if (key == "local") {
            ++sources;
            r.data_at = at(v);
            if (auto rel = scalar(v, what + ".local")) r.data = files_.read(*rel, at(v), diag_);
          } else if (key == "source") {
            ++sources;
            auto s = scalar(v, what + ".source");
            if (s) {
              if (s->find(':') == std::string::npos) {
                diag_.error(at(v), what + ".source '" + *s + "' is not a URL (expected a scheme such as https:)");
              }
              r.source = *s;
            }
          } else if (key == "compression") {
            r.compression = string_opt(v, what + ".compression");
            if (r.compression.set() && !r.compression->empty() && *r.compression != "gzip") {
              diag_.error(r.compression.at, "unsupported compression '" + *r.compression + "' (only gzip)");
            }
          } else if (key == "verification") {
            if (!expect_map(v, what + ".verification")) return;
            for_each_key(v, what + ".verification", {"hash"},
                         [&](const std::string&, const YAML::Node&, const YAML::Node& hv) {
                           r.verification_hash = string_opt(hv, "verification.hash");
                           if (r.verification_hash.set()) check_hash(r.verification_hash);
                         });
          } else {
            if (!expect_seq(v, what + ".http_headers")) return;
            for (const auto& h : v) {
              if (!expect_map(h, "http_headers entry")) continue;
              HttpHeader header;
              header.at = at(h);
              for_each_key(h, "http_headers entry", {"name", "value"},
                           [&](const std::string& hk, const YAML::Node&, const YAML::Node& hv) {
                             (hk == "name" ? header.name : header.value) = scalar(hv, "http header " + hk).value_or("");
                           });
              if (header.name.empty()) diag_.error(header.at, "http header needs a name");
              r.http_headers.push_back(std::move(header));
            }
          }
        });
    if (sources > 1) diag_.error(r.at, what + ": only one of inline, local and source may be given");
    if (has_inline && r.compression.set() && !r.compression->empty() && !allow_compression_inline) {
      diag_.error(r.compression.at, what + ": compression applies to source or local contents, not inline text");
    }
    if (!r.http_headers.empty() && !r.source) {
      diag_.error(r.http_headers.front().at, what + ": http_headers need a remote source");
    }
    return r;
  }

  void check_hash(const Opt<std::string>& h) {
    const std::string& v = *h;
    auto dash = v.find('-');
    std::string fn = dash == std::string::npos ? "" : v.substr(0, dash);
    std::string hex = dash == std::string::npos ? "" : v.substr(dash + 1);
    std::size_t want = fn == "sha512" ? 128 : fn == "sha256" ? 64 : 0;
    bool hex_ok = std::all_of(hex.begin(), hex.end(), [](char c) {
      return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    });
    if (want == 0 || hex.size() != want || !hex_ok) {
      diag_.error(h.at,
                  "invalid verification hash '" + v + "': expected sha512-<128 hex digits> or sha256-<64 hex digits>");
    }
  }

  // ---- storage -------------------------------------------------------------------------
  // Reads the `ramfleet.remove` marker; a removal entry names its key and nothing else.
  bool removal(const YAML::Node& item, const std::string& key_name) {
    auto marker = find_key(item, kRemoveKey);
    if (!marker) return false;
    auto v = bool_opt(*marker, kRemoveKey);
    if (!v.set() || !*v) return false;
    for (auto it = item.begin(); it != item.end(); ++it) {
      const YAML::Node kn = it->first;
      const std::string k = kn.IsScalar() ? kn.Scalar() : std::string();
      if (k != key_name && k != kRemoveKey) {
        diag_.error(at(kn), "an entry with " + std::string(kRemoveKey) + ": true takes only '" + key_name + "', not '" +
                                k + "'");
      }
    }
    return true;
  }

  void parse_owner(const YAML::Node& v, Owner& owner, const std::string& what) {
    if (!expect_map(v, what)) return;
    for_each_key(v, what, {"id", "name"}, [&](const std::string& key, const YAML::Node&, const YAML::Node& ov) {
      if (key == "id") {
        owner.id = int_opt(ov, what + ".id");
      } else {
        owner.name = string_opt(ov, what + ".name");
      }
    });
  }

  // Fields shared by files, directories and links. Returns false for keys it does not know.
  bool node_field(NodeEntry& e, const std::string& key, const YAML::Node& v, const std::string& what) {
    if (key == "path") {
      if (auto p = absolute_path(v, what + ".path", e.path_at)) e.path = *p;
    } else if (key == "overwrite") {
      e.overwrite = bool_opt(v, what + ".overwrite");
    } else if (key == "user") {
      parse_owner(v, e.user, what + ".user");
    } else if (key == "group") {
      parse_owner(v, e.group, what + ".group");
    } else if (key == kRemoveKey) {
      // handled by removal()
    } else {
      return false;
    }
    return true;
  }

  template <typename Entry>
  bool start_entry(const YAML::Node& item, Entry& e, const std::string& what) {
    e.at = at(item);
    if (!expect_map(item, what)) return false;
    if (!find_key(item, "path")) {
      diag_.error(e.at, what + " needs a path");
      return false;
    }
    e.remove = removal(item, "path");
    return true;
  }

  void parse_storage(const YAML::Node& n) {
    if (!expect_map(n, "storage")) return;
    for_each_key(n, "storage", {"files", "directories", "links", "trees", "disks", "filesystems", "raid", "luks"},
                 [&](const std::string& key, const YAML::Node& k, const YAML::Node& v) {
                   if (key == "files") return parse_files(v);
                   if (key == "directories") return parse_directories(v);
                   if (key == "links") return parse_links(v);
                   if (key == "trees") return parse_trees(v);
                   unsupported(k, "storage." + key);
                 });
  }

  void parse_files(const YAML::Node& n) {
    if (!expect_seq(n, "storage.files")) return;
    for (const auto& item : n) {
      FileEntry f;
      if (!start_entry(item, f, "file")) continue;
      for_each_key(item, "file", {"path", "overwrite", "user", "group", "mode", "contents", "append", kRemoveKey},
                   [&](const std::string& key, const YAML::Node&, const YAML::Node& v) {
                     if (node_field(f, key, v, "file")) return;
                     if (key == "mode") {
                       f.mode = mode_opt(v);
                     } else if (key == "contents") {
                       f.contents = resource(v, "file contents", false);
                     } else if (key == "append") {
                       if (!expect_seq(v, "file append")) return;
                       for (const auto& a : v) {
                         if (auto r = resource(a, "file append entry", false)) f.append.push_back(std::move(*r));
                       }
                     }
                   });
      if (!f.path.empty()) config_.files.push_back(std::move(f));
    }
  }

  void parse_directories(const YAML::Node& n) {
    if (!expect_seq(n, "storage.directories")) return;
    for (const auto& item : n) {
      DirectoryEntry d;
      if (!start_entry(item, d, "directory")) continue;
      for_each_key(item, "directory", {"path", "overwrite", "user", "group", "mode", kRemoveKey},
                   [&](const std::string& key, const YAML::Node&, const YAML::Node& v) {
                     if (node_field(d, key, v, "directory")) return;
                     d.mode = mode_opt(v);
                   });
      if (!d.path.empty()) config_.directories.push_back(std::move(d));
    }
  }

  void parse_links(const YAML::Node& n) {
    if (!expect_seq(n, "storage.links")) return;
    for (const auto& item : n) {
      LinkEntry l;
      if (!start_entry(item, l, "link")) continue;
      for_each_key(item, "link", {"path", "overwrite", "user", "group", "target", "hard", kRemoveKey},
                   [&](const std::string& key, const YAML::Node&, const YAML::Node& v) {
                     if (node_field(l, key, v, "link")) return;
                     if (key == "target") {
                       l.target = string_opt(v, "link target");
                       if (l.target.set() && l.target->empty()) diag_.error(l.target.at, "link target is empty");
                     } else {
                       l.hard = bool_opt(v, "link hard");
                     }
                   });
      if (!l.remove && !l.target.set() && !l.path.empty()) {
        diag_.error(l.at, "link " + l.path + " needs a target");
      }
      if (!l.path.empty()) config_.links.push_back(std::move(l));
    }
  }

  // A tree copies a local directory: every regular file becomes a file entry
  // (mode 0755 when executable), every symlink a link entry.
  void parse_trees(const YAML::Node& n) {
    if (!expect_seq(n, "storage.trees")) return;
    for (const auto& item : n) {
      if (!expect_map(item, "tree")) continue;
      std::optional<std::string> local;
      Location local_at = at(item);
      std::string dest = "/";
      for_each_key(item, "tree", {"local", "path"},
                   [&](const std::string& key, const YAML::Node&, const YAML::Node& v) {
                     if (key == "local") {
                       local_at = at(v);
                       local = scalar(v, "tree local");
                     } else {
                       Location pat;
                       if (auto p = absolute_path(v, "tree path", pat)) dest = *p;
                     }
                   });
      if (!local) {
        diag_.error(at(item), "tree needs 'local' (a directory inside --files-dir)");
        continue;
      }
      auto dir = files_.resolve(*local, local_at, diag_, true);
      if (!dir) continue;
      std::vector<fs::path> entries;
      std::error_code ec;
      for (fs::recursive_directory_iterator it(*dir, ec), end; !ec && it != end; it.increment(ec)) {
        entries.push_back(it->path());
      }
      std::sort(entries.begin(), entries.end());
      for (const auto& p : entries) {
        std::string target_path = (fs::path(dest) / p.lexically_relative(*dir)).lexically_normal().generic_string();
        auto st = fs::symlink_status(p, ec);
        if (fs::is_symlink(st)) {
          LinkEntry l;
          l.at = l.path_at = local_at;
          l.path = target_path;
          l.target.value = fs::read_symlink(p, ec).generic_string();
          l.target.at = local_at;
          config_.links.push_back(std::move(l));
        } else if (fs::is_regular_file(st)) {
          FileEntry f;
          f.at = f.path_at = local_at;
          f.path = target_path;
          Resource r;
          r.at = r.data_at = local_at;
          r.data = read_whole_file(p);
          if (!r.data) diag_.error(local_at, "cannot read " + p.string());
          f.contents = std::move(r);
          if ((st.permissions() & fs::perms::owner_exec) != fs::perms::none) {
            f.mode.value = 0755;
            f.mode.at = local_at;
          }
          config_.files.push_back(std::move(f));
        } else if (!fs::is_directory(st)) {
          diag_.error(local_at, "tree entry " + p.string() + " is neither a file, a directory nor a symlink");
        }
      }
    }
  }

  // ---- systemd -------------------------------------------------------------------------
  Opt<std::string> unit_contents(const YAML::Node& v, const std::string& key, const std::string& what) {
    if (key == "contents") return string_opt(v, what + " contents");
    Opt<std::string> o;
    o.at = at(v);
    if (auto rel = scalar(v, what + " contents_local")) o.value = files_.read(*rel, o.at, diag_);
    return o;
  }

  void parse_systemd(const YAML::Node& n) {
    if (!expect_map(n, "systemd")) return;
    for_each_key(n, "systemd", {"units"}, [&](const std::string&, const YAML::Node&, const YAML::Node& v) {
      if (!expect_seq(v, "systemd.units")) return;
      for (const auto& item : v) parse_unit(item);
    });
  }

  void parse_unit(const YAML::Node& item) {
    Unit u;
    u.at = at(item);
    if (!expect_map(item, "unit")) return;
    if (!find_key(item, "name")) return diag_.error(u.at, "unit needs a name");
    u.remove = removal(item, "name");
    for_each_key(item, "unit", {"name", "enabled", "mask", "contents", "contents_local", "dropins", kRemoveKey},
                 [&](const std::string& key, const YAML::Node&, const YAML::Node& v) {
                   if (key == "name") {
                     u.name = scalar(v, "unit name").value_or("");
                     if (!valid_unit_name(u.name)) {
                       diag_.error(at(v), "invalid unit name '" + u.name +
                                              "' (needs a unit type suffix such as .service and only "
                                              "[A-Za-z0-9:_.@\\-] characters)");
                     }
                   } else if (key == "enabled") {
                     u.enabled = bool_opt(v, "unit enabled");
                   } else if (key == "mask") {
                     u.mask = bool_opt(v, "unit mask");
                   } else if (key == "contents" || key == "contents_local") {
                     if (u.contents.set()) diag_.error(at(v), "unit has both contents and contents_local");
                     u.contents = unit_contents(v, key, "unit");
                   } else if (key == "dropins") {
                     if (!expect_seq(v, "unit dropins")) return;
                     for (const auto& d : v) parse_dropin(d, u);
                   }
                 });
    if (!u.name.empty()) config_.units.push_back(std::move(u));
  }

  void parse_dropin(const YAML::Node& item, Unit& u) {
    Dropin d;
    d.at = at(item);
    if (!expect_map(item, "dropin")) return;
    if (!find_key(item, "name")) return diag_.error(d.at, "dropin needs a name");
    d.remove = removal(item, "name");
    for_each_key(item, "dropin", {"name", "contents", "contents_local", kRemoveKey},
                 [&](const std::string& key, const YAML::Node&, const YAML::Node& v) {
                   if (key == "name") {
                     d.name = scalar(v, "dropin name").value_or("");
                     if (!valid_dropin_name(d.name)) {
                       diag_.error(at(v), "invalid dropin name '" + d.name + "' (must end in .conf, no '/')");
                     }
                   } else if (key == "contents" || key == "contents_local") {
                     d.contents = unit_contents(v, key, "dropin");
                   }
                 });
    for (const auto& other : u.dropins) {
      if (other.name == d.name)
        diag_.error(d.at, "duplicate dropin '" + d.name + "' (first at " + other.at.str() + ")");
    }
    if (!d.name.empty()) u.dropins.push_back(std::move(d));
  }

  // ---- passwd --------------------------------------------------------------------------
  void parse_passwd(const YAML::Node& n) {
    if (!expect_map(n, "passwd")) return;
    for_each_key(n, "passwd", {"users", "groups"}, [&](const std::string& key, const YAML::Node&, const YAML::Node& v) {
      if (!expect_seq(v, "passwd." + key)) return;
      for (const auto& item : v) (key == "users") ? parse_user(item) : parse_group(item);
    });
  }

  void parse_user(const YAML::Node& item) {
    User u;
    u.at = at(item);
    if (!expect_map(item, "user")) return;
    if (!find_key(item, "name")) return diag_.error(u.at, "user needs a name");
    u.remove = removal(item, "name");
    for_each_key(item, "user",
                 {"name", "password_hash", "ssh_authorized_keys", "ssh_authorized_keys_local", "uid", "gecos",
                  "home_dir", "no_create_home", "primary_group", "groups", "no_user_group", "no_log_init", "shell",
                  "system", "should_exist", kRemoveKey},
                 [&](const std::string& key, const YAML::Node&, const YAML::Node& v) {
                   if (key == "name") {
                     u.name = scalar(v, "user name").value_or("");
                     if (u.name.empty()) diag_.error(at(v), "user name is empty");
                   } else if (key == "password_hash") {
                     u.password_hash = string_opt(v, "password_hash");
                   } else if (key == "ssh_authorized_keys") {
                     auto keys = string_list(v, "ssh_authorized_keys");
                     u.ssh_authorized_keys.insert(u.ssh_authorized_keys.end(), keys.begin(), keys.end());
                   } else if (key == "ssh_authorized_keys_local") {
                     for (const auto& rel : string_list(v, "ssh_authorized_keys_local")) {
                       auto data = files_.read(rel.value, rel.at, diag_);
                       if (!data) continue;
                       std::size_t start = 0;
                       while (start < data->size()) {
                         auto end = data->find('\n', start);
                         if (end == std::string::npos) end = data->size();
                         std::string line = data->substr(start, end - start);
                         if (!line.empty() && line.back() == '\r') line.pop_back();
                         if (!line.empty() && line[0] != '#') u.ssh_authorized_keys.push_back({line, rel.at});
                         start = end + 1;
                       }
                     }
                   } else if (key == "uid") {
                     u.uid = int_opt(v, "uid");
                   } else if (key == "gecos") {
                     u.gecos = string_opt(v, "gecos");
                   } else if (key == "home_dir") {
                     u.home_dir = string_opt(v, "home_dir");
                   } else if (key == "no_create_home") {
                     u.no_create_home = bool_opt(v, "no_create_home");
                   } else if (key == "primary_group") {
                     u.primary_group = string_opt(v, "primary_group");
                   } else if (key == "groups") {
                     u.groups = string_list(v, "groups");
                   } else if (key == "no_user_group") {
                     u.no_user_group = bool_opt(v, "no_user_group");
                   } else if (key == "no_log_init") {
                     u.no_log_init = bool_opt(v, "no_log_init");
                   } else if (key == "shell") {
                     u.shell = string_opt(v, "shell");
                   } else if (key == "system") {
                     u.system = bool_opt(v, "system");
                   } else if (key == "should_exist") {
                     u.should_exist = bool_opt(v, "should_exist");
                   }
                 });
    if (!u.name.empty()) config_.users.push_back(std::move(u));
  }

  void parse_group(const YAML::Node& item) {
    Group g;
    g.at = at(item);
    if (!expect_map(item, "group")) return;
    if (!find_key(item, "name")) return diag_.error(g.at, "group needs a name");
    g.remove = removal(item, "name");
    for_each_key(item, "group", {"name", "gid", "password_hash", "system", "should_exist", kRemoveKey},
                 [&](const std::string& key, const YAML::Node&, const YAML::Node& v) {
                   if (key == "name") {
                     g.name = scalar(v, "group name").value_or("");
                     if (g.name.empty()) diag_.error(at(v), "group name is empty");
                   } else if (key == "gid") {
                     g.gid = int_opt(v, "gid");
                   } else if (key == "password_hash") {
                     g.password_hash = string_opt(v, "password_hash");
                   } else if (key == "system") {
                     g.system = bool_opt(v, "system");
                   } else if (key == "should_exist") {
                     g.should_exist = bool_opt(v, "should_exist");
                   }
                 });
    if (!g.name.empty()) config_.groups.push_back(std::move(g));
  }

  void parse_kernel_arguments(const YAML::Node& n) {
    if (!expect_map(n, "kernel_arguments")) return;
    for_each_key(n, "kernel_arguments", {"should_exist", "should_not_exist"},
                 [&](const std::string& key, const YAML::Node&, const YAML::Node& v) {
                   auto list = string_list(v, "kernel_arguments." + key);
                   auto& dest = key == "should_exist" ? config_.kernel_arguments.should_exist
                                                      : config_.kernel_arguments.should_not_exist;
                   dest.insert(dest.end(), list.begin(), list.end());
                 });
  }

  // ---- one layer must not say the same thing twice --------------------------------------
  void check_duplicates() {
    std::map<std::string, Location> paths;
    auto check = [&](const NodeEntry& e) {
      if (e.remove) return;  // a layer may remove a path and define it anew (e.g. file -> link)
      auto [it, inserted] = paths.emplace(e.path, e.path_at);
      if (!inserted) diag_.error(e.path_at, "duplicate path " + e.path + " (first at " + it->second.str() + ")");
    };
    for (const auto& f : config_.files) check(f);
    for (const auto& d : config_.directories) check(d);
    for (const auto& l : config_.links) check(l);
    std::map<std::string, Location> names;
    for (const auto& u : config_.units) {
      if (u.remove) continue;
      auto [it, inserted] = names.emplace(u.name, u.at);
      if (!inserted) diag_.error(u.at, "duplicate unit " + u.name + " (first at " + it->second.str() + ")");
    }
    names.clear();
    for (const auto& u : config_.users) {
      if (u.remove) continue;
      auto [it, inserted] = names.emplace(u.name, u.at);
      if (!inserted) diag_.error(u.at, "duplicate user " + u.name + " (first at " + it->second.str() + ")");
    }
    names.clear();
    for (const auto& g : config_.groups) {
      if (g.remove) continue;
      auto [it, inserted] = names.emplace(g.name, g.at);
      if (!inserted) diag_.error(g.at, "duplicate group " + g.name + " (first at " + it->second.str() + ")");
    }
  }

  const LayerSource& layer_;
  const TemplateRenderer& renderer_;
  FilesDir files_;
  DiagnosticCollector& diag_;
  YamlFields y_;
  NodeConfig config_;
};

}  // namespace

NodeConfig parse_layer(const LayerSource& layer, const TemplateRenderer& renderer, const ParseOptions& options,
                       DiagnosticCollector& diag) {
  return Parser(layer, renderer, options, diag).run();
}

}  // namespace ramfleet::config
