// `ramfleet cluster init|show|node`: the cluster's PKI and node identities.
// `ramfleet cluster approve|approvals|revoke-approval`: the operator's approval
// of control-plane members (a member that never booted gets CA keys only once approved).
// `ramfleet check` also validates cluster.yaml through the checker registered here.
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/config_checks.hpp"
#include "kube/approval.hpp"
#include "kube/cluster_spec.hpp"
#include "kube/names.hpp"
#include "kube/node_identity.hpp"
#include "kube/pki.hpp"
#include "kube/secret_files.hpp"
#include "kube/tokens.hpp"
#include "settings/serve_settings.hpp"

namespace ramfleet::cli {

namespace {

namespace fs = std::filesystem;

int run_init(const std::string& config, const std::string& state, bool quiet) {
  fs::path file = fs::path(config) / kube::kClusterSpecFile;
  auto loaded = kube::load_cluster_spec(file);
  for (const auto& d : loaded.diagnostics) std::cerr << d.str() << "\n";
  if (!loaded.spec) return 1;
  auto report = kube::init_cluster(*loaded.spec, state);
  std::size_t created = 0;
  for (const auto& item : report) {
    if (item.created) ++created;
    if (!quiet) std::cout << (item.created ? "created " : "kept    ") << item.path << "\n";
  }
  std::cout << "cluster " << loaded.spec->name << ": " << created << " created, " << report.size() - created
            << " kept, state in " << state << "\n";
  return 0;
}

nlohmann::json cert_json(const fs::path& state, const std::string& base) {
  const auto pem = kube::read_file(state / (base + ".crt"));
  if (!pem)
    throw kube::StateError((state / (base + ".crt")).string() + " is missing: run `ramfleet cluster init` again");
  auto cert = kube::certificate_from_pem(*pem);
  auto expires = std::chrono::duration_cast<std::chrono::seconds>(kube::not_after(*cert).time_since_epoch()).count();
  return {{"file", base + ".crt"}, {"subject", kube::subject_common_name(*cert)}, {"notAfterUnix", expires}};
}

int run_show(const std::string& state, bool json) {
  const auto info = kube::load_cluster_info(state);
  const auto ca = kube::certificate_from_pem(kube::read_file_or_throw(fs::path(state) / "pki/ca.crt"));
  nlohmann::json out{{"name", info.name},
                     {"server", info.server},
                     {"distribution", std::string(kube::to_string(info.distribution))},
                     {"kubernetesVersion", info.kubernetes_version},
                     {"discoveryTokenCaCertHash", kube::discovery_hash(*ca)}};
  out["certificates"] = nlohmann::json::array();
  for (const char* base :
       {kube::paths::kCa, kube::paths::kFrontProxyCa, kube::paths::kEtcdCa, kube::paths::kKubeletServingCa,
        kube::paths::kApiserver, kube::paths::kApiserverKubeletClient, kube::paths::kApiserverEtcdClient,
        kube::paths::kFrontProxyClient, kube::paths::kEtcdHealthcheckClient}) {
    out["certificates"].push_back(cert_json(state, base));
  }
  const auto now = kube::Clock::now();
  out["tokens"] = nlohmann::json::array();
  for (const auto& t : kube::TokenStore(state).valid(now)) {
    // Only the public half: the id names the token without granting anything.
    out["tokens"].push_back(
        {{"id", t.id},
         {"expiresInSeconds", std::chrono::duration_cast<std::chrono::seconds>(t.expires - now).count()},
         {"description", t.description}});
  }
  std::error_code ec;
  out["nodes"] = nlohmann::json::array();
  for (const auto& entry : fs::directory_iterator(fs::path(state) / "nodes", ec)) {
    const auto name = entry.path().filename().string();
    if (!name.starts_with(".")) out["nodes"].push_back(name);
  }
  if (json) {
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  std::cout << "cluster:        " << info.name << "\n"
            << "distribution:   " << kube::to_string(info.distribution) << " " << info.kubernetes_version << "\n"
            << "endpoint:       " << info.server << "\n"
            << "discovery hash: " << out["discoveryTokenCaCertHash"].get<std::string>() << "\n"
            << "certificates:\n";
  for (const auto& c : out["certificates"]) {
    auto days = (c["notAfterUnix"].get<long long>() -
                 std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count()) /
                86400;
    std::cout << "  " << c["file"].get<std::string>() << "  CN=" << c["subject"].get<std::string>() << "  expires in "
              << days << " days\n";
  }
  std::cout << "valid bootstrap tokens: " << out["tokens"].size() << "\n"
            << "nodes with an identity: " << out["nodes"].size() << "\n";
  return 0;
}

int run_node(const std::string& state, const std::string& hostname, const std::vector<std::string>& ips) {
  auto id = kube::node_identity(state, hostname, ips);
  nlohmann::json out{{"hostname", id.hostname},
                     {"machineId", id.machine_id},
                     {"ips", id.ips},
                     {"kubeletClientCert", id.kubelet_client_cert},
                     {"kubeletClientKey", id.kubelet_client_key},
                     {"kubeletServingCert", id.kubelet_serving_cert},
                     {"kubeletServingKey", id.kubelet_serving_key},
                     {"kubeletKubeconfig", id.kubelet_kubeconfig},
                     {"k3sNodePassword", id.k3s_node_password},
                     {"sshHostEd25519Key", id.ssh_host_ed25519_key},
                     {"sshHostEd25519KeyPub", id.ssh_host_ed25519_key_pub}};
  std::cout << out.dump(2) << "\n";
  return 0;
}

// Who ran `cluster approve`, for the record in STATE/approved/<node>: the
// person behind sudo when there is one.
std::string current_operator() {
  for (const char* var : {"SUDO_USER", "USER", "LOGNAME"})
    if (const char* v = std::getenv(var); v && *v) return v;
  if (const passwd* pw = ::getpwuid(::getuid())) return pw->pw_name;
  return "uid " + std::to_string(::getuid());
}

// With --config: only an etcd member of cluster.yaml can be a control-plane
// member to approve, and its name must pass the node-name policy.
std::optional<std::string> approval_refusal(const std::string& config, const std::string& node) {
  const fs::path file = fs::path(config) / kube::kClusterSpecFile;
  auto loaded = kube::load_cluster_spec(file);
  for (const auto& d : loaded.diagnostics) std::cerr << d.str() << "\n";
  if (!loaded.spec) return "cannot load " + file.string();
  const auto& members = loaded.spec->etcd_members;
  if (std::none_of(members.begin(), members.end(), [&](const auto& m) { return m.name == node; })) {
    std::string names;
    for (const auto& m : members) names += (names.empty() ? "" : ", ") + m.name;
    return "\"" + node + "\" is not an etcd member in " + file.string() + " (members: " + names +
           "); only control-plane members need approval, and a new member is added to etcd.members first";
  }
  return kube::node_name_refusal(*loaded.spec, node, kube::Role::control_plane);
}

int run_approve(const std::string& config, const std::string& state, const std::string& node, std::string by) {
  if (!kube::is_dns_subdomain(node)) {
    std::cerr << "ramfleet: error: node name \"" << node << "\" is not a lowercase DNS name\n";
    return 2;
  }
  if (!config.empty()) {
    if (auto why = approval_refusal(config, node)) {
      std::cerr << "ramfleet: error: refusing to approve: " << *why << "\n";
      return 1;
    }
  }
  kube::load_cluster_info(state);  // refuse to approve for no cluster (a mistyped --state)
  if (by.empty()) by = current_operator();
  const bool again = kube::node_approved(state, node);
  kube::approve_node(state, node, by);
  std::cout << (again ? "re-approved " : "approved ") << node << " (by " << by
            << "): it may receive the cluster's CA keys"
            << " when it boots as a control-plane member\n";
  return 0;
}

int run_approvals(const std::string& state) {
  for (const auto& node : kube::approved_nodes(state)) std::cout << node << "\n";
  return 0;
}

int run_revoke(const std::string& state, const std::string& node) {
  if (!kube::is_dns_subdomain(node)) {
    std::cerr << "ramfleet: error: node name \"" << node << "\" is not a lowercase DNS name\n";
    return 2;
  }
  if (kube::revoke_approval(state, node)) {
    std::cout << "revoked the approval of " << node
              << " (keys it already received stay valid: rotate the CAs to take them back)\n";
    return 0;
  }
  std::cerr << "ramfleet: error: " << node << " was not approved\n";
  return 1;
}

void add_cluster_command(CLI::App& app, CommandTable& commands) {
  auto* cluster = app.add_subcommand("cluster", "Kubernetes cluster PKI and node identities");
  cluster->require_subcommand(1);

  struct Options {
    std::string config, state, hostname, by;
    std::vector<std::string> ips;
    bool quiet = false, json = false;
  };
  auto o = std::make_shared<Options>();

  auto* init = cluster->add_subcommand("init", "Create the cluster's CAs, certificates and kubeconfigs (idempotent)");
  init->add_option("--config", o->config, "config directory holding cluster.yaml")->required();
  init->add_option("--state", o->state, "state directory for keys and certificates (created 0700)")->required();
  init->add_flag("-q,--quiet", o->quiet, "print only the summary");
  commands.emplace_back(init, [o] { return run_init(o->config, o->state, o->quiet); });

  auto* show = cluster->add_subcommand("show", "Summarise the cluster's PKI, tokens and nodes (no secrets)");
  show->add_option("--state", o->state, "state directory")->required();
  show->add_flag("--json", o->json, "machine-readable output");
  commands.emplace_back(show, [o] { return run_show(o->state, o->json); });

  auto* node = cluster->add_subcommand("node", "Print a node's identity as JSON, issuing it on first use (secrets!)");
  node->add_option("hostname", o->hostname, "node name")->required();
  node->add_option("--ip", o->ips, "node address for the kubelet serving certificate (repeatable)");
  node->add_option("--state", o->state, "state directory")->required();
  commands.emplace_back(node, [o] { return run_node(o->state, o->hostname, o->ips); });

  // Approvals live in the state directory `serve` uses, so its default is serve's.
  const std::string default_state = settings::ServeSettings{}.state_dir.string();
  auto* approve = cluster->add_subcommand("approve",
                                          "Approve a control-plane member to receive the cluster's CA keys at its "
                                          "first boot");
  approve->add_option("node", o->hostname, "node name (an etcd member)")->required();
  approve->add_option("--state", o->state, "state directory")->default_str(default_state);
  approve->add_option("--config", o->config, "config directory: refuse names that are not etcd members");
  approve->add_option("--by", o->by, "who approves, for the record (default: $SUDO_USER or $USER)");
  commands.emplace_back(approve, [o, default_state] {
    return run_approve(o->config, o->state.empty() ? default_state : o->state, o->hostname, o->by);
  });

  auto* approvals = cluster->add_subcommand("approvals", "List approved control-plane members");
  approvals->add_option("--state", o->state, "state directory")->default_str(default_state);
  commands.emplace_back(approvals,
                        [o, default_state] { return run_approvals(o->state.empty() ? default_state : o->state); });

  auto* revoke = cluster->add_subcommand("revoke-approval", "Withdraw a control-plane member's approval");
  revoke->add_option("node", o->hostname, "node name")->required();
  revoke->add_option("--state", o->state, "state directory")->default_str(default_state);
  commands.emplace_back(
      revoke, [o, default_state] { return run_revoke(o->state.empty() ? default_state : o->state, o->hostname); });
}

Diagnostics check_cluster_spec(const fs::path& dir) { return kube::validate_cluster_spec(dir); }

const CommandRegistration kRegistration{50, add_cluster_command};
const ConfigCheckRegistration kCheck{"cluster", check_cluster_spec};

}  // namespace

}  // namespace ramfleet::cli
