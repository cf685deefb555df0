#include "config/ignition_writer.hpp"

#include <nlohmann/json.hpp>

#include "config/encoding.hpp"

namespace ramfleet::config {

namespace {

using json = nlohmann::ordered_json;

class Writer {
 public:
  Writer(const IgnitionSpec& spec, DiagnosticCollector& diag) : spec_(spec), diag_(diag) {}

  json run(const NodeConfig& c) {
    json out = json::object();
    json ign = {{"version", spec_.str()}};
    if (!c.config_merge.empty() || c.config_replace) {
      json cfg = json::object();
      if (!c.config_merge.empty()) {
        json merge = json::array();
        for (const auto& r : c.config_merge) merge.push_back(resource(r));
        cfg["merge"] = merge;
      }
      if (c.config_replace) cfg["replace"] = resource(*c.config_replace);
      ign["config"] = cfg;
    }
    out["ignition"] = ign;

    if (!c.kernel_arguments.empty()) {
      if (!spec_.has_kernel_arguments()) {
        const auto& first = c.kernel_arguments.should_exist.empty() ? c.kernel_arguments.should_not_exist.front()
                                                                    : c.kernel_arguments.should_exist.front();
        too_new(first.at, "kernel_arguments", {3, 3, 0});
      }
      json ka = json::object();
      if (!c.kernel_arguments.should_exist.empty()) ka["shouldExist"] = strings(c.kernel_arguments.should_exist);
      if (!c.kernel_arguments.should_not_exist.empty()) {
        ka["shouldNotExist"] = strings(c.kernel_arguments.should_not_exist);
      }
      out["kernelArguments"] = ka;
    }

    if (!c.users.empty() || !c.groups.empty()) {
      json passwd = json::object();
      if (!c.users.empty()) {
        json users = json::array();
        for (const auto& u : c.users) users.push_back(user(u));
        passwd["users"] = users;
      }
      if (!c.groups.empty()) {
        json groups = json::array();
        for (const auto& g : c.groups) groups.push_back(group(g));
        passwd["groups"] = groups;
      }
      out["passwd"] = passwd;
    }

    if (!c.files.empty() || !c.directories.empty() || !c.links.empty()) {
      json storage = json::object();
      if (!c.directories.empty()) {
        json list = json::array();
        for (const auto& d : c.directories) {
          json j = node(d);
          mode(j, d.mode);
          list.push_back(j);
        }
        storage["directories"] = list;
      }
      if (!c.files.empty()) {
        json list = json::array();
        for (const auto& f : c.files) list.push_back(file(f));
        storage["files"] = list;
      }
      if (!c.links.empty()) {
        json list = json::array();
        for (const auto& l : c.links) {
          json j = node(l);
          if (l.hard.set()) j["hard"] = *l.hard;
          if (l.target.set()) j["target"] = *l.target;
          list.push_back(j);
        }
        storage["links"] = list;
      }
      out["storage"] = storage;
    }

    if (!c.units.empty()) {
      json units = json::array();
      for (const auto& u : c.units) units.push_back(unit(u));
      out["systemd"] = {{"units", units}};
    }
    return out;
  }

 private:
  void too_new(const Location& at, const std::string& what, IgnitionSpec needs) {
    diag_.error(at, what + " needs Ignition spec " + needs.str() + " or later; this config targets " + spec_.str());
  }

  static json strings(const std::vector<Located<std::string>>& list) {
    json a = json::array();
    for (const auto& s : list) a.push_back(s.value);
    return a;
  }

  json resource(const Resource& r) {
    json j = json::object();
    if (r.compression.set() && !r.compression->empty()) j["compression"] = *r.compression;
    if (!r.http_headers.empty()) {
      if (!spec_.has_http_headers()) too_new(r.http_headers.front().at, "http_headers", {3, 1, 0});
      json headers = json::array();
      for (const auto& h : r.http_headers) headers.push_back({{"name", h.name}, {"value", h.value}});
      j["httpHeaders"] = headers;
    }
    if (r.source) {
      j["source"] = *r.source;
    } else {
      j["source"] = data_url(r.data.value_or(""));
    }
    if (r.verification_hash.set()) {
      if (r.verification_hash->rfind("sha256-", 0) == 0 && !spec_.has_sha256()) {
        too_new(r.verification_hash.at, "a sha256 verification hash", {3, 2, 0});
      }
      j["verification"] = {{"hash", *r.verification_hash}};
    }
    return j;
  }

  static json owner(const Owner& o) {
    json j = json::object();
    if (o.id.set()) j["id"] = *o.id;
    if (o.name.set()) j["name"] = *o.name;
    return j;
  }

  json node(const NodeEntry& e) {
    json j = {{"path", e.path}};
    if (e.user.set()) j["user"] = owner(e.user);
    if (e.group.set()) j["group"] = owner(e.group);
    if (e.overwrite.set()) j["overwrite"] = *e.overwrite;
    return j;
  }

  void mode(json& j, const Opt<int>& m) {
    if (!m.set()) return;
    if ((*m & 07000) != 0 && !spec_.has_special_mode_bits()) too_new(m.at, "setuid/setgid/sticky mode bits", {3, 4, 0});
    j["mode"] = *m;
  }

  json file(const FileEntry& f) {
    json j = node(f);
    if (f.contents) j["contents"] = resource(*f.contents);
    if (!f.append.empty()) {
      json a = json::array();
      for (const auto& r : f.append) a.push_back(resource(r));
      j["append"] = a;
    }
    mode(j, f.mode);
    return j;
  }

  json unit(const Unit& u) {
    json j = {{"name", u.name}};
    if (u.enabled.set()) j["enabled"] = *u.enabled;
    if (u.mask.set()) j["mask"] = *u.mask;
    if (u.contents.set()) j["contents"] = *u.contents;
    if (!u.dropins.empty()) {
      json d = json::array();
      for (const auto& dr : u.dropins) {
        json dj = {{"name", dr.name}};
        if (dr.contents.set()) dj["contents"] = *dr.contents;
        d.push_back(dj);
      }
      j["dropins"] = d;
    }
    if (u.mask.set() && *u.mask && u.enabled.set() && *u.enabled) {
      diag_.error(u.enabled.at, "unit " + u.name + " is both masked and enabled");
    }
    return j;
  }

  json user(const User& u) {
    json j = {{"name", u.name}};
    if (u.password_hash.set()) j["passwordHash"] = *u.password_hash;
    if (!u.ssh_authorized_keys.empty()) j["sshAuthorizedKeys"] = strings(u.ssh_authorized_keys);
    if (u.uid.set()) j["uid"] = *u.uid;
    if (u.gecos.set()) j["gecos"] = *u.gecos;
    if (u.home_dir.set()) j["homeDir"] = *u.home_dir;
    if (u.no_create_home.set()) j["noCreateHome"] = *u.no_create_home;
    if (u.primary_group.set()) j["primaryGroup"] = *u.primary_group;
    if (!u.groups.empty()) j["groups"] = strings(u.groups);
    if (u.no_user_group.set()) j["noUserGroup"] = *u.no_user_group;
    if (u.no_log_init.set()) j["noLogInit"] = *u.no_log_init;
    if (u.shell.set()) j["shell"] = *u.shell;
    if (u.system.set()) j["system"] = *u.system;
    if (u.should_exist.set()) {
      if (!spec_.has_should_exist()) too_new(u.should_exist.at, "should_exist", {3, 2, 0});
      j["shouldExist"] = *u.should_exist;
    }
    return j;
  }

  json group(const Group& g) {
    json j = {{"name", g.name}};
    if (g.gid.set()) j["gid"] = *g.gid;
    if (g.password_hash.set()) j["passwordHash"] = *g.password_hash;
    if (g.system.set()) j["system"] = *g.system;
    if (g.should_exist.set()) {
      if (!spec_.has_should_exist()) too_new(g.should_exist.at, "should_exist", {3, 2, 0});
      j["shouldExist"] = *g.should_exist;
    }
    return j;
  }

  IgnitionSpec spec_;
  DiagnosticCollector& diag_;
};

}  // namespace

std::optional<std::string> write_ignition(const NodeConfig& config, const IgnitionSpec& spec, bool pretty,
                                          DiagnosticCollector& diag) {
  json out = Writer(spec, diag).run(config);
  if (diag.has_errors()) return std::nullopt;
  try {
    std::string text = pretty ? out.dump(2) : out.dump();
    if (pretty) text += "\n";
    return text;
  } catch (const nlohmann::json::exception& e) {
    diag.error(Location{}, std::string("cannot encode the config as JSON (is some text not UTF-8?): ") + e.what());
    return std::nullopt;
  }
}

}  // namespace ramfleet::config
