#include "config/apkovl_writer.hpp"

#include <algorithm>
#include <map>

#include "config/embedded_contents.hpp"
#include "config/encoding.hpp"
#include "config/tar_writer.hpp"
#include "config/target_limits.hpp"

namespace ramfleet::config {

namespace {

constexpr const char* kTarget = "an apkovl";

// Single-quoted for /bin/sh: nothing inside is special except the quote itself.
std::string sh_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

class Writer {
 public:
  explicit Writer(DiagnosticCollector& diag) : diag_(diag) {}

  std::optional<std::string> run(const NodeConfig& c) {
    reject_ignition_only_features(c, kTarget, diag_);
    // Alpine's initramfs adds its default boot services (devfs, mdev, hostname,
    // bootmisc, ...) only without an overlay, or when this marker is in it.
    add_file("etc/.default_boot_services", "", 0644, Location{});
    for (const auto& d : c.directories) directory(d);
    for (const auto& f : c.files) file(f);
    for (const auto& l : c.links) link(l);
    for (const auto& u : c.units) unit(u);
    users(c);
    if (diag_.has_errors()) return std::nullopt;
    return finish();
  }

 private:
  void unsupported(const Location& at, const std::string& what) {
    diag_.error(at, what + " cannot be expressed in " + kTarget);
  }

  static std::string rel(const std::string& path) {
    std::size_t i = 0;
    while (i < path.size() && path[i] == '/') ++i;
    std::string r = path.substr(i);
    while (!r.empty() && r.back() == '/') r.pop_back();
    return r;
  }

  // Tar owners are numeric ids (plus names for tools that prefer them);
  // only root is known without an id.
  void owner(const Owner& o, const Location& at, int& id, std::string& name, const char* what) {
    if (!o.set()) return;
    if (o.id.set()) {
      id = *o.id;
      name = o.name.set() ? *o.name : "";
      return;
    }
    if (*o.name == "root") return;
    diag_.error(o.name.at, std::string(what) + " '" + *o.name + "' needs a numeric id in " + kTarget +
                               " (names of users created at boot are not known when the archive is written)");
    (void)at;
  }

  TarEntry& add(TarEntry e, const Location& at) {
    if (e.path.empty()) {
      diag_.error(at, "cannot place the root directory itself in " + std::string(kTarget));
    }
    auto [it, inserted] = entries_.insert_or_assign(e.path, std::move(e));
    (void)inserted;
    return it->second;
  }

  void add_file(const std::string& path, std::string data, int mode, const Location& at) {
    TarEntry e;
    e.path = path;
    e.data = std::move(data);
    e.mode = mode;
    add(std::move(e), at);
  }

  void node_owner(const NodeEntry& n, TarEntry& e) {
    owner(n.user, n.at, e.uid, e.uname, "user");
    owner(n.group, n.at, e.gid, e.gname, "group");
  }

  void directory(const DirectoryEntry& d) {
    TarEntry e;
    e.type = TarEntry::Type::directory;
    e.path = rel(d.path);
    e.mode = d.mode.set() ? *d.mode : 0755;
    node_owner(d, e);
    add(std::move(e), d.at);
  }

  void file(const FileEntry& f) {
    TarEntry e;
    e.path = rel(f.path);
    e.mode = f.mode.set() ? *f.mode : 0644;
    node_owner(f, e);
    if (!f.contents && !f.append.empty()) {
      diag_.error(f.append.front().at, "appending to " + f.path + " of the base system cannot be expressed in " +
                                           kTarget + " (the overlay replaces whole files); give contents too");
      return;
    }
    if (f.contents) {
      auto bytes = embedded_bytes(*f.contents, kTarget, diag_);
      if (!bytes) return;
      e.data = bytes->plain;
    }
    for (const auto& a : f.append) {
      auto bytes = embedded_bytes(a, kTarget, diag_);
      if (bytes) e.data += bytes->plain;
    }
    add(std::move(e), f.at);
  }

  void link(const LinkEntry& l) {
    TarEntry e;
    bool hard = l.hard.set() && *l.hard;
    e.type = hard ? TarEntry::Type::hardlink : TarEntry::Type::symlink;
    e.path = rel(l.path);
    e.mode = 0777;
    e.linkname = hard ? rel(*l.target) : *l.target;
    node_owner(l, e);
    add(std::move(e), l.at);
  }

  // Alpine runs OpenRC: an enabled service is a link in etc/runlevels/default.
  void unit(const Unit& u) {
    if (u.contents.set()) {
      diag_.error(u.contents.at, "systemd unit contents for " + u.name + " cannot be expressed in " + kTarget +
                                     " (Alpine runs OpenRC); ship an /etc/init.d script as a file instead");
    }
    if (!u.dropins.empty()) unsupported(u.dropins.front().at, "systemd dropins (Alpine runs OpenRC)");
    if (u.mask.set() && *u.mask) unsupported(u.mask.at, "mask (Alpine runs OpenRC)");
    if (!u.enabled.set() || !*u.enabled) return;  // not enabled = no runlevel link
    const std::string suffix = ".service";
    if (u.name.size() <= suffix.size() || u.name.compare(u.name.size() - suffix.size(), suffix.size(), suffix) != 0) {
      diag_.error(u.at, "only .service units map to OpenRC services; " + u.name + " cannot be expressed in " + kTarget);
      return;
    }
    std::string service = u.name.substr(0, u.name.size() - suffix.size());
    if (service.find('@') != std::string::npos) {
      unsupported(u.at, "template unit " + u.name);
      return;
    }
    enable(service, u.at);
  }

  void enable(const std::string& service, const Location& at) {
    TarEntry e;
    e.type = TarEntry::Type::symlink;
    e.path = "etc/runlevels/default/" + service;
    e.mode = 0777;
    e.linkname = "/etc/init.d/" + service;
    add(std::move(e), at);
  }

  // Users and groups are created at boot by an OpenRC local.d script with
  // busybox adduser/addgroup: the overlay must not replace /etc/passwd.
  void users(const NodeConfig& c) {
    if (c.users.empty() && c.groups.empty()) return;
    std::string script = "#!/bin/sh\n# Written by ramfleet: users and groups of this machine's config.\n";
    Location first = c.users.empty() ? c.groups.front().at : c.users.front().at;
    for (const auto& g : c.groups) {
      if (g.password_hash.set()) unsupported(g.password_hash.at, "group password_hash");
      std::string q = sh_quote(g.name);
      if (g.should_exist.set() && !*g.should_exist) {
        script += "delgroup " + q + " 2>/dev/null || true\n";
        continue;
      }
      script += "getent group " + q + " >/dev/null || addgroup";
      if (g.gid.set()) script += " -g " + std::to_string(*g.gid);
      if (g.system.set() && *g.system) script += " -S";
      script += " " + q + "\n";
    }
    for (const auto& u : c.users) {
      std::string q = sh_quote(u.name);
      bool plain = std::all_of(u.name.begin(), u.name.end(), [](char ch) {
        return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' ||
               ch == '-' || ch == '.';
      });
      if (!plain) {
        diag_.error(u.at, "user name '" + u.name + "' has characters busybox adduser does not take");
        continue;
      }
      if (u.should_exist.set() && !*u.should_exist) {
        script += "deluser " + q + " 2>/dev/null || true\n";
        continue;
      }
      if (u.no_user_group.set() && *u.no_user_group && !u.primary_group.set()) {
        unsupported(u.no_user_group.at, "no_user_group without primary_group (busybox adduser)");
      }
      script += "id " + q + " >/dev/null 2>&1 || adduser -D";
      if (u.uid.set()) script += " -u " + std::to_string(*u.uid);
      if (u.home_dir.set()) script += " -h " + sh_quote(*u.home_dir);
      if (u.shell.set()) script += " -s " + sh_quote(*u.shell);
      if (u.gecos.set()) script += " -g " + sh_quote(*u.gecos);
      if (u.primary_group.set()) script += " -G " + sh_quote(*u.primary_group);
      if (u.system.set() && *u.system) script += " -S";
      if (u.no_create_home.set() && *u.no_create_home) script += " -H";
      script += " " + q + "\n";
      for (const auto& g : u.groups) script += "addgroup " + q + " " + sh_quote(g.value) + " 2>/dev/null || true\n";
      if (u.password_hash.set()) {
        script += "echo " + sh_quote(u.name + ":" + *u.password_hash) + " | chpasswd -e\n";
      } else if (u.name != "root") {
        // busybox adduser -D leaves the account locked ("!"), which sshd refuses even for
        // key logins; "*" allows keys and still no password (an empty one would allow any).
        script += "sed -i " + sh_quote("s/^" + u.name + ":!:/" + u.name + ":*:/") + " /etc/shadow\n";
      }
      if (!u.ssh_authorized_keys.empty()) {
        std::string keys;
        for (const auto& k : u.ssh_authorized_keys) keys += k.value + "\n";
        std::string home = u.home_dir.set() ? *u.home_dir : (u.name == "root" ? "/root" : "/home/" + u.name);
        std::string qh = sh_quote(home);
        script += "mkdir -p " + qh + "/.ssh && printf '%s' " + sh_quote(keys) + " > " + qh + "/.ssh/authorized_keys\n";
        script += "chmod 700 " + qh + "/.ssh && chmod 600 " + qh + "/.ssh/authorized_keys && chown -R " + q + " " + qh +
                  "/.ssh\n";
      }
    }
    add_file("etc/local.d/ramfleet-users.start", script, 0755, first);
    enable("local", first);
  }

  std::optional<std::string> finish() {
    // Every parent directory is in the archive, before its children (map order).
    std::map<std::string, TarEntry> parents;
    for (const auto& [path, e] : entries_) {
      for (auto slash = path.find('/'); slash != std::string::npos; slash = path.find('/', slash + 1)) {
        std::string dir = path.substr(0, slash);
        if (entries_.count(dir) == 0 && parents.count(dir) == 0) {
          TarEntry d;
          d.type = TarEntry::Type::directory;
          d.path = dir;
          d.mode = 0755;
          parents.emplace(dir, std::move(d));
        }
      }
    }
    entries_.merge(parents);
    std::vector<TarEntry> list;
    for (auto& [path, e] : entries_) list.push_back(std::move(e));
    std::string error;
    auto tar = write_tar(list, error);
    if (!tar) {
      diag_.error(Location{}, error);
      return std::nullopt;
    }
    return gzip_compress(*tar);
  }

  DiagnosticCollector& diag_;
  std::map<std::string, TarEntry> entries_;
};

}  // namespace

std::optional<std::string> write_apkovl(const NodeConfig& config, DiagnosticCollector& diag) {
  return Writer(diag).run(config);
}

}  // namespace ramfleet::config
