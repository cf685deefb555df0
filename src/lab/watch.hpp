#pragma once
// Watching nodes boot, for `lab up` and `lab reboot`: polls ramfleet's operator API
// (leases, machines, each node's events) every 0.5 s, and for etcd members
// etcdctl every 2 s, in a thread of its own (etcd_probe.hpp), and shows the progress per node: a
// table redrawn in place on a terminal, else one line per phase reached.
// Runs from inside the lab's namespace.
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lab/etcd_probe.hpp"
#include "lab/lab_state.hpp"
#include "lab/progress.hpp"
#include "lab/text.hpp"
#include "net/api_client.hpp"

namespace ramfleet::lab {

struct WatchedNode {
  std::size_t index = 0;  // in LabState::nodes / vms
  // What the node had reported before this boot (a reboot watches only
  // what comes after): events and script fetches to ignore.
  std::size_t events_before = 0;
  int boots_before = 0;
};

struct WatchOutcome {
  int code = 0;     // 0 every node done; 1 a node failed or time ran out; 130 interrupted
  std::string why;  // for 1 and 130: which node, which phase, the tail of its serial log
};

class BootWatch {
 public:
  // `etcd`: the client certificate to probe members with; without it no node
  // waits for Phase::etcd.
  BootWatch(const LabState& st, std::vector<WatchedNode> nodes, std::optional<EtcdClientCert> etcd);

  // Until every watched node is done, one fails (reported `error`, its QEMU
  // exited, ramfleet exited), `timeout_s` passes (counted from `start`) or
  // `interrupted()` says so.
  WatchOutcome run(Clock::time_point start, int timeout_s, const std::function<bool()>& interrupted);

  [[nodiscard]] const std::vector<NodeProgress>& progress() const { return progress_; }

  // The node's baseline now (for a reboot: taken before its power cycle).
  static WatchedNode baseline(const LabState& st, std::size_t index);

 private:
  void poll(Clock::time_point start);
  void draw(double elapsed);
  std::optional<std::string> failure(std::size_t i);

  const LabState& st_;
  std::unique_ptr<net::ApiClient> api_;  // the operator API, as local root (STATE/api/admin.token)
  std::vector<WatchedNode> nodes_;
  std::optional<EtcdClientCert> etcd_;
  std::vector<NodeProgress> progress_;
  // etcdctl runs in a thread: a probe of members that are down waits for
  // its dial timeout, and the API poll must not wait with it.
  std::future<std::map<std::string, MemberView>> etcd_probe_;
  std::optional<Clock::time_point> last_etcd_probe_;
  bool tty_ = false;
  std::size_t drawn_lines_ = 0;
  std::vector<int> announced_;  // per node: the last phase printed (log mode), -1 none
};

}  // namespace ramfleet::lab
