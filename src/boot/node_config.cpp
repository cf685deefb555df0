#include "boot/node_config.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>

#include "config/encoding.hpp"
#include "core/counters.hpp"
#include "core/hex.hpp"
#include "core/sha256.hpp"
#include "inventory/config_layers.hpp"

namespace ramfleet::boot {
using namespace ramfleet::inventory;
namespace fs = std::filesystem;

namespace {

std::string percent_encode(std::string_view v) {
  std::string out;
  for (unsigned char c : v) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == ':' || c == '@') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      append_hex(out, c, HexCase::upper);
    }
  }
  return out;
}

std::optional<std::string> read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return std::nullopt;
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

Location location(const SourceMark& m) { return {m.file, m.line, m.column}; }

config::Variables machine_config_variables(const Inventory& inv, const Group* group, const Profile& profile,
                                           const MachineFacts& facts, const ConfigRequestContext& ctx) {
  config::MachineVariables mf;
  if (const auto* h = facts.get(FactKey::hostname)) {
    mf.hostname = *h;
  } else if (group) {
    // A machine named only by its MAC: its group (one machine) may name it.
    if (auto it = group->metadata.find("hostname"); it != group->metadata.end()) mf.hostname = it->second;
  }
  if (const auto* m = facts.get(FactKey::mac)) mf.mac = *m;
  mf.ip = ctx.ip;
  mf.labels = facts.labels;
  if (group) {
    for (const auto& [k, v] : group->metadata) mf.group[k] = v;
  }
  for (const auto& [k, v] : inv.cluster) mf.cluster[k] = v;
  for (const auto& [k, v] : facts.values) {
    if (k != FactKey::hostname && k != FactKey::mac) mf.extra[std::string(to_string(k))] = v;
  }
  if (auto id = facts.machine_id()) mf.extra["machine_id"] = *id;
  if (facts.mac) {
    auto hy = facts.mac->str();
    std::replace(hy.begin(), hy.end(), ':', '-');
    mf.extra["mac_hyphen"] = hy;
  }
  mf.extra["profile"] = profile.id;
  if (group) mf.extra["group_id"] = group->id;
  if (!ctx.base_url.empty()) mf.extra["server"] = ctx.base_url;
  auto vars = config::machine_variables(mf);
  // An unknown fact is undefined (a template using it is an error), never "".
  for (const char* k : {"hostname", "mac", "ip"}) {
    if (vars[k].is_string() && vars[k].get_ref<const std::string&>().empty()) vars.erase(k);
  }
  return vars;
}

}  // namespace

std::string node_config_url(const std::string& base_url, std::string_view target, const MachineFacts& facts,
                            std::string_view boot_token) {
  std::string url = base_url + "/" + std::string(target);
  for (auto k : kAllFactKeys) {
    if (const auto* v = facts.get(k)) url += "/" + std::string(to_string(k)) + "=" + percent_encode(*v);
  }
  for (const auto& [k, v] : facts.labels) url += "/" + percent_encode(k) + "=" + percent_encode(v);
  if (!boot_token.empty()) url += "/" + std::string(kBootTokenKey) + "=" + percent_encode(boot_token);
  return url;
}

PlanResult plan_node_config(const Inventory& inv, const Group* group, const Profile& profile, const MachineFacts& facts,
                            config::Target requested, const ConfigRequestContext& ctx) {
  PlanResult r;
  if (!profile.config) {
    r.status = 404;
    r.error =
        "profile '" + profile.id + "' has no config: (add config: {target:, layers:} to " + profile.mark.file + ")";
    return r;
  }
  const auto& pc = *profile.config;
  const auto target = config::parse_target(pc.target);
  if (!target || *target != requested) {
    r.status = 404;
    r.error = "profile '" + profile.id + "' serves its config as " + pc.target + " (GET /" + pc.target + "), not " +
              std::string(config::target_name(requested));
    return r;
  }
  NodeConfigPlan plan;
  plan.target = *target;
  plan.variables = machine_config_variables(inv, group, profile, facts, ctx);
  plan.options.strict = pc.strict;
  if (!pc.ignition_version.empty()) plan.options.ignition_version = config::IgnitionSpec::parse(pc.ignition_version);
  const fs::path configs = inv.config_dir / "configs";
  plan.options.files_dir = configs;

  config::TemplateRenderer renderer(plan.variables);
  DiagnosticCollector diag;
  auto add = [&](const ConfigLayerRef& ref) {
    std::string rel = ref.path;
    if (rel.find("{{") != std::string::npos) {
      DiagnosticCollector local;
      auto rendered = renderer.render(rel, config::ScalarOrigin{{}, 0, location(ref.mark)}, local);
      if (!rendered) {
        if (ref.optional) return;  // "machines/{{hostname}}.bu" for a machine without a hostname
        for (const auto& d : local.all()) diag.error(d.location(), "config layer path: " + d.message);
        return;
      }
      rel = *rendered;
      if (auto why = config_layer_path_error(rel); !why.empty()) {
        diag.error(location(ref.mark), why + " (rendered from '" + ref.path + "')");
        return;
      }
    }
    const fs::path file = configs / rel;
    if (ref.optional) {
      std::error_code ec;
      if (!fs::is_regular_file(file, ec)) return;
    }
    plan.layer_files.push_back(file.string());
    plan.layer_marks.push_back(ref.mark.str());
  };
  for (const auto& ref : pc.layers) add(ref);
  if (group) {
    for (const auto& ref : group->config_layers) add(ref);
  }
  for (const auto& ref : pc.machine_layers) add(ref);
  if (diag.has_errors()) {
    r.status = 500;
    r.error = "config layer paths for profile '" + profile.id + "' do not resolve for this machine";
    r.diagnostics = diag.take();
    return r;
  }
  plan.cache_key = pc.target;
  plan.cache_key += '\n';
  for (const auto& f : plan.layer_files) plan.cache_key += f + '\n';
  plan.cache_key += plan.options.strict ? "strict\n" : "\n";
  plan.cache_key += pc.ignition_version + '\n';
  plan.cache_key += plan.variables.dump();
  r.plan = std::move(plan);
  return r;
}

void add_generated_layer(NodeConfigPlan& plan, std::string name, std::string text) {
  plan.cache_key += "\ngenerated " + name + " " + sha256_hex(text);
  plan.generated_layers.push_back({std::move(name), std::move(text)});
}

config::CompileResult compile_node_config(const NodeConfigPlan& plan) {
  std::vector<config::LayerSource> layers;
  layers.reserve(plan.layer_files.size() + plan.generated_layers.size());
  config::CompileResult missing;
  for (std::size_t i = 0; i < plan.layer_files.size(); ++i) {
    auto text = read_text(plan.layer_files[i]);
    if (!text) {
      missing.diagnostics.push_back(Diagnostic::at({plan.layer_files[i]}, Diagnostic::Severity::error,
                                                   "cannot read config layer (listed at " + plan.layer_marks[i] + ")"));
      continue;
    }
    layers.push_back({plan.layer_files[i], std::move(*text)});
  }
  if (!missing.diagnostics.empty()) {
    if (plan.options.counters) plan.options.counters->inc("config.compile.error");
    return missing;
  }
  const bool no_layers = layers.empty();
  layers.insert(layers.end(), plan.generated_layers.begin(), plan.generated_layers.end());
  if (no_layers) {
    missing.diagnostics.push_back(Diagnostic::at({"<profile>"}, Diagnostic::Severity::error,
                                                 "the profile's config lists no layers for this machine"));
    return missing;
  }
  return config::compile_machine(layers, plan.variables, plan.target, plan.options);
}

NodeConfigCache::Lookup NodeConfigCache::get_or_compile(const NodeConfigPlan& plan) {
  if (auto it = entries_.find(plan.cache_key); it != entries_.end()) return {it->second, true};
  auto result = std::make_shared<const config::CompileResult>(compile_node_config(plan));
  const std::size_t size = plan.cache_key.size() + (result->output ? result->output->size() : 0);
  while (!order_.empty() && (entries_.size() >= max_entries_ || bytes_ + size > max_bytes_)) {
    auto old = entries_.find(order_.front());
    if (old != entries_.end()) {
      bytes_ -= old->first.size() + (old->second->output ? old->second->output->size() : 0);
      entries_.erase(old);
    }
    order_.pop_front();
  }
  entries_.emplace(plan.cache_key, result);
  order_.push_back(plan.cache_key);
  bytes_ += size;
  return {result, false};
}

void NodeConfigCache::set_generation(std::uint64_t generation) {
  if (generation == generation_) return;
  clear();
  generation_ = generation;
}

void NodeConfigCache::clear() {
  entries_.clear();
  order_.clear();
  bytes_ = 0;
}

std::string redact_boot_token(std::string_view target) {
  std::string out(target.substr(0, 200));
  const std::string key = std::string(kBootTokenKey) + "=";
  for (auto at = out.find(key); at != std::string::npos; at = out.find(key, at + 1)) {
    if (at > 0 && out[at - 1] != '/' && out[at - 1] != '?' && out[at - 1] != '&') continue;
    const auto from = at + key.size();
    const auto end = out.find_first_of("/&", from);
    out.replace(from, end == std::string::npos ? std::string::npos : end - from, "-");
  }
  return out;
}

}  // namespace ramfleet::boot
