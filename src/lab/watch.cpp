#include "lab/watch.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <thread>

#include "lab/process.hpp"
#include "net/api_client.hpp"

namespace ramfleet::lab {

namespace {

// The lab's serve keeps its state in <lab dir>/state: the watch reads the
// operator API (inside the namespace, on its loopback) as local root does,
// with the bootstrap admin token. Null until serve has written it.
std::unique_ptr<net::ApiClient> api_client(const LabState& st) {
  auto endpoint = net::default_endpoint(st.dir / "state");
  if (!endpoint) return nullptr;
  try {
    return std::make_unique<net::ApiClient>(std::move(*endpoint));
  } catch (const std::exception&) {
    return nullptr;
  }
}

nlohmann::json get_array(net::ApiClient* api, const std::string& path) {
  if (api == nullptr) return nlohmann::json::array();
  return api->get_json(path).value_or(nlohmann::json::array());
}

nlohmann::json events_of(net::ApiClient* api, const std::string& mac) {
  return get_array(api, "/api/v1/machines/" + mac + "/events");
}

int boots_of(const nlohmann::json& machines, const std::string& mac) {
  for (const auto& m : machines)
    if (m.is_object() && m.value("id", "") == mac) return m.value("boots", 0);
  return 0;
}

std::filesystem::path serial_log(const LabState& st, const NodeSpec& n) {
  return st.dir / "logs" / (n.name + "-serial.log");
}

constexpr double kEtcdProbeInterval = 2.0;  // s: two etcdctl runs each, from the host

}  // namespace

WatchedNode BootWatch::baseline(const LabState& st, std::size_t index) {
  const auto& n = st.nodes[index];
  auto api = api_client(st);
  auto machines = get_array(api.get(), "/api/v1/machines");
  auto events = events_of(api.get(), n.mac);
  return {index, events.is_array() ? events.size() : 0, boots_of(machines, n.mac)};
}

BootWatch::BootWatch(const LabState& st, std::vector<WatchedNode> nodes, std::optional<EtcdClientCert> etcd)
    : st_(st), nodes_(std::move(nodes)), etcd_(std::move(etcd)), tty_(::isatty(STDOUT_FILENO) != 0) {
  for (const auto& w : nodes_) {
    NodeProgress p;
    p.spec = st_.nodes[w.index];
    p.etcd_member = etcd_.has_value();
    progress_.push_back(std::move(p));
  }
  announced_.assign(progress_.size(), -1);
}

void BootWatch::poll(Clock::time_point start) {
  if (!api_) api_ = api_client(st_);
  auto leases = get_array(api_.get(), "/api/v1/leases");
  auto machines = get_array(api_.get(), "/api/v1/machines");
  std::map<std::string, MemberView> etcd;
  bool probed = false;
  if (etcd_probe_.valid() && etcd_probe_.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
    etcd = etcd_probe_.get();
    probed = true;
  }
  if (etcd_ && !etcd_probe_.valid() && (!last_etcd_probe_ || seconds_since(*last_etcd_probe_) >= kEtcdProbeInterval)) {
    // Only once some watched node runs etcd: before that nothing can answer.
    bool any_configured = false;
    for (const auto& n : progress_)
      any_configured = any_configured || n.at[static_cast<std::size_t>(Phase::configured)];
    if (any_configured) {
      last_etcd_probe_ = Clock::now();
      etcd_probe_ = std::async(std::launch::async, probe_etcd, st_.nodes, *etcd_);
    }
  }
  double now = seconds_since(start);
  for (std::size_t i = 0; i < progress_.size(); ++i) {
    auto& n = progress_[i];
    const auto& w = nodes_[i];
    if (n.done()) continue;
    Observation o;
    for (const auto& l : leases)
      if (l.is_object() && l.value("mac", "") == n.spec.mac && l.value("state", "bound") == "bound") o.leased = true;
    o.asked_for_script = boots_of(machines, n.spec.mac) > w.boots_before;
    auto events = events_of(api_.get(), n.spec.mac);
    nlohmann::json ready_event;
    for (std::size_t e = w.events_before; e < events.size(); ++e) {
      if (!events[e].is_object()) continue;
      o.last_phase = events[e].value("phase", "");
      if (o.last_phase == "error" && !n.error) n.error = events[e].value("message", "error");
      if (o.last_phase == "ready") ready_event = events[e];
    }
    if (!n.at[static_cast<std::size_t>(
            Phase::kernel)]) {  // the image's /init, or the streaming stage 1 that comes before it
      auto serial = read_file(serial_log(st_, n.spec));
      o.init_started =
          serial.find("ramfleet-init:") != std::string::npos || serial.find("ramfleet-stage1:") != std::string::npos;
    }
    if (probed) {
      auto v = etcd.find(n.spec.name);
      o.etcd_voting = v != etcd.end() && v->second.voting();
      if (v != etcd.end()) {
        n.etcd_state = !v->second.listed   ? "not a member"
                       : v->second.learner ? "learner"
                       : v->second.healthy ? "voting"
                                           : "unhealthy: " + v->second.error.substr(0, 120);
      }
    }
    observe(n, o, now);
    if (n.ready() && !n.uptime && ready_event.is_object()) {
      if (ready_event.contains("uptime") && ready_event["uptime"].is_number())
        n.uptime = ready_event["uptime"].get<double>();
      if (ready_event.contains("root_bytes") && ready_event["root_bytes"].is_number_integer())
        n.root_bytes = ready_event["root_bytes"].get<long long>();
      n.ready_message = ready_event.value("message", "");
    }
  }
}

void BootWatch::draw(double elapsed) {
  if (tty_) {
    if (drawn_lines_ > 0) std::cout << "\033[" << drawn_lines_ << "A\033[J";
    auto table = render_table(progress_, elapsed);
    drawn_lines_ = static_cast<std::size_t>(std::count(table.begin(), table.end(), '\n'));
    std::cout << table << std::flush;
    return;
  }
  for (std::size_t i = 0; i < progress_.size(); ++i) {  // a log: one line per phase reached
    for (std::size_t p = 0; p < kPhaseCount; ++p) {
      if (!progress_[i].at[p] || static_cast<int>(p) <= announced_[i]) continue;
      std::printf("%-8s %-10s %6.1f s\n", progress_[i].spec.name.c_str(), phase_name(static_cast<Phase>(p)),
                  *progress_[i].at[p]);
      announced_[i] = static_cast<int>(p);
    }
  }
  std::fflush(stdout);
}

std::optional<std::string> BootWatch::failure(std::size_t i) {
  const auto& n = progress_[i];
  const auto serial = serial_log(st_, n.spec);
  if (n.error)
    return n.spec.name + " reported an error after phase " +
           phase_name(static_cast<Phase>(std::max(0, static_cast<int>(n.waiting_for()) - 1))) + ": " + *n.error +
           "\nserial log " + serial.string() + ":" + tail_lines(read_file(serial), 15);
  int status = 0;
  const auto& vm = st_.vms[nodes_[i].index];
  if (!n.done() && child_exited(vm.pid, &status))
    return n.spec.name + " failed in phase " + phase_name(n.waiting_for()) + ": QEMU exited (" +
           std::to_string(status) +
           ")\nqemu log: " + tail_lines(read_file(st_.dir / "logs" / (n.spec.name + "-qemu.log")), 5) +
           "\nserial log " + serial.string() + ":" + tail_lines(read_file(serial), 15);
  return std::nullopt;
}

WatchOutcome BootWatch::run(Clock::time_point start, int timeout_s, const std::function<bool()>& interrupted) {
  for (;;) {
    if (interrupted()) return {130, "interrupted"};
    poll(start);
    draw(seconds_since(start));
    bool all_done = true;
    for (std::size_t i = 0; i < progress_.size(); ++i) {
      if (auto why = failure(i)) return {1, *why};
      all_done = all_done && progress_[i].done();
    }
    int serve_status = 0;
    if (st_.serve && child_exited(st_.serve->pid, &serve_status))
      return {1, "ramfleet serve exited (" + std::to_string(serve_status) + ")"};
    if (all_done) return {0, {}};
    if (seconds_since(start) > timeout_s) {
      std::string who;
      for (const auto& n : progress_) {
        if (n.done()) continue;
        who += "\n  " + n.spec.name + " (" + n.spec.mac + ") stuck before phase " + phase_name(n.waiting_for());
        if (!n.etcd_state.empty()) who += " (etcd: " + n.etcd_state + ")";
        who += "; serial log " + serial_log(st_, n.spec).string();
      }
      return {1, "timed out after " + std::to_string(timeout_s) + " s:" + who};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
}

}  // namespace ramfleet::lab
