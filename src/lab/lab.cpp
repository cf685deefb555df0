#include "lab/lab.hpp"

#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <thread>

#include "lab/assets.hpp"
#include "lab/etcd_probe.hpp"
#include "lab/lab_config.hpp"
#include "lab/lab_state.hpp"
#include "lab/netns.hpp"
#include "lab/process.hpp"
#include "lab/progress.hpp"
#include "lab/text.hpp"
#include "lab/watch.hpp"
#include "net/api_client.hpp"

namespace ramfleet::lab {
using net::http_get;

namespace {

volatile std::sig_atomic_t g_stop_signal = 0;
void on_signal(int signo) { g_stop_signal = signo; }

constexpr const char* kBridge = "br0";
constexpr const char* kOvmfCode = "/usr/share/OVMF/OVMF_CODE_4M.fd";
constexpr const char* kOvmfVars = "/usr/share/OVMF/OVMF_VARS_4M.fd";

// A step of `lab up` that cannot go on: what happened, and the exit code.
struct StepFailed : std::runtime_error {
  int code;
  explicit StepFailed(const std::string& why, int c = 1) : std::runtime_error(why), code(c) {}
};

void stop_if_interrupted() {
  if (g_stop_signal) throw StepFailed("interrupted (signal " + std::to_string(g_stop_signal) + ")", 130);
}

// Stops everything recorded in `s`. Prints what it removed; true if nothing is left.
bool teardown(LabState& s, bool quiet) {
  bool ok = true;
  for (const auto& vm : s.vms) ok = stop_process(vm, std::chrono::milliseconds(2000)) && ok;
  if (s.serve) ok = stop_process(*s.serve, std::chrono::milliseconds(5000)) && ok;
  if (!s.ns.empty() && !delete_namespace(s.ns)) {
    std::cerr << "lab: could not delete network namespace " << s.ns << "\n";
    ok = false;
  }
  if (!quiet && (!s.ns.empty() || s.serve || !s.vms.empty()))
    std::cerr << "lab: stopped " << s.vms.size() << " VM(s)" << (s.serve ? " and ramfleet" : "")
              << ", removed namespace " << s.ns << " (bridge and taps with it)\n";
  if (ok) std::filesystem::remove(state_file(s.dir));
  return ok;
}

std::vector<std::string> qemu_argv(const NodeSpec& n, const UpOptions& o, const std::filesystem::path& logs) {
  const bool etcd = o.cluster == "etcd";
  std::vector<std::string> a{"qemu-system-x86_64",
                             "-name",
                             "ramfleet-lab-" + n.name,
                             "-machine",
                             "q35",
                             "-accel",
                             "tcg",
                             "-m",
                             std::to_string(o.memory_mb > 0 ? o.memory_mb : default_memory_mb(o.image, etcd)),
                             "-smp",
                             std::to_string(o.cpus > 0 ? o.cpus : default_cpus(o.image)),
                             "-display",
                             "none",
                             "-monitor",
                             "none",
                             "-no-reboot",
                             "-serial",
                             "file:" + (logs / (n.name + "-serial.log")).string(),
                             "-netdev",
                             "tap,id=n0,ifname=" + n.tap + ",script=no,downscript=no"};
  if (n.firmware == "uefi") {
    auto vars = logs / (n.name + "-OVMF_VARS.fd");
    std::filesystem::copy_file(kOvmfVars, vars, std::filesystem::copy_options::overwrite_existing);
    a.insert(a.end(), {"-drive", std::string("if=pflash,format=raw,unit=0,readonly=on,file=") + kOvmfCode, "-drive",
                       "if=pflash,format=raw,unit=1,file=" + vars.string(), "-device",
                       // romfile= disables the NIC's iPXE ROM: OVMF's own PXE
                       // must fetch iPXE over TFTP, as a real UEFI machine does.
                       "virtio-net-pci,netdev=n0,mac=" + n.mac + ",bootindex=1,romfile="});
  } else {
    a.insert(a.end(), {"-device", "virtio-net-pci,netdev=n0,mac=" + n.mac + ",bootindex=1", "-boot", "n"});
  }
  return a;
}

std::string self_exe() { return std::filesystem::read_symlink("/proc/self/exe").string(); }

// ---- the steps of `lab up`, in order ----------------------------------------

// One `lab up`: what every step reads and adds to.
struct UpRun {
  const UpOptions& o;
  std::filesystem::path config, logs, state_dir;
  LabState st;
  int original_ns = -1;
  Clock::time_point start_all = Clock::now();
  Clock::time_point first_vm_start;
  std::optional<EtcdClientCert> etcd_cert;
};

// 1. A previous lab in the same --dir is removed (by what its lab.json
// recorded); its state and logs go, its config dir is rewritten below.
void reset_lab_dir(UpRun& r) {
  std::filesystem::create_directories(r.o.dir);
  if (auto old = load_state(r.o.dir)) {
    std::cerr << "lab: removing the previous lab recorded in " << r.o.dir.string() << "\n";
    if (!teardown(*old, false)) throw StepFailed("could not remove the previous lab");
  }
  std::filesystem::remove_all(r.state_dir);
  std::filesystem::remove_all(r.logs);
  std::filesystem::create_directories(r.logs);
}

// 3. ramfleet's config directory: ramfleet.yaml, profile, groups; for an etcd
// cluster also cluster.yaml, then `cluster init` and the operator's approval
// of each member (docs/cluster.md: a control-plane member's config carries
// CA keys, so ramfleet serves it only to a node the operator approved).
void write_config(UpRun& r, const Prepared& assets) {
  r.st.nodes = plan_nodes(r.o.nodes, r.o.firmware);
  r.st.cluster = r.o.cluster;
  ProfileAssets profile{assets.kernel_asset, assets.image_asset,  r.o.image, {}, {},
                        assets.delivery,     assets.config_layers};
  if (!assets.stage1_asset.empty()) {  // --stage1 stream
    profile.initrd = assets.stage1_asset;
    profile.root_image = assets.image_asset;
    profile.root_sha256 = r.o.stage1_sha256.empty() ? assets.image_id : r.o.stage1_sha256;
    profile.p2p_seed = r.o.p2p_seed;
  }
  write_lab_config(r.config, r.st.nodes, profile);
  std::filesystem::remove(r.config / "cluster.yaml");
  if (r.o.cluster != "etcd") return;

  auto t0 = Clock::now();
  write_text_file(r.config / "cluster.yaml", lab_cluster_yaml(r.st.nodes, r.o.etcd_snapshot_interval));
  auto run = [&](const std::vector<std::string>& argv, const std::string& what) {
    auto res = run_command(argv, std::chrono::seconds{120});
    if (res.status != 0) throw StepFailed(what + " failed:\n" + res.output);
  };
  run({self_exe(), "cluster", "init", "--config", r.config.string(), "--state", r.state_dir.string(), "-q"},
      "ramfleet cluster init");
  for (const auto& n : r.st.nodes)
    run({self_exe(), "cluster", "approve", n.name, "--config", r.config.string(), "--state", r.state_dir.string(),
         "--by", "ramfleet-lab"},
        "ramfleet cluster approve " + n.name);
  r.etcd_cert = etcd_client_cert(r.state_dir);
  if (!r.etcd_cert) throw StepFailed("cluster init made no etcd client certificate in " + r.state_dir.string());
  std::cerr << "lab: cluster.yaml with " << r.st.nodes.size() << " etcd members, PKI issued and members approved in "
            << std::fixed << std::setprecision(1) << seconds_since(t0) << " s (client certificate "
            << r.etcd_cert->cert.string() << ")\n";
}

// 4. The namespace with its bridge and taps, and `ramfleet serve` inside it,
// waited for on /healthz. Leaves this process inside the namespace.
void start_network_and_server(UpRun& r) {
  r.st.ns = "rflab" + std::to_string(::getpid());
  save_state(r.st);  // before the namespace exists: a crash from here on is recoverable
  create_namespace(r.st.ns);
  add_bridge(r.st.ns, kBridge, r.st.server_ip + "/24");
  for (const auto& n : r.st.nodes) add_tap(r.st.ns, n.tap, kBridge);
  r.original_ns = enter_namespace(r.st.ns);

  r.st.serve = spawn_detached(
      {self_exe(), "--log-level", "debug", "serve", "--config", r.config.string(), "--state", r.state_dir.string()},
      r.logs / "ramfleet.log", "ramfleet serve");
  save_state(r.st);
  for (int i = 0; i < 200; ++i) {  // 20 s
    stop_if_interrupted();
    int status = 0;
    if (child_exited(r.st.serve->pid, &status))
      throw StepFailed("ramfleet serve exited (" + std::to_string(status) + "):\n" +
                       tail_lines(read_file(r.logs / "ramfleet.log"), 15));
    auto h = http_get(r.st.server_ip, r.st.http_port, "/healthz", 500);
    if (h && h->status == 200) {
      std::cerr << "lab: ramfleet serving on " << kBridge << " " << r.st.server_ip << " in namespace " << r.st.ns
                << " (log " << (r.logs / "ramfleet.log").string() << ")\n";
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  throw StepFailed("ramfleet serve did not answer /healthz within 20 s; see " + (r.logs / "ramfleet.log").string());
}

// 5. One QEMU per node, each recorded in lab.json as soon as it exists.
void start_vms(UpRun& r) {
  for (const auto& n : r.st.nodes) {
    r.st.vm_argv.push_back(qemu_argv(n, r.o, r.logs));
    r.st.vms.push_back(spawn_detached(r.st.vm_argv.back(), r.logs / (n.name + "-qemu.log"), "qemu " + n.name));
    if (r.st.vms.size() == 1) r.first_vm_start = Clock::now();
    save_state(r.st);
  }
}

// 6. Progress per node until every one is ready (and, in an etcd cluster, a
// healthy voting member).
void watch_nodes(UpRun& r, std::vector<NodeProgress>& out) {
  std::vector<WatchedNode> watched;
  for (std::size_t i = 0; i < r.st.nodes.size(); ++i) watched.push_back({i, 0, 0});
  BootWatch watch(r.st, watched, r.etcd_cert);
  auto outcome = watch.run(r.first_vm_start, r.o.timeout_s, [] { return g_stop_signal != 0; });
  if (outcome.code != 0) throw StepFailed(outcome.why, outcome.code);
  out = watch.progress();
}

// 7. What the operator wants to see once it is up.
void print_summary(const UpRun& r, const std::vector<NodeProgress>& progress) {
  std::printf("lab: %zu/%zu nodes ready in %.1f s (from the first VM start; %.1f s including set-up)\n",
              progress.size(), progress.size(), seconds_since(r.first_vm_start), seconds_since(r.start_all));
  for (const auto& n : progress)
    std::printf("  %-8s %-12s ready at %5.1f s, node uptime %.1f s, / uses %lld bytes  %s\n", n.spec.name.c_str(),
                n.spec.ip.c_str(), n.at[static_cast<std::size_t>(Phase::ready)].value_or(0), n.uptime.value_or(0),
                n.root_bytes.value_or(0), n.ready_message.c_str());
  if (r.etcd_cert) {
    double last = 0;
    for (const auto& n : progress) last = std::max(last, n.at[static_cast<std::size_t>(Phase::etcd)].value_or(0));
    std::printf("lab: etcd cluster of %zu voting members healthy %.1f s after the first VM start\n", progress.size(),
                last);
    std::string cmd;
    for (const auto& a : etcdctl_args(r.st.nodes, *r.etcd_cert)) cmd += a + " ";
    std::printf("lab: ask it with: ip netns exec %s %sendpoint health --cluster\n", r.st.ns.c_str(), cmd.c_str());
  }
  std::printf(
      "lab: API http://%s:%d/api/v1/machines inside namespace %s; logs in %s\n"
      "lab: remove it with: ramfleet lab down --dir %s\n",
      r.st.server_ip.c_str(), r.st.http_port, r.st.ns.c_str(), r.logs.c_str(), r.o.dir.c_str());
}

}  // namespace

int default_memory_mb(const std::string& image, bool etcd) {
  if (image == "debian") return 2048;
  // etcd's two binaries are ~40 MB of the image, held twice while stage 1
  // copies it into the tmpfs, and etcd itself wants ~100 MB.
  return etcd ? 768 : 512;
}
int default_cpus(const std::string& image) { return image == "debian" ? 2 : 1; }

int lab_up(const UpOptions& o) {
  g_stop_signal = 0;
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);

  UpRun r{o, o.dir / "config", o.dir / "logs", o.dir / "state", {}, -1, Clock::now(), {}, std::nullopt};
  r.st.dir = o.dir;
  r.st.server_ip = std::string(kLabNetwork) + ".1";
  r.st.http_port = 80;
  std::vector<NodeProgress> progress;
  try {
    reset_lab_dir(r);
    // 2. Kernel and image (nothing to clean up yet when this fails).
    Prepared assets;
    try {
      assets = prepare_assets(o, r.config / "assets");
    } catch (const std::exception& e) {
      std::cerr << "lab up: preparing kernel and image failed: " << e.what() << "\n";
      return 1;
    }
    if (g_stop_signal) return 130;
    write_config(r, assets);
    stop_if_interrupted();
    start_network_and_server(r);
    start_vms(r);
    watch_nodes(r, progress);
  } catch (const std::exception& e) {
    const auto* step = dynamic_cast<const StepFailed*>(&e);
    std::cerr << "lab up: " << e.what() << "\n";
    leave_namespace(r.original_ns);
    teardown(r.st, false);
    std::cerr << "lab up: logs kept in " << r.logs.string() << "\n";
    return step ? step->code : 1;
  }
  leave_namespace(r.original_ns);
  print_summary(r, progress);
  return 0;
}

int lab_reboot(const std::filesystem::path& dir, const std::vector<std::string>& names, int timeout_s) {
  auto s = load_state(dir);
  if (!s) {
    std::cerr << "lab reboot: no lab recorded in " << dir.string() << "\n";
    return 1;
  }
  std::vector<std::size_t> indexes;
  for (const auto& name : names) {
    std::size_t i = 0;
    while (i < s->nodes.size() && s->nodes[i].name != name) ++i;
    if (i == s->nodes.size() || i >= s->vms.size() || i >= s->vm_argv.size()) {
      std::cerr << "lab reboot: no node '" << name << "' in the lab\n";
      return 1;
    }
    indexes.push_back(i);
  }
  auto logs = dir / "logs";
  int original_ns = -1;
  try {
    original_ns = enter_namespace(s->ns);
  } catch (const std::exception& e) {
    std::cerr << "lab reboot: " << e.what() << "\n";
    return 1;
  }
  std::optional<EtcdClientCert> etcd;
  if (s->cluster == "etcd") etcd = etcd_client_cert(dir / "state");
  std::vector<WatchedNode> watched;
  watched.reserve(indexes.size());
  for (auto i : indexes) watched.push_back(BootWatch::baseline(*s, i));
  // A power cycle, as a diskless machine gets it: nothing in RAM survives.
  // All the named nodes at once (a power cut, when that is all of them).
  for (auto i : indexes) stop_process(s->vms[i], std::chrono::milliseconds(2000));
  auto start = Clock::now();
  std::string who;
  for (auto i : indexes) {
    const auto& n = s->nodes[i];
    std::error_code ec;  // QEMU truncates its serial file: keep the previous boot's
    std::filesystem::rename(logs / (n.name + "-serial.log"), logs / (n.name + "-serial.log.1"), ec);
    s->vms[i] = spawn_detached(s->vm_argv[i], logs / (n.name + "-qemu.log"), "qemu " + n.name);
    save_state(*s);
    who += (who.empty() ? "" : ", ") + n.name;
  }
  std::cerr << "lab: " << who << " power-cycled, waiting for " << (indexes.size() > 1 ? "them" : "it")
            << " to report ready" << (etcd ? " and to be voting etcd members again" : "") << "\n";
  BootWatch watch(*s, watched, etcd);
  auto outcome = watch.run(start, timeout_s, [] { return false; });
  leave_namespace(original_ns);
  if (outcome.code != 0) {
    std::cerr << "lab reboot: " << outcome.why << "\n";
    return outcome.code;
  }
  for (const auto& n : watch.progress()) {
    std::printf("lab: %s ready again %.1f s after the reboot", n.spec.name.c_str(),
                n.at[static_cast<std::size_t>(Phase::ready)].value_or(0));
    if (etcd)
      std::printf(", a voting etcd member again after %.1f s", n.at[static_cast<std::size_t>(Phase::etcd)].value_or(0));
    std::printf("\n");
  }
  return 0;
}

int lab_down(const std::filesystem::path& dir) {
  auto s = load_state(dir);
  if (!s) {
    std::cerr << "lab down: no lab recorded in " << dir.string() << " (nothing to do)\n";
    return 0;
  }
  return teardown(*s, false) ? 0 : 1;
}

}  // namespace ramfleet::lab
