#include "lab/lab.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <thread>

#include "image/image_builder.hpp"
#include "lab/lab_config.hpp"
#include "lab/lab_state.hpp"
#include "lab/netns.hpp"
#include "lab/process.hpp"
#include "lab/progress.hpp"
#include "net/api_client.hpp"

namespace ramfleet::lab {
using net::get_json;
using net::http_get;

namespace {

volatile std::sig_atomic_t g_stop_signal = 0;
void on_signal(int signo) { g_stop_signal = signo; }

constexpr const char* kBridge = "br0";
constexpr const char* kOvmfCode = "/usr/share/OVMF/OVMF_CODE_4M.fd";
constexpr const char* kOvmfVars = "/usr/share/OVMF/OVMF_VARS_4M.fd";

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string last_line(const std::string& s) {
  auto end = s.find_last_not_of("\n ");
  if (end == std::string::npos) return "";
  auto start = s.rfind('\n', end);
  return s.substr(start == std::string::npos ? 0 : start + 1, end - (start == std::string::npos ? 0 : start + 1) + 1);
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string tail_lines(const std::string& text, int n) {
  auto pos = text.size();
  for (int i = 0; i < n && pos > 0; ++i) {
    auto nl = text.rfind('\n', pos - 1);
    if (nl == std::string::npos) return text;
    pos = nl;
  }
  return text.substr(pos);
}

std::filesystem::path source_dir(const UpOptions& o) {
  if (!o.source_dir.empty()) return o.source_dir;
  if (const char* env = std::getenv("RAMFLEET_SOURCE_DIR"); env != nullptr && *env != '\0') return env;
  return RAMFLEET_SOURCE_DIR;
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
  if (!quiet)
    std::cerr << "lab: stopped " << s.vms.size() << " VM(s)" << (s.serve ? " and ramfleet" : "")
              << ", removed namespace " << s.ns << " (bridge and taps with it)\n";
  if (ok) std::filesystem::remove(state_file(s.dir));
  return ok;
}

constexpr const char* kWorkPrefix = "lab-work-";  // + the PID of the `lab up` that owns it

// Scratch roots of `lab up`s that died before removing theirs (SIGKILL).
void remove_stale_work_dirs(const std::filesystem::path& cache) {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(cache, ec)) {
    auto name = e.path().filename().string();
    if (name.rfind(kWorkPrefix, 0) != 0) continue;
    auto pid = name.substr(std::string(kWorkPrefix).size());
    if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) continue;
    if (!std::filesystem::exists("/proc/" + pid)) std::filesystem::remove_all(e.path(), ec);
  }
}

struct Prepared {
  std::string kernel_asset;
  std::string image_asset;
  std::string image_id;
  std::uint64_t image_bytes = 0;
  std::vector<ConfigLayer> ignition_layers;  // images that run Ignition: what the lab serves them
};

// Kernel package -> assets/kernels/<version>/vmlinuz; images/<image>/build-rootfs
// -> image; images/<image>/lab-node.bu (if any) -> the node's Ignition layer.
Prepared prepare_assets(const UpOptions& o, const std::filesystem::path& assets) {
  auto src = source_dir(o);
  Prepared p;
  auto t0 = Clock::now();
  auto k = run_command({(src / "scripts/build-node-kernel").string(), (o.cache_dir / "node-kernel").string()},
                       std::chrono::seconds{900});
  if (k.status != 0) throw std::runtime_error("scripts/build-node-kernel failed:\n" + k.output);
  std::filesystem::path kernel_dir = last_line(k.output);
  std::string version = last_line(read_file(kernel_dir / "version"));
  auto kdest = assets / "kernels" / version / "vmlinuz";
  std::filesystem::create_directories(kdest.parent_path());
  if (!std::filesystem::exists(kdest) ||
      std::filesystem::file_size(kdest) != std::filesystem::file_size(kernel_dir / "vmlinuz")) {
    auto tmp = kdest;
    tmp += ".tmp";
    std::filesystem::copy_file(kernel_dir / "vmlinuz", tmp, std::filesystem::copy_options::overwrite_existing);
    std::filesystem::rename(tmp, kdest);
  }
  p.kernel_asset = "kernels/" + version + "/vmlinuz";

  // The unpacked root is scratch: under the cache (on disk), not --dir, which
  // defaults to /run (a small tmpfs on most hosts; the Debian root is 260 MB).
  remove_stale_work_dirs(o.cache_dir);
  auto work = o.cache_dir / (std::string(kWorkPrefix) + std::to_string(::getpid()));
  struct RemoveOnExit {  // also when the build fails or is interrupted
    std::filesystem::path path;
    ~RemoveOnExit() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  } cleanup{work};
  auto rootfs = work / ("rootfs-" + o.image);
  auto builder = src / "images" / o.image / "build-rootfs";
  if (!std::filesystem::exists(builder))
    throw std::runtime_error("no image '" + o.image + "' (" + builder.string() + ")");
  std::cerr << "lab: kernel " << version << " ready in " << std::fixed << std::setprecision(1) << seconds_since(t0)
            << " s; building image " << o.image
            << (o.image == "debian" ? " (the first build bootstraps Debian, 1-2 min; cached after)" : "") << "\n";
  auto t1 = Clock::now();
  // Builders take OUT KERNEL_DIR CACHE_DIR (the cache keeps what is slow to
  // make, e.g. the Debian base root).
  auto b = run_command({builder.string(), rootfs.string(), kernel_dir.string(), o.cache_dir.string()},
                       std::chrono::seconds{1200});
  if (b.status != 0) throw std::runtime_error(builder.string() + " failed:\n" + b.output);
  double rootfs_s = seconds_since(t1);
  image::BuildOptions bo;
  bo.source = rootfs;
  bo.assets_dir = assets;
  bo.fixed_mtime = 0;  // same tree, same image id on every `lab up`
  auto built = image::build_image(bo);
  p.image_asset = built.asset_path;
  p.image_id = built.id;
  p.image_bytes = built.size;
  if (auto layer = src / "images" / o.image / "lab-node.bu"; std::filesystem::exists(layer))
    p.ignition_layers.push_back({o.image + "-node.bu", read_file(layer)});
  std::cerr << "lab: image " << o.image << " " << built.id.substr(0, 12) << " (" << built.size / 1024 << " KiB, "
            << built.entries << " entries, " << (built.cpio_size >> 20) << " MiB unpacked) in " << std::fixed
            << std::setprecision(1) << seconds_since(t1) << " s (root " << rootfs_s << " s, packing "
            << seconds_since(t1) - rootfs_s << " s)\n";
  return p;
}

std::vector<std::string> qemu_argv(const NodeSpec& n, const UpOptions& o, const std::filesystem::path& logs) {
  std::vector<std::string> a{"qemu-system-x86_64",
                             "-name",
                             "ramfleet-lab-" + n.name,
                             "-machine",
                             "q35",
                             "-accel",
                             "tcg",
                             "-m",
                             std::to_string(o.memory_mb > 0 ? o.memory_mb : default_memory_mb(o.image)),
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

struct Poller {
  std::string host;
  int port;
  std::vector<NodeProgress>& nodes;
  const std::filesystem::path& logs;

  void poll(Clock::time_point start) {
    auto leases = get_json(host, port, "/api/v1/leases").value_or(nlohmann::json::array());
    auto machines = get_json(host, port, "/api/v1/machines").value_or(nlohmann::json::array());
    double now = seconds_since(start);
    for (auto& n : nodes) {
      Observation o;
      for (const auto& l : leases)
        if (l.is_object() && l.value("mac", "") == n.spec.mac && l.value("state", "bound") == "bound") o.leased = true;
      for (const auto& m : machines) {
        if (!m.is_object() || m.value("id", "") != n.spec.mac) continue;
        o.asked_for_script = m.value("boots", 0) > 0;
        if (m.contains("last_phase") && m["last_phase"].is_string()) o.last_phase = m["last_phase"];
      }
      if (!n.at[static_cast<std::size_t>(Phase::kernel)])
        o.init_started = read_file(logs / (n.spec.name + "-serial.log")).find("ramfleet-init:") != std::string::npos;
      observe(n, o, now);
      if (o.last_phase == "error" && !n.error) n.error = last_event(n.spec.mac, "error").value("message", "error");
      if (n.ready() && !n.uptime) {
        auto e = last_event(n.spec.mac, "ready");
        if (e.contains("uptime")) n.uptime = e["uptime"].get<double>();
        if (e.contains("root_bytes")) n.root_bytes = e["root_bytes"].get<long long>();
        n.ready_message = e.value("message", "");
      }
    }
  }

  nlohmann::json last_event(const std::string& mac, const std::string& phase) {
    auto ev = get_json(host, port, "/api/v1/machines/" + mac + "/events").value_or(nlohmann::json::array());
    nlohmann::json found = nlohmann::json::object();
    for (const auto& e : ev)
      if (e.is_object() && e.value("phase", "") == phase) found = e;
    return found;
  }
};

}  // namespace

int default_memory_mb(const std::string& image) { return image == "debian" ? 2048 : 512; }
int default_cpus(const std::string& image) { return image == "debian" ? 2 : 1; }

int lab_reboot(const std::filesystem::path& dir, const std::string& node, int timeout_s) {
  auto s = load_state(dir);
  if (!s) {
    std::cerr << "lab reboot: no lab recorded in " << dir.string() << "\n";
    return 1;
  }
  std::size_t i = 0;
  while (i < s->nodes.size() && s->nodes[i].name != node) ++i;
  if (i == s->nodes.size() || i >= s->vms.size() || i >= s->vm_argv.size()) {
    std::cerr << "lab reboot: no node '" << node << "' in the lab\n";
    return 1;
  }
  const auto& n = s->nodes[i];
  auto logs = dir / "logs";
  int original_ns = -1;
  try {
    original_ns = enter_namespace(s->ns);
  } catch (const std::exception& e) {
    std::cerr << "lab reboot: " << e.what() << "\n";
    return 1;
  }
  auto ready_count = [&] {
    auto ev = get_json(s->server_ip, s->http_port, "/api/v1/machines/" + n.mac + "/events");
    std::size_t c = 0;
    if (ev)
      for (const auto& e : *ev) c += e.is_object() && e.value("phase", "") == "ready";
    return c;
  };
  auto before = ready_count();
  auto start = Clock::now();
  // A power cycle, as a diskless machine gets it: nothing in RAM survives.
  stop_process(s->vms[i], std::chrono::milliseconds(2000));
  std::error_code ec;  // QEMU truncates its serial file: keep the previous boot's
  std::filesystem::rename(logs / (n.name + "-serial.log"), logs / (n.name + "-serial.log.1"), ec);
  s->vms[i] = spawn_detached(s->vm_argv[i], logs / (n.name + "-qemu.log"), "qemu " + n.name);
  save_state(*s);
  std::cerr << "lab: " << n.name << " power-cycled, waiting for it to report ready\n";
  int rc = 1;
  while (seconds_since(start) < timeout_s) {
    if (ready_count() > before) {
      std::printf("lab: %s ready again %.1f s after the reboot\n", n.name.c_str(), seconds_since(start));
      rc = 0;
      break;
    }
    int status = 0;
    if (child_exited(s->vms[i].pid, &status)) {
      std::cerr << "lab reboot: " << n.name << ": QEMU exited (" << status << "); serial log "
                << (logs / (n.name + "-serial.log")).string() << "\n";
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  if (rc != 0 && seconds_since(start) >= timeout_s)
    std::cerr << "lab reboot: " << n.name << " not ready again within " << timeout_s << " s; serial log "
              << (logs / (n.name + "-serial.log")).string() << "\n";
  leave_namespace(original_ns);
  return rc;
}

int lab_down(const std::filesystem::path& dir) {
  auto s = load_state(dir);
  if (!s) {
    std::cerr << "lab down: no lab recorded in " << dir.string() << " (nothing to do)\n";
    return 0;
  }
  return teardown(*s, false) ? 0 : 1;
}

int lab_up(const UpOptions& o) {
  const auto start_all = Clock::now();
  g_stop_signal = 0;
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);

  std::filesystem::create_directories(o.dir);
  if (auto old = load_state(o.dir)) {
    std::cerr << "lab: removing the previous lab recorded in " << o.dir.string() << "\n";
    if (!teardown(*old, false)) return 1;
  }
  auto config = o.dir / "config";
  auto logs = o.dir / "logs";
  std::filesystem::remove_all(o.dir / "state");
  std::filesystem::remove_all(logs);
  std::filesystem::create_directories(logs);

  LabState st;
  st.dir = o.dir;
  st.server_ip = std::string(kLabNetwork) + ".1";
  st.http_port = 80;
  int original_ns = -1;
  auto fail = [&](const std::string& why, int code = 1) {
    std::cerr << "lab up: " << why << "\n";
    leave_namespace(original_ns);
    original_ns = -1;
    teardown(st, false);
    std::cerr << "lab up: logs kept in " << logs.string() << "\n";
    return code;
  };

  Prepared assets;
  try {
    assets = prepare_assets(o, config / "assets");
  } catch (const std::exception& e) {
    std::cerr << "lab up: preparing kernel and image failed: " << e.what() << "\n";
    return 1;
  }
  if (g_stop_signal) return 130;

  st.nodes = plan_nodes(o.nodes, o.firmware);
  write_lab_config(config, st.nodes, {assets.kernel_asset, assets.image_asset, o.image, assets.ignition_layers});

  st.ns = "rflab" + std::to_string(::getpid());
  save_state(st);  // before the namespace exists: a crash from here on is recoverable
  std::vector<Clock::time_point> vm_start;
  try {
    create_namespace(st.ns);
    add_bridge(st.ns, kBridge, st.server_ip + "/24");
    for (const auto& n : st.nodes) add_tap(st.ns, n.tap, kBridge);
    original_ns = enter_namespace(st.ns);

    auto self = std::filesystem::read_symlink("/proc/self/exe").string();
    st.serve = spawn_detached(
        {self, "--log-level", "debug", "serve", "--config", config.string(), "--state", (o.dir / "state").string()},
        logs / "ramfleet.log", "ramfleet serve");
    save_state(st);
    bool healthy = false;
    for (int i = 0; i < 200 && !healthy && !g_stop_signal; ++i) {  // 20 s
      int status = 0;
      if (child_exited(st.serve->pid, &status))
        return fail("ramfleet serve exited (" + std::to_string(status) + "):\n" +
                    tail_lines(read_file(logs / "ramfleet.log"), 15));
      auto h = http_get(st.server_ip, st.http_port, "/healthz", 500);
      healthy = h && h->status == 200;
      if (!healthy) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (g_stop_signal) return fail("interrupted", 130);
    if (!healthy)
      return fail("ramfleet serve did not answer /healthz within 20 s; see " + (logs / "ramfleet.log").string());
    std::cerr << "lab: ramfleet serving on " << kBridge << " " << st.server_ip << " in namespace " << st.ns << " (log "
              << (logs / "ramfleet.log").string() << ")\n";

    for (const auto& n : st.nodes) {
      st.vm_argv.push_back(qemu_argv(n, o, logs));
      st.vms.push_back(spawn_detached(st.vm_argv.back(), logs / (n.name + "-qemu.log"), "qemu " + n.name));
      vm_start.push_back(Clock::now());
      save_state(st);
    }
  } catch (const std::exception& e) {
    return fail(e.what());
  }

  std::vector<NodeProgress> progress;
  for (const auto& n : st.nodes) progress.push_back({n, {}, {}, {}, {}, {}});
  Poller poller{st.server_ip, st.http_port, progress, logs};
  const bool tty = ::isatty(STDOUT_FILENO) != 0;
  std::size_t drawn_lines = 0;
  std::vector<Phase> announced(progress.size(), Phase::dhcp);
  std::vector<bool> announced_any(progress.size(), false);
  auto start = vm_start.empty() ? Clock::now() : vm_start.front();
  auto draw = [&] {
    if (tty) {
      if (drawn_lines > 0) std::cout << "\033[" << drawn_lines << "A\033[J";
      auto table = render_table(progress, seconds_since(start));
      drawn_lines = static_cast<std::size_t>(std::count(table.begin(), table.end(), '\n'));
      std::cout << table << std::flush;
      return;
    }
    for (std::size_t i = 0; i < progress.size(); ++i) {  // a log: one line per phase reached
      for (std::size_t p = 0; p < kPhaseCount; ++p) {
        auto phase = static_cast<Phase>(p);
        if (!progress[i].at[p] || (announced_any[i] && phase <= announced[i])) continue;
        std::printf("%-8s %-10s %6.1f s\n", progress[i].spec.name.c_str(), phase_name(phase), *progress[i].at[p]);
        announced[i] = phase;
        announced_any[i] = true;
      }
    }
    std::fflush(stdout);
  };

  for (;;) {
    if (g_stop_signal) return fail("interrupted (signal " + std::to_string(g_stop_signal) + ")", 130);
    poller.poll(start);
    draw();
    bool all_ready = true;
    for (std::size_t i = 0; i < progress.size(); ++i) {
      auto& n = progress[i];
      auto serial = logs / (n.spec.name + "-serial.log");
      if (n.error)
        return fail(n.spec.name + " reported an error after phase " +
                    phase_name(static_cast<Phase>(std::max(0, static_cast<int>(n.waiting_for()) - 1))) + ": " +
                    *n.error + "\nserial log " + serial.string() + ":" + tail_lines(read_file(serial), 15));
      int status = 0;
      if (!n.ready() && child_exited(st.vms[i].pid, &status))
        return fail(n.spec.name + " failed in phase " + phase_name(n.waiting_for()) + ": QEMU exited (" +
                    std::to_string(status) +
                    ")\nqemu log: " + tail_lines(read_file(logs / (n.spec.name + "-qemu.log")), 5) + "\nserial log " +
                    serial.string() + ":" + tail_lines(read_file(serial), 15));
      all_ready = all_ready && n.ready();
    }
    int serve_status = 0;
    if (child_exited(st.serve->pid, &serve_status))
      return fail("ramfleet serve exited (" + std::to_string(serve_status) + ")");
    if (all_ready) break;
    if (seconds_since(start) > o.timeout_s) {
      std::string who;
      for (const auto& n : progress)
        if (!n.ready())
          who += "\n  " + n.spec.name + " (" + n.spec.mac + ") stuck before phase " + phase_name(n.waiting_for()) +
                 "; serial log " + (logs / (n.spec.name + "-serial.log")).string();
      return fail("timed out after " + std::to_string(o.timeout_s) + " s:" + who);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }

  leave_namespace(original_ns);
  std::printf("lab: %zu/%zu nodes ready in %.1f s (from the first VM start; %.1f s including set-up)\n",
              progress.size(), progress.size(), seconds_since(start), seconds_since(start_all));
  for (const auto& n : progress)
    std::printf("  %-8s %-12s ready at %5.1f s, node uptime %.1f s, / uses %lld bytes  %s\n", n.spec.name.c_str(),
                n.spec.ip.c_str(), n.at[static_cast<std::size_t>(Phase::ready)].value_or(0), n.uptime.value_or(0),
                n.root_bytes.value_or(0), n.ready_message.c_str());
  std::printf(
      "lab: API http://%s:%d/api/v1/machines inside namespace %s; logs in %s\n"
      "lab: remove it with: ramfleet lab down --dir %s\n",
      st.server_ip.c_str(), st.http_port, st.ns.c_str(), logs.c_str(), o.dir.c_str());
  return 0;
}

}  // namespace ramfleet::lab
