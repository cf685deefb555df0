#include "config/cloud_config_writer.hpp"

#include <yaml-cpp/yaml.h>

#include "config/embedded_contents.hpp"
#include "config/encoding.hpp"
#include "config/target_limits.hpp"

namespace ramfleet::config {

namespace {

constexpr const char* kTarget = "cloud-config";

bool printable_utf8(const std::string& s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c < 0x20 && c != '\n' && c != '\t') return false;
      if (c == 0x7f) return false;
      ++i;
      continue;
    }
    int extra = (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : (c & 0xf8) == 0xf0 ? 3 : -1;
    if (extra < 0 || i + static_cast<std::size_t>(extra) >= s.size()) return false;
    for (int k = 1; k <= extra; ++k) {
      if ((static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]) & 0xc0) != 0x80) return false;
    }
    i += static_cast<std::size_t>(extra) + 1;
  }
  return true;
}

std::string octal_mode(int mode) {
  std::string s;
  for (int shift = 9; shift >= 0; shift -= 3) s += static_cast<char>('0' + ((mode >> shift) & 7));
  return s;  // "0644", "4755"
}

// Strings are always double-quoted: "0644" must stay a string, and content keeps every byte.
void str(YAML::Emitter& out, const std::string& s) { out << YAML::DoubleQuoted << s; }

struct WriteFile {
  std::string path;
  std::string content;
  std::string encoding;  // "", "b64", "gz+b64"
  std::string owner;
  std::string permissions;
  bool append = false;
};

class Writer {
 public:
  explicit Writer(DiagnosticCollector& diag) : diag_(diag) {}

  std::optional<std::string> run(const NodeConfig& c) {
    reject_ignition_only_features(c, "cloud-config", diag_);
    for (const auto& g : c.groups) group(g);
    for (const auto& u : c.users) user(u);
    for (const auto& f : c.files) file(f);
    for (const auto& d : c.directories) directory(d);
    for (const auto& l : c.links) link(l);
    units(c.units);
    if (diag_.has_errors()) return std::nullopt;
    return emit();
  }

 private:
  void unsupported(const Location& at, const std::string& what) {
    diag_.error(at, what + " cannot be expressed in cloud-config");
  }

  // write_files owner takes names; numeric ids go through a runcmd chown instead.
  void ownership(const NodeEntry& e, std::string* owner_field, bool symlink) {
    auto part = [&](const Owner& o) -> std::string {
      if (o.id.set()) return std::to_string(*o.id);
      if (o.name.set()) return *o.name;
      return "";
    };
    if (!e.user.set() && !e.group.set()) return;
    std::string u = e.user.set() ? part(e.user) : "root";
    std::string spec = e.group.set() ? u + ":" + part(e.group) : u;
    bool numeric = e.user.id.set() || e.group.id.set();
    if (owner_field != nullptr && !numeric) {
      *owner_field = spec;
      return;
    }
    std::vector<std::string> cmd{"chown"};
    if (symlink) cmd.emplace_back("-h");
    cmd.push_back(spec);
    cmd.push_back(e.path);
    late_commands_.push_back(cmd);
  }

  void check_overwrite(const NodeEntry& e) {
    if (e.overwrite.set() && !*e.overwrite) {
      diag_.error(e.overwrite.at, "overwrite: false (fail if " + e.path +
                                      " exists) cannot be expressed in cloud-config, which always overwrites");
    }
  }

  std::optional<WriteFile> write_file(const std::string& path, const Resource& r) {
    auto bytes = embedded_bytes(r, kTarget, diag_);
    if (!bytes) return std::nullopt;
    WriteFile w;
    w.path = path;
    if (bytes->gzip) {
      w.encoding = "gz+b64";
      w.content = base64_encode(bytes->raw);
    } else if (!printable_utf8(bytes->plain)) {
      w.encoding = "b64";
      w.content = base64_encode(bytes->plain);
    } else {
      w.content = bytes->plain;
    }
    return w;
  }

  void file(const FileEntry& f) {
    check_overwrite(f);
    // /etc/hostname is what cloud-init's own `hostname` sets.
    if (f.path == "/etc/hostname" && f.contents && f.append.empty() && (!f.mode.set() || *f.mode == 0644) &&
        !f.user.set() && !f.group.set()) {
      if (auto bytes = embedded_bytes(*f.contents, kTarget, diag_)) {
        std::string name = bytes->plain;
        while (!name.empty() && (name.back() == '\n' || name.back() == ' ')) name.pop_back();
        if (name.empty() || name.find('\n') != std::string::npos) {
          diag_.error(f.contents->at, "/etc/hostname must hold one hostname");
        }
        hostname_ = name;
      }
      return;
    }
    std::string owner;
    ownership(f, &owner, false);
    std::string perms = f.mode.set() ? octal_mode(*f.mode) : "";
    bool first = true;
    // Ignition creates an empty file when neither contents nor append are given.
    if (f.contents || f.append.empty()) {
      Resource empty;
      auto w = write_file(f.path, f.contents ? *f.contents : empty);
      if (w) {
        w->owner = owner;
        w->permissions = perms;
        files_.push_back(std::move(*w));
      }
      first = false;
    }
    for (const auto& a : f.append) {
      auto w = write_file(f.path, a);
      if (!w) continue;
      w->append = true;
      if (first) {
        w->owner = owner;
        w->permissions = perms;
        first = false;
      }
      files_.push_back(std::move(*w));
    }
  }

  void directory(const DirectoryEntry& d) {
    check_overwrite(d);
    commands_.push_back({"mkdir", "-p", d.path});
    if (d.mode.set()) commands_.push_back({"chmod", octal_mode(*d.mode), d.path});
    ownership(d, nullptr, false);
  }

  void link(const LinkEntry& l) {
    bool overwrite = l.overwrite.set() && *l.overwrite;
    bool hard = l.hard.set() && *l.hard;
    std::vector<std::string> cmd{"ln"};
    if (!hard) cmd.emplace_back("-s");
    if (overwrite) cmd.emplace_back("-f");
    cmd.emplace_back("-n");
    cmd.push_back(l.target.value.value_or(""));
    cmd.push_back(l.path);
    commands_.push_back({"mkdir", "-p", parent(l.path)});
    commands_.push_back(cmd);
    ownership(l, nullptr, true);
  }

  static std::string parent(const std::string& path) {
    auto slash = path.find_last_of('/');
    return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
  }

  void units(const std::vector<Unit>& units) {
    bool reload = false;
    for (const auto& u : units) {
      if (u.contents.set()) {
        files_.push_back({"/etc/systemd/system/" + u.name, *u.contents, "", "", "0644", false});
        reload = true;
      }
      for (const auto& d : u.dropins) {
        if (!d.contents.set()) continue;
        files_.push_back({"/etc/systemd/system/" + u.name + ".d/" + d.name, *d.contents, "", "", "0644", false});
        reload = true;
      }
      if (u.mask.set() && *u.mask) {
        if (u.enabled.set() && *u.enabled) diag_.error(u.enabled.at, "unit " + u.name + " is both masked and enabled");
        unit_commands_.push_back({"systemctl", "mask", "--now", u.name});
      } else if (u.mask.set() && !*u.mask) {
        unit_commands_.push_back({"systemctl", "unmask", u.name});
      }
      if (u.enabled.set() && !(u.mask.set() && *u.mask)) {
        if (*u.enabled) {
          unit_commands_.push_back({"systemctl", "enable", "--now", u.name});
        } else {
          unit_commands_.push_back({"systemctl", "disable", u.name});
        }
      }
    }
    if (reload) unit_commands_.insert(unit_commands_.begin(), {"systemctl", "daemon-reload"});
  }

  void group(const Group& g) {
    if (g.gid.set()) unsupported(g.gid.at, "group gid");
    if (g.password_hash.set()) unsupported(g.password_hash.at, "group password_hash");
    if (g.system.set() && *g.system) unsupported(g.system.at, "system group");
    if (g.should_exist.set() && !*g.should_exist) unsupported(g.should_exist.at, "should_exist: false");
    groups_.push_back(g.name);
  }

  void user(const User& u) {
    if (u.should_exist.set() && !*u.should_exist) unsupported(u.should_exist.at, "should_exist: false");
    users_.push_back(&u);
  }

  std::string emit() {
    YAML::Emitter out;
    out << YAML::BeginMap;
    if (hostname_) {
      out << YAML::Key << "preserve_hostname" << YAML::Value << false;
      out << YAML::Key << "hostname" << YAML::Value;
      str(out, *hostname_);
    }
    if (!groups_.empty()) {
      out << YAML::Key << "groups" << YAML::Value << YAML::BeginSeq;
      for (const auto& g : groups_) str(out, g);
      out << YAML::EndSeq;
    }
    if (!users_.empty()) {
      out << YAML::Key << "users" << YAML::Value << YAML::BeginSeq;
      for (const auto* u : users_) emit_user(out, *u);
      out << YAML::EndSeq;
    }
    if (!files_.empty()) {
      out << YAML::Key << "write_files" << YAML::Value << YAML::BeginSeq;
      for (const auto& w : files_) {
        out << YAML::BeginMap;
        out << YAML::Key << "path" << YAML::Value;
        str(out, w.path);
        out << YAML::Key << "content" << YAML::Value;
        str(out, w.content);
        if (!w.encoding.empty()) {
          out << YAML::Key << "encoding" << YAML::Value;
          str(out, w.encoding);
        }
        if (!w.owner.empty()) {
          out << YAML::Key << "owner" << YAML::Value;
          str(out, w.owner);
        }
        if (!w.permissions.empty()) {
          out << YAML::Key << "permissions" << YAML::Value;
          str(out, w.permissions);
        }
        if (w.append) out << YAML::Key << "append" << YAML::Value << true;
        out << YAML::EndMap;
      }
      out << YAML::EndSeq;
    }
    std::vector<std::vector<std::string>> all = commands_;
    all.insert(all.end(), late_commands_.begin(), late_commands_.end());
    all.insert(all.end(), unit_commands_.begin(), unit_commands_.end());
    if (!all.empty()) {
      out << YAML::Key << "runcmd" << YAML::Value << YAML::BeginSeq;
      for (const auto& cmd : all) {
        out << YAML::Flow << YAML::BeginSeq;
        for (const auto& arg : cmd) str(out, arg);
        out << YAML::EndSeq;
      }
      out << YAML::EndSeq;
    }
    out << YAML::EndMap;
    return std::string("#cloud-config\n") + out.c_str() + "\n";
  }

  static void emit_user(YAML::Emitter& out, const User& u) {
    auto kv = [&](const char* key, const Opt<std::string>& v) {
      if (!v.set()) return;
      out << YAML::Key << key << YAML::Value;
      str(out, *v);
    };
    auto kb = [&](const char* key, const Opt<bool>& v) {
      if (v.set()) out << YAML::Key << key << YAML::Value << *v;
    };
    out << YAML::BeginMap;
    out << YAML::Key << "name" << YAML::Value;
    str(out, u.name);
    if (u.password_hash.set()) {
      out << YAML::Key << "hashed_passwd" << YAML::Value;
      str(out, *u.password_hash);
      out << YAML::Key << "lock_passwd" << YAML::Value << false;
    }
    if (!u.ssh_authorized_keys.empty()) {
      out << YAML::Key << "ssh_authorized_keys" << YAML::Value << YAML::BeginSeq;
      for (const auto& k : u.ssh_authorized_keys) str(out, k.value);
      out << YAML::EndSeq;
    }
    if (u.uid.set()) out << YAML::Key << "uid" << YAML::Value << *u.uid;
    kv("gecos", u.gecos);
    kv("homedir", u.home_dir);
    kb("no_create_home", u.no_create_home);
    kv("primary_group", u.primary_group);
    if (!u.groups.empty()) {
      out << YAML::Key << "groups" << YAML::Value << YAML::BeginSeq;
      for (const auto& g : u.groups) str(out, g.value);
      out << YAML::EndSeq;
    }
    kb("no_user_group", u.no_user_group);
    kb("no_log_init", u.no_log_init);
    kv("shell", u.shell);
    kb("system", u.system);
    out << YAML::EndMap;
  }

  DiagnosticCollector& diag_;
  std::optional<std::string> hostname_;
  std::vector<std::string> groups_;
  std::vector<const User*> users_;
  std::vector<WriteFile> files_;
  std::vector<std::vector<std::string>> commands_;       // directories, links
  std::vector<std::vector<std::string>> late_commands_;  // numeric ownership
  std::vector<std::vector<std::string>> unit_commands_;  // daemon-reload, enable, mask
};

}  // namespace

std::optional<std::string> write_cloud_config(const NodeConfig& config, DiagnosticCollector& diag) {
  return Writer(diag).run(config);
}

}  // namespace ramfleet::config
