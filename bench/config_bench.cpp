// Node config compile benchmark: a generated 1,000-machine inventory (30
// groups: 10 racks x 3 OS families, cluster -> role -> group -> machine layers,
// one machine layer per machine), and for every machine the work the server
// does on a cache miss: select the group, plan the layers and variables, read
// the layer files, parse, merge, validate and render (Ignition, cloud-config
// or apkovl). Prints configs/s per target, the cached lookup rate, and the
// process's max RSS. Nothing leaves the machine; the temp dir is removed.
//
// Usage: config_bench [machines=1000] [rounds=3]
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "boot/load_inventory.hpp"
#include "boot/node_config.hpp"
#include "inventory/matcher.hpp"

namespace fs = std::filesystem;
namespace inv = ramfleet::inventory;
using Clock = std::chrono::steady_clock;

namespace {

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

double max_rss_mib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;  // Linux: KiB
}

std::string mac_of(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "52:54:00:%02x:%02x:%02x", (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff);
  return buf;
}

const char* const kOs[] = {"flatcar", "ubuntu", "alpine"};
const char* const kTarget[] = {"ignition", "cloud-config", "apkovl"};

void generate(const fs::path& dir, int machines) {
  std::string cluster = "variant: fcos\nversion: 1.4.0\nstorage:\n  files:\n";
  for (int f = 0; f < 8; ++f) {
    cluster += "    - path: /etc/ramfleet/cluster-" + std::to_string(f) +
               ".conf\n      mode: 0644\n      contents:\n        inline: |\n          cluster={{cluster.name}}\n"
               "          host={{hostname}} mac={{mac}} ip={{ip}}\n          rack={{labels.rack}} "
               "dc={{group.dc}}\n";
  }
  cluster +=
      "  directories:\n    - path: /var/lib/ramfleet\n      mode: 0700\n  links:\n    - path: /etc/localtime\n"
      "      target: /usr/share/zoneinfo/UTC\npasswd:\n  users:\n    - name: ops\n      uid: 1000\n"
      "      ssh_authorized_keys: [\"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOps ops@bench\"]\n";
  write(dir / "configs/cluster.bu", cluster);
  write(dir / "configs/roles/worker.bu",
        "storage:\n  files:\n    - path: /etc/ramfleet/role\n      contents: {inline: \"worker\\n\"}\n"
        "systemd:\n  units:\n    - name: kubelet.service\n      enabled: true\n      contents: |\n"
        "        [Service]\n        ExecStart=/usr/bin/kubelet --node-ip={{ip}} --hostname-override={{hostname}}\n"
        "        [Install]\n        WantedBy=multi-user.target\n      dropins:\n        - name: 10-env.conf\n"
        "          contents: \"[Service]\\nEnvironment=RACK={{labels.rack}}\\n\"\n");
  write(dir / "configs/roles/alpine.bu",
        "storage:\n  files:\n    - path: /etc/init.d/agent\n      mode: 0755\n      contents:\n"
        "        inline: \"#!/sbin/openrc-run\\ncommand=/usr/bin/agent\\n\"\n"
        "systemd:\n  units:\n    - name: agent.service\n      enabled: true\n    - name: sshd.service\n"
        "      enabled: true\n");
  for (int r = 0; r < 10; ++r) {
    write(dir / ("configs/groups/rack" + std::to_string(r) + ".bu"),
          "storage:\n  files:\n    - path: /etc/ramfleet/rack\n      contents: {inline: \"rack " + std::to_string(r) +
              " of {{cluster.name}}\\n\"}\n");
  }
  for (int os = 0; os < 3; ++os) {
    const std::string role = os == 2 ? "roles/alpine.bu" : "roles/worker.bu";
    write(dir / ("profiles/" + std::string(kOs[os]) + ".yaml"),
          "kernel: vmlinuz\nargs: [\"config={{config_url}}\"]\nconfig:\n  target: " + std::string(kTarget[os]) +
              "\n  layers: [cluster.bu, " + role +
              "]\n  machine_layers:\n    - {path: \"machines/{{mac_hyphen}}.bu\", optional: true}\n");
    for (int r = 0; r < 10; ++r) {
      const std::string id = std::string(kOs[os]) + "-rack" + std::to_string(r);
      write(dir / ("groups/" + id + ".yaml"),
            "profile: " + std::string(kOs[os]) + "\nselector:\n  mac: \"52:54:00:*\"\n  labels: {rack: r" +
                std::to_string(r) + ", os: " + kOs[os] + "}\nmetadata: {dc: par1}\nconfig: {layers: [groups/rack" +
                std::to_string(r) + ".bu]}\n");
    }
  }
  for (int i = 0; i < machines; ++i) {
    auto hy = mac_of(i);
    for (auto& c : hy)
      if (c == ':') c = '-';
    write(dir / ("configs/machines/" + hy + ".bu"),
          "storage:\n  files:\n    - path: /etc/hostname\n      contents: {inline: \"{{hostname}}\\n\"}\n"
          "    - path: /etc/ramfleet/rack\n      append: [{inline: \"machine " +
              std::to_string(i) + "\\n\"}]\n");
  }
  write(dir / "inventory.yaml", "default: exit\ncluster: {name: bench}\n");
}

inv::MachineFacts facts_for(int i, int os) {
  auto fr = inv::facts_from_params({{"mac", mac_of(i)},
                                    {"hostname", "node-" + std::to_string(i)},
                                    {"rack", "r" + std::to_string(i % 10)},
                                    {"os", kOs[os]}});
  return fr.facts;
}

}  // namespace

int main(int argc, char** argv) {
  const int machines = argc > 1 ? std::atoi(argv[1]) : 1000;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 3;
  const fs::path dir = fs::temp_directory_path() / ("rf-config-bench-" + std::to_string(::getpid()));
  generate(dir, machines);
  const double rss_start = max_rss_mib();

  auto t0 = Clock::now();
  auto loaded = boot::load_inventory(dir);
  const double load_s = std::chrono::duration<double>(Clock::now() - t0).count();
  if (!loaded.inventory) {
    for (const auto& d : loaded.diagnostics) std::fprintf(stderr, "%s\n", d.str().c_str());
    fs::remove_all(dir);
    return 1;
  }
  const auto& inventory = *loaded.inventory;
  std::printf("config_bench: %d machines, 30 groups, %d rounds; inventory load %.1f ms (with %d layer files)\n",
              machines, rounds, load_s * 1e3, machines + 15);
  std::printf("%-13s %10s %12s %12s %10s\n", "target", "configs", "configs/s", "us/config", "bytes");

  int failures = 0;
  ramfleet::boot::NodeConfigCache cache(1U << 20U, 1U << 30U);
  std::vector<inv::NodeConfigPlan> plans;
  for (int os = 0; os < 3; ++os) {
    double best = 1e9;
    std::size_t bytes = 0;
    for (int round = 0; round < rounds; ++round) {
      auto start = Clock::now();
      for (int i = 0; i < machines; ++i) {
        const auto facts = facts_for(i, os);
        const auto d = inv::decide(inventory, facts);
        auto target = ramfleet::config::parse_target(kTarget[os]);
        auto pr = ramfleet::boot::plan_node_config(inventory, d.group, *d.profile, facts, *target,
                                                   {"http://10.0.0.1", "10.0.0." + std::to_string(i % 250 + 2)});
        if (!pr.plan) {
          ++failures;
          continue;
        }
        auto r = ramfleet::boot::compile_node_config(*pr.plan);
        if (!r.ok()) {
          if (failures++ == 0) std::fprintf(stderr, "%s", ramfleet::config::format_diagnostics(r.diagnostics).c_str());
          continue;
        }
        bytes += r.output->size();
        if (round == 0) plans.push_back(std::move(*pr.plan));
      }
      best = std::min(best, std::chrono::duration<double>(Clock::now() - start).count());
    }
    std::printf("%-13s %10d %12.0f %12.1f %10zu\n", kTarget[os], machines, machines / best, best / machines * 1e6,
                bytes / static_cast<std::size_t>(machines * rounds));
  }
  // Serving path after the first request: every machine's config from the cache.
  for (const auto& p : plans) cache.get_or_compile(p);
  auto start = Clock::now();
  std::size_t hits = 0;
  for (int round = 0; round < 10; ++round) {
    for (const auto& p : plans) hits += cache.get_or_compile(p).hit ? 1 : 0;
  }
  const double cached_s = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("cached lookups: %zu hits of %zu, %.0f lookups/s; cache holds %zu configs, %.1f MiB\n", hits,
              plans.size() * 10, static_cast<double>(plans.size() * 10) / cached_s, cache.size(),
              static_cast<double>(cache.bytes()) / (1 << 20));
  std::printf("max RSS: %.1f MiB (%.1f MiB before loading the inventory)\n", max_rss_mib(), rss_start);
  fs::remove_all(dir);
  if (failures) std::fprintf(stderr, "config_bench: %d machines failed to compile\n", failures);
  return failures ? 1 : 0;
}
