// libFuzzer target: arbitrary bytes as the machine layer of a node config,
// alone or merged over a fixed cluster layer, compiled for each target (the
// first byte chooses).
// Invariants checked (a violation aborts): no crash or sanitizer report; an
// output exists exactly when there is no error (never a partial config); a
// compiled Ignition config is valid JSON; every diagnostic names one of the
// layers (or the compiler's own inputs) and a line/column >= 0.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "config/compile.hpp"

using namespace ramfleet::config;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

const char* const kCluster = R"(variant: fcos
version: 1.4.0
storage:
  files:
    - path: /etc/motd
      contents: {inline: "cluster {{cluster.name}}\n"}
  directories:
    - path: /var/lib/data
systemd:
  units:
    - name: app.service
      enabled: true
passwd:
  users:
    - name: core
      ssh_authorized_keys: [ssh-ed25519 AAAA cluster]
)";

const Variables& variables() {
  static const Variables vars = [] {
    MachineVariables f;
    f.hostname = "node-1";
    f.mac = "52:54:00:00:00:01";
    f.ip = "10.0.0.1";
    f.labels = {{"role", "worker"}};
    f.group = {{"dc", "par1"}};
    f.cluster = {{"name", "alpha"}};
    return machine_variables(f);
  }();
  return vars;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // A few hundred bytes of YAML reach every section; longer inputs only make
  // each iteration slower (the default test run does 200000 of them).
  size = std::min<std::size_t>(size, 640);
  // The first byte picks the target and whether the cluster layer comes
  // first (merge paths), so one iteration is one compile: cheap enough for
  // the bounded run in the default test suite, and every target is reached.
  const Target targets[] = {Target::ignition, Target::cloud_config, Target::apkovl};
  const Target target = targets[data[0] % 3];
  std::vector<LayerSource> layers;
  if ((data[0] & 4U) != 0) layers.push_back({"cluster.bu", kCluster});
  layers.push_back({"machine.bu", std::string(reinterpret_cast<const char*>(data) + 1, size - 1)});
  {
    CompileResult r = compile_machine(layers, variables(), target);
    bool error = false;
    for (const auto& d : r.diagnostics) {
      error = error || d.severity == ramfleet::Diagnostic::Severity::error;
      check(!d.file.empty());
    }
    check(r.ok() != error);
    if (!r.ok()) return 0;
    check(!r.output->empty() && r.etag.size() == 64);
    if (target == Target::ignition) check(nlohmann::json::accept(*r.output));
  }
  return 0;
}
