#include "inventory/loader.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <set>

#include "core/yaml_fields.hpp"
#include "inventory/config_layers.hpp"
#include "inventory/ipxe_script.hpp"
#include "inventory/machine_file.hpp"

namespace ramfleet::inventory {
namespace fs = std::filesystem;

namespace {

std::vector<fs::path> yaml_files(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const auto ext = e.path().extension();
    if ((ext == ".yaml" || ext == ".yml") && e.is_regular_file(ec)) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// One inventory file, read through core's field reader, plus what only the
// inventory needs: source marks kept in the model, template checks.
class FileLoader {
 public:
  FileLoader(std::string file, Diagnostics& out) : y_(std::move(file), out) {}

  SourceMark mark(const YAML::Node& n) const {
    const auto p = yaml_place(n);
    return {y_.file(), p.line, p.column};
  }
  void error(const YAML::Node& n, std::string msg) { y_.error(n, std::move(msg)); }
  std::optional<YAML::Node> parse() { return y_.load(); }
  std::optional<std::string> scalar(const YAML::Node& n, std::string_view what) { return y_.string(n, what); }
  std::optional<bool> boolean(const YAML::Node& n, std::string_view what) { return y_.boolean(n, what); }
  // Rejects keys outside `allowed` so a typo ("selecter:") is an error, not a silent no-op.
  bool known_keys(const YAML::Node& map, std::initializer_list<std::string_view> allowed, std::string_view what) {
    return y_.known_keys(map, what, allowed);
  }

  void check_template(const YAML::Node& n, const std::string& text) {
    auto err = template_error(text);
    if (!err.empty()) error(n, "invalid template: " + err);
  }

  [[nodiscard]] std::size_t errors() const { return y_.errors(); }
  const std::string& file() const { return y_.file(); }

 private:
  YamlFields y_;
};

std::string stem_id(const fs::path& p) { return p.stem().string(); }

bool valid_id(const std::string& id) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

std::optional<std::string> read_id(FileLoader& fl, const YAML::Node& doc, const fs::path& path) {
  std::string id = stem_id(path);
  if (doc["id"]) {
    auto v = fl.scalar(doc["id"], "id");
    if (!v) return std::nullopt;
    id = *v;
  }
  if (!valid_id(id)) {
    fl.error(doc["id"] ? doc["id"] : doc, "id '" + id + "' must be 1-64 characters of [A-Za-z0-9._-]");
    return std::nullopt;
  }
  return id;
}

// A config layer: "path" or {path:, optional:}. Paths are relative to
// <config>/configs and may be templates; `..` and absolute paths are refused
// (a rendered path is checked again per machine, see node_config.cpp).
std::vector<ConfigLayerRef> load_layer_refs(FileLoader& fl, const YAML::Node& n, std::string_view what) {
  std::vector<ConfigLayerRef> out;
  if (!n.IsSequence()) {
    fl.error(n, std::string(what) + " must be a list of layer files (relative to <config>/configs/)");
    return out;
  }
  for (const auto& item : n) {
    ConfigLayerRef ref;
    ref.mark = fl.mark(item);
    // Constructed, never assigned: assigning a YAML::Node writes through to the node it refers to.
    const YAML::Node path_node = item.IsMap() ? item["path"] : item;
    if (item.IsMap()) {
      fl.known_keys(item, {"path", "optional"}, "config layer");
      if (!path_node) {
        fl.error(item, "config layer needs 'path:'");
        continue;
      }
      if (auto o = item["optional"])
        if (auto v = fl.boolean(o, "optional")) ref.optional = *v;
    }
    auto path = fl.scalar(path_node, "config layer path");
    if (!path) continue;
    if (auto why = config_layer_path_error(*path); !why.empty()) {
      fl.error(path_node, why);
      continue;
    }
    fl.check_template(path_node, *path);
    ref.path = *path;
    out.push_back(std::move(ref));
  }
  return out;
}

std::optional<ProfileConfig> load_profile_config(FileLoader& fl, const YAML::Node& n, const ConfigRules& rules) {
  if (!n.IsMap()) {
    fl.error(n, "config must be a mapping {target: ignition|cloud-config|apkovl, layers: [...]}");
    return std::nullopt;
  }
  fl.known_keys(n, {"target", "layers", "machine_layers", "strict", "ignition_version"}, "profile config");
  ProfileConfig c;
  c.mark = fl.mark(n);
  if (!n["target"]) {
    fl.error(n, "config needs 'target:' (ignition, cloud-config or apkovl)");
  } else if (auto t = fl.scalar(n["target"], "target")) {
    if (rules.known_target && !rules.known_target(*t)) {
      fl.error(n["target"], "unknown config target '" + *t + "' (expected ignition, cloud-config or apkovl)");
    }
    c.target = *t;
  }
  if (auto l = n["layers"]) c.layers = load_layer_refs(fl, l, "config layers");
  if (auto l = n["machine_layers"]) c.machine_layers = load_layer_refs(fl, l, "config machine_layers");
  if (auto s = n["strict"])
    if (auto v = fl.boolean(s, "strict")) c.strict = *v;
  if (auto v = n["ignition_version"]) {
    if (auto t = fl.scalar(v, "ignition_version")) {
      if (rules.supported_ignition_version && !rules.supported_ignition_version(*t)) {
        fl.error(v, "ignition_version '" + *t + "' is not a supported Ignition spec (3.0.0 .. 3.5.0)");
      }
      c.ignition_version = *t;
    }
  }
  if (c.target == "ignition" || c.ignition_version.empty()) return c;
  fl.error(n["ignition_version"], "ignition_version applies only to target: ignition");
  return c;
}

std::optional<Profile> load_profile(const fs::path& path, Diagnostics& diags, const ConfigRules& rules) {
  FileLoader fl(path.string(), diags);
  auto doc = fl.parse();
  if (!doc) return std::nullopt;
  if (!doc->IsMap()) {
    fl.error(*doc, "a profile file must be a mapping (kernel:, initrds:, args:)");
    return std::nullopt;
  }
  const auto before = fl.errors();
  fl.known_keys(*doc, {"id", "kernel", "initrds", "args", "config", "description"}, "profile");
  Profile p;
  p.mark = fl.mark(*doc);
  if (auto id = read_id(fl, *doc, path)) p.id = *id;
  if (!(*doc)["kernel"]) {
    fl.error(*doc, "profile needs 'kernel:' (an asset name or an http:// URL)");
  } else if (auto k = fl.scalar((*doc)["kernel"], "kernel")) {
    p.kernel = *k;
    fl.check_template((*doc)["kernel"], p.kernel);
  }
  if (auto n = (*doc)["initrds"]) {
    if (n.IsScalar()) n = YAML::Node(std::vector<std::string>{n.Scalar()});
    if (!n.IsSequence()) {
      fl.error(n, "initrds must be a list of asset names or URLs");
    } else {
      for (const auto& item : n) {
        if (auto s = fl.scalar(item, "initrd")) {
          fl.check_template(item, *s);
          p.initrds.push_back(*s);
        }
      }
    }
  }
  if (auto n = (*doc)["args"]) {
    if (n.IsScalar()) {
      p.args.push_back(n.Scalar());
      fl.check_template(n, n.Scalar());
    } else if (n.IsSequence()) {
      for (const auto& item : n) {
        if (auto s = fl.scalar(item, "argument")) {
          fl.check_template(item, *s);
          p.args.push_back(*s);
        }
      }
    } else {
      fl.error(n, "args must be a string or a list of strings");
    }
  }
  if (auto n = (*doc)["config"]) p.config = load_profile_config(fl, n, rules);
  if (fl.errors() != before) return std::nullopt;
  return p;
}

std::optional<Group> load_group(const fs::path& path, Diagnostics& diags) {
  FileLoader fl(path.string(), diags);
  auto doc = fl.parse();
  if (!doc) return std::nullopt;
  if (!doc->IsMap()) {
    fl.error(*doc, "a group file must be a mapping (profile:, selector:, metadata:)");
    return std::nullopt;
  }
  const auto before = fl.errors();
  fl.known_keys(*doc, {"id", "profile", "selector", "metadata", "config", "description"}, "group");
  Group g;
  g.mark = fl.mark(*doc);
  if (auto id = read_id(fl, *doc, path)) g.id = *id;
  if (!(*doc)["profile"]) {
    fl.error(*doc, "group needs 'profile:'");
  } else if (auto s = fl.scalar((*doc)["profile"], "profile")) {
    g.profile = *s;
  }
  std::vector<Constraint> cs;
  if (auto sel = (*doc)["selector"]) {
    if (!sel.IsMap()) {
      fl.error(sel, "selector must be a mapping of fact: value (mac, uuid, hostname, serial, arch, ..., labels)");
    } else {
      for (const auto& kv : sel) {
        const auto key = kv.first.Scalar();
        if (key == "labels") {
          if (!kv.second.IsMap()) {
            fl.error(kv.second, "selector labels must be a mapping of name: value");
            continue;
          }
          for (const auto& lv : kv.second) {
            auto v = fl.scalar(lv.second, "label value");
            if (!v) continue;
            if (v->empty()) {
              fl.error(lv.second, "empty label value");
              continue;
            }
            cs.push_back({Constraint::Kind::label, FactKey::mac, lv.first.Scalar(), *v});
          }
          continue;
        }
        auto fk = fact_key_from_string(key);
        if (!fk) {
          fl.error(kv.first, "unknown selector key '" + key +
                                 "' (expected mac, uuid, hostname, serial, arch, platform, buildarch, manufacturer, "
                                 "product or labels)");
          continue;
        }
        auto v = fl.scalar(kv.second, "selector value");
        if (!v) continue;
        auto pr = normalise_pattern(*fk, *v);
        if (!pr.error.empty()) {
          fl.error(kv.second, pr.error);
          continue;
        }
        cs.push_back({Constraint::Kind::fact, *fk, {}, pr.pattern});
      }
    }
  }
  g.selector = Selector(std::move(cs));
  if (auto md = (*doc)["metadata"]) {
    if (!md.IsMap()) {
      fl.error(md, "metadata must be a mapping of name: string");
    } else {
      for (const auto& kv : md) {
        if (auto v = fl.scalar(kv.second, "metadata value")) g.metadata[kv.first.Scalar()] = *v;
      }
    }
  }
  if (auto c = (*doc)["config"]) {
    if (!c.IsMap()) {
      fl.error(c, "group config must be a mapping {layers: [...]}");
    } else {
      fl.known_keys(c, {"layers"}, "group config");
      if (auto l = c["layers"]) g.config_layers = load_layer_refs(fl, l, "config layers");
    }
  }
  if (fl.errors() != before) return std::nullopt;
  return g;
}

void load_settings(const fs::path& path, Inventory& inv, Diagnostics& diags) {
  FileLoader fl(path.string(), diags);
  auto doc = fl.parse();
  if (!doc || doc->IsNull()) return;
  if (!doc->IsMap()) {
    fl.error(*doc, "inventory.yaml must be a mapping");
    return;
  }
  fl.known_keys(*doc, {"default", "cluster"}, "inventory.yaml");
  if (auto c = (*doc)["cluster"]) {
    if (!c.IsMap()) {
      fl.error(c, "cluster must be a mapping of name: string (config templates' {{cluster.name}})");
    } else {
      for (const auto& kv : c) {
        if (auto v = fl.scalar(kv.second, "cluster value")) inv.cluster[kv.first.Scalar()] = *v;
      }
    }
  }
  auto d = (*doc)["default"];
  if (!d) return;
  inv.unmatched.mark = fl.mark(d);
  if (d.IsScalar() && d.Scalar() == "exit") {
    inv.unmatched.kind = DefaultAction::Kind::exit;
  } else if (d.IsMap() && d["profile"] && d.size() == 1) {
    if (auto s = fl.scalar(d["profile"], "default profile")) {
      inv.unmatched.kind = DefaultAction::Kind::profile;
      inv.unmatched.profile = *s;
      inv.unmatched.mark = fl.mark(d["profile"]);
    }
  } else {
    fl.error(d, "default must be 'exit' (boot the local disk) or {profile: ID}");
  }
}

// machines/<name>.yaml (machine_file.hpp), as written; the group it names
// is checked by the caller.
std::optional<MachineFile> parse_machine_file(FileLoader& fl) {
  auto doc = fl.parse();
  if (!doc) return std::nullopt;
  if (!doc->IsMap()) {
    fl.error(*doc, "a machine file must be a mapping (mac: or uuid:, group:, labels:)");
    return std::nullopt;
  }
  const auto before = fl.errors();
  fl.known_keys(*doc, {"mac", "uuid", "group", "labels", "description"}, "machine file");
  MachineFile m;
  m.name = fs::path(fl.file()).stem().string();
  if (auto why = machine_name_refusal(m.name); !why.empty())
    fl.error(*doc, why + " (the file's name is the machine's)");
  const auto mac = (*doc)["mac"];
  const auto uuid = (*doc)["uuid"];
  if ((mac && uuid) || (!mac && !uuid)) {
    fl.error(*doc, "a machine file names its machine by exactly one of mac: or uuid:");
  } else if (auto v = fl.scalar(mac ? mac : uuid, mac ? "mac" : "uuid")) {
    if (mac) {
      m.mac = MacAddress::parse(*v);
      if (!m.mac) fl.error(mac, "'" + *v + "' is not a MAC address (a machine file names one machine: no patterns)");
    } else if (auto u = normalise_uuid(*v)) {
      m.uuid = *u;
    } else {
      fl.error(uuid, "'" + *v + "' is not a UUID (a machine file names one machine: no patterns)");
    }
  }
  if (!(*doc)["group"]) {
    fl.error(*doc, "a machine file needs 'group:' (a group in groups/)");
  } else if (auto v = fl.scalar((*doc)["group"], "group")) {
    m.group = *v;
  }
  if (auto l = (*doc)["labels"]) {
    if (!l.IsMap()) {
      fl.error(l, "labels must be a mapping of name: string");
    } else {
      for (const auto& kv : l) {
        auto v = fl.scalar(kv.second, "label value");
        if (!v) continue;
        if (auto why = label_refusal(kv.first.Scalar(), *v); !why.empty()) {
          fl.error(kv.first, why);
          continue;
        }
        if (m.labels.size() == kMaxLabels) {
          fl.error(kv.first, "at most " + std::to_string(kMaxLabels) + " labels");
          break;
        }
        m.labels[kv.first.Scalar()] = *v;
      }
    }
  }
  if (fl.errors() != before) return std::nullopt;
  return m;
}

// The machine joins the group it names, as a group of its own with an exact
// selector (machine_file.hpp).
std::optional<Group> load_machine_file(const fs::path& path, const std::map<std::string, const Group*>& groups,
                                       Diagnostics& diags) {
  FileLoader fl(path.string(), diags);
  auto m = parse_machine_file(fl);
  if (!m) return std::nullopt;
  auto doc = fl.parse();  // for the marks: parsed again, it loaded once already
  auto it = groups.find(m->group);
  if (it == groups.end()) {
    fl.error((*doc)["group"], "machine file names unknown group '" + m->group + "'");
    return std::nullopt;
  }
  const Group& base = *it->second;
  Group g;
  g.id = base.id;
  g.profile = base.profile;
  g.config_layers = base.config_layers;
  g.metadata = base.metadata;
  for (const auto& [k, v] : m->labels) g.metadata[k] = v;
  g.metadata["hostname"] = m->name;
  g.mark = fl.mark(*doc);
  g.selector = Selector({m->mac ? Constraint{Constraint::Kind::fact, FactKey::mac, {}, m->mac->str()}
                                : Constraint{Constraint::Kind::fact, FactKey::uuid, {}, m->uuid}});
  return g;
}

// A layer whose path has no template must exist now: a typo is a load error,
// not a 500 at boot. Templated paths are resolved per machine.
void check_config_layers(const fs::path& config_dir, const Inventory& inv, const std::vector<Group>& groups,
                         Diagnostics& diags) {
  auto check = [&](const ConfigLayerRef& ref) {
    if (ref.optional || ref.path.find("{{") != std::string::npos) return;
    std::error_code ec;
    if (!fs::is_regular_file(config_dir / "configs" / ref.path, ec)) {
      diags.push_back({ref.mark.file, ref.mark.line, ref.mark.column, Diagnostic::Severity::error,
                       "config layer '" + ref.path + "' not found (looked for " +
                           (config_dir / "configs" / ref.path).string() + ")"});
    }
  };
  for (const auto& [id, p] : inv.profiles) {
    if (!p.config) continue;
    for (const auto& r : p.config->layers) check(r);
    for (const auto& r : p.config->machine_layers) check(r);
  }
  for (const auto& g : groups) {
    for (const auto& r : g.config_layers) check(r);
    const Profile* p = inv.profile(g.profile);
    if (!g.config_layers.empty() && p && !p->config) {
      diags.push_back({g.mark.file, g.mark.line, g.mark.column, Diagnostic::Severity::error,
                       "group '" + g.id + "' has config layers but its profile '" + g.profile +
                           "' has no config: (no target to compile them for)"});
    }
  }
}

void check_ties(const std::vector<Group>& groups, Diagnostics& diags) {
  // groups are sorted by file name, so the later file carries the error.
  for (std::size_t i = 0; i < groups.size(); ++i) {
    for (std::size_t j = i + 1; j < groups.size(); ++j) {
      const auto& a = groups[i];
      const auto& b = groups[j];
      if (a.selector.specificity() != b.selector.specificity()) continue;
      if (!a.selector.may_overlap(b.selector)) continue;
      diags.push_back({b.mark.file, b.mark.line, b.mark.column, Diagnostic::Severity::error,
                       "group '" + b.id + "' (" + b.selector.str() + ") ties with group '" + a.id + "' at " +
                           a.mark.str() + " (" + a.selector.str() +
                           "): both can select the same machine with equal specificity (" +
                           a.selector.specificity().str() + "); make one selector more specific or disjoint"});
    }
  }
}

}  // namespace

std::optional<MachineFile> read_machine_file(const fs::path& path, Diagnostics& diags) {
  FileLoader fl(path.string(), diags);
  return parse_machine_file(fl);
}

LoadResult load_inventory(const fs::path& config_dir, const ConfigRules& rules) {
  LoadResult result;
  auto& diags = result.diagnostics;
  auto inv = std::make_shared<Inventory>();
  std::error_code ec;
  if (!fs::is_directory(config_dir, ec)) {
    diags.push_back({config_dir.string(), 0, 0, Diagnostic::Severity::error, "config directory does not exist"});
    return result;
  }
  const auto settings = config_dir / "inventory.yaml";
  if (fs::exists(settings, ec)) load_settings(settings, *inv, diags);

  for (const auto& path : yaml_files(config_dir / "profiles")) {
    auto p = load_profile(path, diags, rules);
    if (!p) continue;
    auto [it, inserted] = inv->profiles.emplace(p->id, *p);
    if (!inserted) {
      diags.push_back({p->mark.file, p->mark.line, p->mark.column, Diagnostic::Severity::error,
                       "duplicate profile id '" + p->id + "' (also defined at " + it->second.mark.str() + ")"});
    }
  }
  std::vector<Group> groups;
  std::map<std::string, SourceMark> group_ids;
  for (const auto& path : yaml_files(config_dir / "groups")) {
    auto g = load_group(path, diags);
    if (!g) continue;
    if (auto [it, inserted] = group_ids.emplace(g->id, g->mark); !inserted) {
      diags.push_back({g->mark.file, g->mark.line, g->mark.column, Diagnostic::Severity::error,
                       "duplicate group id '" + g->id + "' (also defined at " + it->second.str() + ")"});
      continue;
    }
    if (!inv->profile(g->profile)) {
      diags.push_back({g->mark.file, g->mark.line, g->mark.column, Diagnostic::Severity::error,
                       "group '" + g->id + "' names unknown profile '" + g->profile + "'"});
    }
    groups.push_back(std::move(*g));
  }
  {
    // Machine files join the groups above (never another machine file's).
    std::map<std::string, const Group*> by_id;
    for (const auto& g : groups) by_id.emplace(g.id, &g);
    std::vector<Group> machines;
    for (const auto& path : yaml_files(config_dir / "machines")) {
      if (auto g = load_machine_file(path, by_id, diags)) machines.push_back(std::move(*g));
    }
    for (auto& g : machines) groups.push_back(std::move(g));
  }
  if (inv->unmatched.kind == DefaultAction::Kind::profile && !inv->profile(inv->unmatched.profile)) {
    const auto& m = inv->unmatched.mark;
    diags.push_back({m.file, m.line, m.column, Diagnostic::Severity::error,
                     "default names unknown profile '" + inv->unmatched.profile + "'"});
  }
  check_config_layers(config_dir, *inv, groups, diags);
  check_ties(groups, diags);
  std::stable_sort(groups.begin(), groups.end(), [](const Group& a, const Group& b) {
    if (a.selector.specificity() != b.selector.specificity())
      return a.selector.specificity() > b.selector.specificity();
    return a.id < b.id;
  });
  inv->groups = std::move(groups);
  inv->config_dir = config_dir;
  if (!has_errors(diags)) result.inventory = std::move(inv);
  return result;
}

std::string inventory_fingerprint(const fs::path& config_dir) {
  std::string out;
  auto add = [&](const fs::path& p) {
    std::error_code ec;
    auto size = fs::file_size(p, ec);
    if (ec) return;
    auto mtime = fs::last_write_time(p, ec);
    if (ec) return;
    out += p.string() + "|" + std::to_string(size) + "|" + std::to_string(mtime.time_since_epoch().count()) + "\n";
  };
  add(config_dir / "inventory.yaml");
  // cluster.yaml decides which machines get cluster files and boot tokens
  // (cluster_config.hpp): an edit is a new version too.
  add(config_dir / "cluster.yaml");
  for (const auto& p : yaml_files(config_dir / "profiles")) add(p);
  for (const auto& p : yaml_files(config_dir / "groups")) add(p);
  for (const auto& p : yaml_files(config_dir / "machines")) add(p);
  // Config layers and their local: files: an edit there is a new inventory
  // version too, so cached compiled configs are dropped.
  for (const auto& p : config_tree_files(config_dir / "configs")) add(p);
  return out;
}

}  // namespace ramfleet::inventory
