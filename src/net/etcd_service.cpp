#include "net/etcd_service.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

#include "core/duration.hpp"
#include "core/log.hpp"
#include "kube/crypto.hpp"
#include "kube/pki.hpp"
#include "kube/secret_files.hpp"

namespace ramfleet::net {
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {
constexpr auto kObserveTimeout = 1500ms;
constexpr auto kChangeTimeout = 3000ms;
constexpr auto kSnapshotIdle = 10s;
constexpr std::uint64_t kMaxSnapshot = 8ULL << 30U;  // etcd's largest supported backend quota
constexpr std::size_t kMaxActions = 50;
constexpr std::size_t kMaxGrants = 16;

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::vector<etcd::ConfiguredMember> configured(const kube::ClusterSpec& spec) {
  std::vector<etcd::ConfiguredMember> out;
  for (const auto& m : spec.etcd_members) out.push_back({m.name, m.ip.str()});
  return out;
}

std::string ip_of(const std::vector<etcd::ConfiguredMember>& members, const std::string& name) {
  for (const auto& m : members)
    if (m.name == name) return m.ip;
  return {};
}

// The leader's client URL when it answered, else any voter that answered.
std::string leader_url(const etcd::Observation& seen, const std::vector<etcd::ConfiguredMember>& members) {
  std::string any;
  for (const auto& [name, st] : seen.answered) {
    if (st.learner) continue;
    auto url = etcd::client_url(ip_of(members, name));
    if (st.id == st.leader) return url;
    if (any.empty()) any = url;
  }
  return any;
}

template <typename T>
std::string error_of(const net::EtcdReply& r, const etcd::Parsed<T>& p) {
  if (!r.answered()) return r.error;
  if (const auto* e = std::get_if<std::string>(&p)) return *e;
  return {};
}
}  // namespace

EtcdService::EtcdService(Options options)
    : opt_(std::move(options)), snapshots_(opt_.state_dir / "etcd" / "snapshots") {}

EtcdService::~EtcdService() { stop(); }

void EtcdService::start() {
  if (opt_.config_dir.empty() || opt_.state_dir.empty() || thread_.joinable()) return;
  thread_ = std::thread([this] { run(); });
}

void EtcdService::stop() {
  {
    std::lock_guard lk(run_mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void EtcdService::run() {
  for (;;) {
    try {
      tick();
    } catch (const std::exception& e) {
      log::error("etcd.tick_failed", {{"error", e.what()}});
    }
    std::unique_lock lk(run_mu_);
    if (wake_.wait_for(lk, opt_.tick, [this] { return stopping_; })) return;
  }
}

std::optional<kube::ClusterSpec> EtcdService::current_spec() {
  const fs::path file = opt_.config_dir / kube::kClusterSpecFile;
  std::error_code ec;
  const auto mtime = fs::last_write_time(file, ec);
  if (ec) return std::nullopt;
  if (mtime != spec_mtime_) {
    spec_mtime_ = mtime;
    auto r = kube::load_cluster_spec(file);
    if (r.spec) spec_ = std::move(r.spec);  // a broken edit keeps the last good spec
  }
  if (!spec_ || spec_->etcd.mode != kube::EtcdMode::ramfleet) return std::nullopt;
  return spec_;
}

EtcdClient* EtcdService::client(const kube::ClusterSpec& spec) {
  if (client_) return client_.get();
  kube::ensure_ramfleet_etcd_client(opt_.state_dir, spec.key_algorithm);
  const fs::path pki = opt_.state_dir;
  const std::string base = kube::paths::kEtcdRamfleetClient;
  client_ = std::make_unique<EtcdClient>(
      EtcdTls{pki / (std::string(kube::paths::kEtcdCa) + ".crt"), pki / (base + ".crt"), pki / (base + ".key")});
  return client_.get();
}

etcd::Observation EtcdService::observe(EtcdClient& c, const std::vector<etcd::ConfiguredMember>& members) {
  etcd::Observation o;
  std::vector<std::string> urls;
  urls.reserve(members.size());
  for (const auto& m : members) urls.push_back(etcd::client_url(m.ip));
  const auto replies = c.post_each(urls, etcd::status_request(), kObserveTimeout);
  for (std::size_t i = 0; i < members.size(); ++i) {
    auto st = etcd::parse_status(replies[i].status, replies[i].body);
    if (auto err = error_of(replies[i], st); !err.empty()) {
      log::debug("etcd.unanswered", {{"member", members[i].name}, {"url", urls[i]}, {"error", err}});
      continue;
    }
    o.answered[members[i].name] = std::get<etcd::MemberStatus>(st);
  }
  // The list from the leader first: a learner does not serve it.
  std::vector<std::string> order;
  if (auto l = leader_url(o, members); !l.empty()) order.push_back(l);
  for (const auto& [name, st] : o.answered)
    if (!st.learner) order.push_back(etcd::client_url(ip_of(members, name)));
  for (const auto& url : order) {
    const auto r = c.post(url, etcd::member_list_request(), kObserveTimeout);
    if (!r.answered()) continue;
    auto l = etcd::parse_member_list(r.status, r.body);
    if (auto* list = std::get_if<etcd::MemberList>(&l)) {
      o.list = std::move(*list);
      break;
    }
  }
  return o;
}

etcd::Formation EtcdService::load_formation() {
  etcd::Formation f;
  auto text = kube::read_file(opt_.state_dir / "etcd" / "formation.json");
  if (!text) return f;
  try {
    const auto j = json::parse(*text);
    f.formed = j.value("formed", false);
    if (j.contains("cold_seed") && j["cold_seed"].is_string()) f.cold_seed = j["cold_seed"].get<std::string>();
    f.token = j.value("token", "");
  } catch (const json::exception& e) {
    // Unreadable: assume formed (never `new` over data that may exist).
    log::error("etcd.formation_unreadable", {{"error", e.what()}});
    f.formed = true;
  }
  return f;
}

void EtcdService::save_formation(const etcd::Formation& f) {
  fs::create_directories(opt_.state_dir / "etcd");
  json j{{"formed", f.formed}, {"token", f.token}, {"cold_seed", f.cold_seed ? json(*f.cold_seed) : json(nullptr)}};
  kube::write_file_atomic(opt_.state_dir / "etcd" / "formation.json", j.dump(2) + "\n");
}

void EtcdService::record(std::string action, std::string member, std::string reason, bool ok) {
  if (ok)
    log::info("etcd.decision", {{"action", action}, {"member", member.empty() ? "-" : member}, {"reason", reason}});
  else
    log::warn("etcd.decision", {{"action", action}, {"member", member.empty() ? "-" : member}, {"reason", reason}});
  std::lock_guard lk(view_mu_);
  ++counters_["etcd.decision." + action];
  actions_.push_back({wall_ms(), std::move(action), std::move(member), std::move(reason), ok});
  while (actions_.size() > kMaxActions) actions_.pop_front();
}

boot::EtcdBootAnswer EtcdService::member_booted(const kube::ClusterSpec& spec, const kube::EtcdMember& member,
                                                const std::string& requester, const std::string& base_url, bool act) {
  std::lock_guard lk(ops_);
  boot::EtcdBootAnswer a;
  const auto members = configured(spec);
  EtcdClient* c = nullptr;
  try {
    c = client(spec);
  } catch (const std::exception& e) {
    a.refusal = std::string("ramfleet's etcd client certificate: ") + e.what();
    record("client_unusable", member.name, a.refusal, false);
    return a;
  }
  const auto seen = observe(*c, members);
  {
    std::lock_guard v(view_mu_);
    last_seen_ = seen;
    last_seen_ms_ = wall_ms();
  }
  auto formation = load_formation();
  std::optional<etcd::NewestGood> good;
  if (!seen.any_reachable() && formation.formed) {
    good = snapshots_.newest_good();
    for (const auto& s : good->skipped) record("snapshot_skipped", member.name, s + " (a corrupted snapshot)", false);
  }
  const auto d = etcd::decide_boot(members, member.name, seen, formation, good && good->snapshot);
  const std::string ip = member.ip.str();
  if (spec.etcd.mode == kube::EtcdMode::stacked) return stacked_join(*c, members, member, seen, d, requester, act);
  switch (d.verdict) {
    case etcd::BootVerdict::first_formation: {
      auto b = boot::first_formation(spec);
      if (formation.token.empty()) {
        formation.token = b.token;
        if (act) save_formation(formation);
      }
      b.token = formation.token;
      a.boot = std::move(b);
      break;
    }
    case etcd::BootVerdict::cold_seed: {
      etcd::MemberBoot b;
      b.state = etcd::ClusterState::fresh;
      b.initial_cluster = {{member.name, etcd::peer_url(ip)}};
      b.token = "ramfleet-" + spec.name + "-" + std::to_string(wall_ms());
      std::string token = "-";
      if (act) {
        token = kube::random_string("0123456789abcdef", 64);
        formation.cold_seed = member.name;
        formation.token = b.token;
        save_formation(formation);
        std::lock_guard v(view_mu_);
        grants_[token] = {good->snapshot->file, requester, std::chrono::steady_clock::now() + opt_.restore_token_ttl};
        while (grants_.size() > kMaxGrants) {
          auto oldest = std::min_element(grants_.begin(), grants_.end(), [](const auto& x, const auto& y) {
            return x.second.expires < y.second.expires;
          });
          grants_.erase(oldest);
        }
      }
      b.restore = etcd::Restore{base_url + "/etcd/snapshot/token=" + token, good->sha256_hex};
      a.boot = std::move(b);
      break;
    }
    case etcd::BootVerdict::rejoin: {
      etcd::MemberList after = *seen.list;
      if (!act) {
        std::erase_if(after.members, [&](const etcd::Member& m) { return d.stale && m.id == d.stale->id; });
        after.members.push_back({0, "", {etcd::peer_url(ip)}, {}, true});
      } else {
        const auto url = leader_url(seen, members);
        if (d.stale) {
          if (!remove_stale(*c, url, member.name, *d.stale, "(" + d.reason + ")", a)) return a;
        }
        const auto r = c->post(url, etcd::member_add_request(etcd::peer_url(ip), true), kChangeTimeout);
        const auto p = etcd::parse_member_added(r.status, r.body);
        if (auto err = error_of(r, p); !err.empty()) {
          a.refusal = "adding it as a learner failed: " + err;
          a.retry = true;
          record("add_failed", member.name, a.refusal, false);
          return a;
        }
        after = std::get<etcd::MemberAdded>(p).list;
      }
      etcd::MemberBoot b;
      b.state = etcd::ClusterState::existing;
      b.initial_cluster = etcd::initial_cluster_of(after, members);
      b.token = formation.token.empty() ? "ramfleet-" + spec.name : formation.token;
      a.boot = std::move(b);
      break;
    }
    default:
      a.refusal = d.reason;
      a.retry = etcd::is_wait(d.verdict);
      break;
  }
  if (act) {
    record(std::string(etcd::to_string(d.verdict)), member.name, d.reason + " (boot from " + requester + ")",
           a.boot.has_value());
  }
  return a;
}

// Removes a member's stale entry through the leader. On failure the answer
// says why and asks the member to retry; both are recorded.
bool EtcdService::remove_stale(EtcdClient& c, const std::string& url, const std::string& name,
                               const etcd::Member& stale, const std::string& why, boot::EtcdBootAnswer& a) {
  const auto r = c.post(url, etcd::member_remove_request(stale.id), kChangeTimeout);
  const auto p = etcd::parse_ack(r.status, r.body);
  if (auto err = error_of(r, p); !err.empty()) {
    a.refusal = "removing its stale member " + etcd::id_hex(stale.id) + " failed: " + err;
    a.retry = true;
    record("remove_failed", name, a.refusal, false);
    return false;
  }
  record("removed_stale", name, "member " + etcd::id_hex(stale.id) + " " + why);
  return true;
}

boot::EtcdBootAnswer EtcdService::stacked_join(EtcdClient& c, const std::vector<etcd::ConfiguredMember>& members,
                                               const kube::EtcdMember& member, const etcd::Observation& seen,
                                               const etcd::BootDecision& d, const std::string& requester, bool act) {
  boot::EtcdBootAnswer a;
  switch (d.verdict) {
    case etcd::BootVerdict::rejoin:
    case etcd::BootVerdict::wait_learner:  // kubeadm adds (and promotes) its own learner
      if (act && d.stale) {
        if (!remove_stale(c, leader_url(seen, members), member.name, *d.stale,
                          "removed before its kubeadm join --control-plane (boot from " + requester + ")", a)) {
          return a;
        }
      }
      return a;
    case etcd::BootVerdict::refuse_healthy:
    case etcd::BootVerdict::refuse_no_quorum:
    case etcd::BootVerdict::refuse_quorum_loss:
      a.refusal = d.reason;
      a.retry = etcd::is_wait(d.verdict);
      if (act) record(std::string(etcd::to_string(d.verdict)), member.name, d.reason, false);
      return a;
    default:  // nothing answers: kubeadm's cluster, not ramfleet's to form or restore
      if (act) record("stacked_nothing_answers", member.name, "no member answers; its join config is served as is");
      return a;
  }
}

std::optional<fs::path> EtcdService::redeem_snapshot(const std::string& token, const std::string& requester) {
  std::lock_guard lk(view_mu_);
  auto it = grants_.find(token);
  auto refuse = [&](const char* why) -> std::optional<fs::path> {
    ++counters_[std::string("etcd.snapshot_download.refused.") + why];
    log::warn("etcd.snapshot_download_refused", {{"reason", why}, {"peer", requester}});
    return std::nullopt;
  };
  if (it == grants_.end()) return refuse("unknown_token");
  // Another address does not burn the member's grant: it is simply refused.
  if (it->second.address != requester) return refuse("wrong_address");
  if (std::chrono::steady_clock::now() > it->second.expires) {
    grants_.erase(it);
    return refuse("expired");
  }
  auto file = it->second.file;
  grants_.erase(it);  // once
  ++counters_["etcd.snapshot_download.served"];
  log::info("etcd.snapshot_download", {{"file", file.filename().string()}, {"peer", requester}});
  return file;
}

void EtcdService::tick() {
  const auto spec = current_spec();
  {
    std::lock_guard v(view_mu_);
    view_spec_ = spec;
  }
  if (!spec) return;
  const auto members = configured(*spec);
  etcd::TickDecision t;
  EtcdClient* c = nullptr;
  {
    std::lock_guard lk(ops_);
    try {
      c = client(*spec);
    } catch (const std::exception& e) {
      std::lock_guard v(view_mu_);
      last_snapshot_error_ = std::string("ramfleet's etcd client certificate: ") + e.what();
      return;
    }
    const auto seen = observe(*c, members);
    {
      std::lock_guard v(view_mu_);
      last_seen_ = seen;
      last_seen_ms_ = wall_ms();
    }
    auto formation = load_formation();
    std::optional<std::chrono::milliseconds> since;
    if (const auto all = snapshots_.list(); !all.empty())
      since = std::chrono::milliseconds(wall_ms() - all[0].taken_ms);
    t = etcd::decide_tick(members, seen, formation, since, spec->etcd.snapshot_interval);
    if (t.mark_formed) {
      formation.formed = true;
      save_formation(formation);
      record("formed", "", "a leader answered: the cluster exists; no member gets initial-cluster-state new again");
    }
    if (t.cold_start_done) {
      const auto seed = *formation.cold_seed;
      formation.cold_seed.reset();
      save_formation(formation);
      record("cold_start_done", seed, "the restored member answers with a leader; the others join it as learners");
    }
    const auto url = leader_url(seen, members);
    for (const auto& m : t.promote) {
      const auto r = c->post(url, etcd::member_promote_request(m.id), kChangeTimeout);
      const auto p = etcd::parse_ack(r.status, r.body);
      if (auto err = error_of(r, p); err.empty()) {
        record("promoted", m.name, "learner " + etcd::id_hex(m.id) + " caught up with the leader: now a voting member");
      } else {
        std::lock_guard v(view_mu_);
        ++counters_["etcd.promote.not_ready"];
        log::debug("etcd.promote_not_ready", {{"member", std::string(m.name)}, {"reason", std::string(err)}});
      }
    }
  }
  if (t.snapshot_from.empty()) return;
  const auto now = std::chrono::steady_clock::now();
  const auto retry = std::min<std::chrono::milliseconds>(spec->etcd.snapshot_interval, 30s);
  if (now - last_snapshot_attempt_ < retry) return;
  last_snapshot_attempt_ = now;
  take_snapshot(*c, t.snapshot_from, *spec);
}

void EtcdService::take_snapshot(EtcdClient& c, const std::string& from, const kube::ClusterSpec& spec) {
  auto fail = [&](const std::string& why) {
    record("snapshot_failed", "", why + " (from " + from + ")", false);
    std::lock_guard v(view_mu_);
    last_snapshot_error_ = why;
  };
  std::error_code ec;
  fs::create_directories(snapshots_.dir(), ec);
  fs::permissions(snapshots_.dir(), fs::perms::owner_all, ec);
  const auto sr = c.post(from, etcd::status_request(), kChangeTimeout);
  const auto sp = etcd::parse_status(sr.status, sr.body);
  if (auto err = error_of(sr, sp); !err.empty()) return fail("status: " + err);
  const auto revision = std::get<etcd::MemberStatus>(sp).revision;
  const std::int64_t taken = wall_ms();
  const auto tmp = snapshots_.temp_path(taken);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return fail("cannot create " + tmp.string());
  etcd::SnapshotStream parser;
  std::string bytes;
  std::uint64_t total = 0;
  std::string why;
  auto flush = [&]() {
    std::size_t off = 0;
    while (off < bytes.size()) {
      const auto n = ::write(fd, bytes.data() + off, bytes.size() - off);
      if (n <= 0) {
        why = "write failed (disk full?)";
        return false;
      }
      off += static_cast<std::size_t>(n);
    }
    total += bytes.size();
    bytes.clear();
    if (total > kMaxSnapshot) {
      why = "larger than " + std::to_string(kMaxSnapshot) + " bytes";
      return false;
    }
    return true;
  };
  const auto reply = c.stream(from, etcd::snapshot_request(), kSnapshotIdle, [&](std::string_view piece) {
    if (!parser.feed(piece, bytes)) {
      why = parser.error();
      return false;
    }
    return flush();
  });
  bool ok = why.empty() && reply.answered() && reply.status == 200;
  if (ok && !(parser.finish(bytes) && flush())) {
    ok = false;
    if (why.empty()) why = parser.error();
  }
  ::close(fd);
  if (!ok) {
    fs::remove(tmp, ec);
    if (why.empty()) why = reply.answered() ? "HTTP " + std::to_string(reply.status) + ": " + reply.body : reply.error;
    return fail(why);
  }
  auto committed = snapshots_.commit(tmp, taken, revision);
  if (auto* err = std::get_if<std::string>(&committed)) return fail("the snapshot fails its check: " + *err);
  const auto& info = std::get<etcd::SnapshotInfo>(committed);
  record("snapshot", "",
         "revision " + std::to_string(info.revision) + ", " + std::to_string(info.size) + " bytes from " + from +
             " -> " + info.file.filename().string());
  for (const auto& gone : snapshots_.prune(spec.etcd.snapshot_keep)) {
    log::info("etcd.snapshot_pruned", {{"file", gone.filename().string()}});
  }
  std::lock_guard v(view_mu_);
  last_snapshot_error_.clear();
}

json EtcdService::status() {
  json out;
  const auto formation = load_formation();
  const auto snaps = snapshots_.list();
  std::lock_guard v(view_mu_);
  const auto& spec = view_spec_;
  const auto q = etcd::quorum_of(last_seen_);
  std::map<etcd::MemberId, std::string> healthy;
  etcd::MemberId leader = 0;
  for (const auto& [name, st] : last_seen_.answered) {
    healthy[st.id] = name;
    if (st.leader != 0) leader = st.leader;
  }
  json members = json::array();
  json leader_name = nullptr;
  if (last_seen_.list) {
    for (const auto& m : last_seen_.list->members) {
      json j{{"id", etcd::id_hex(m.id)},
             {"name", m.name},
             {"peer_urls", m.peer_urls},
             {"client_urls", m.client_urls},
             {"learner", m.learner},
             {"healthy", healthy.contains(m.id)},
             {"leader", m.id == leader && leader != 0}};
      for (const auto& [name, st] : last_seen_.answered) {
        if (st.id != m.id) continue;
        j["raft_index"] = st.raft_index;
        j["revision"] = st.revision;
        j["db_size"] = st.db_size;
      }
      if (m.id == leader && leader != 0) leader_name = m.name;
      members.push_back(std::move(j));
    }
  }
  json learners = json::array();
  for (const auto& m : members)
    if (m["learner"].get<bool>()) learners.push_back(m["name"]);
  json snap{{"count", snaps.size()}, {"last", nullptr}, {"last_error", last_snapshot_error_}};
  std::string rpo;
  const std::string interval = spec ? format_duration(spec->etcd.snapshot_interval) : std::string("5m");
  if (spec) {
    snap["interval"] = interval;
    snap["keep"] = spec->etcd.snapshot_keep;
  }
  if (!snaps.empty()) {
    const auto& s = snaps.front();
    snap["last"] = {{"taken_at_ms", s.taken_ms},
                    {"age_s", (wall_ms() - s.taken_ms) / 1000},
                    {"revision", s.revision},
                    {"size", s.size},
                    {"file", s.file.filename().string()}};
    rpo =
        "If every member loses its RAM at once, the cluster comes back from the newest good snapshot: writes after "
        "it are lost. That is at most one snapshot interval (" +
        interval + ") plus the time a snapshot takes; right now " + std::to_string((wall_ms() - s.taken_ms) / 1000) +
        " s of writes (after revision " + std::to_string(s.revision) + ").";
  } else {
    rpo = "No snapshot yet: if every member lost its RAM now, there would be nothing to restore.";
  }
  json acts = json::array();
  for (const auto& a : actions_) {
    acts.push_back(
        {{"at_ms", a.at_ms}, {"action", a.action}, {"member", a.member}, {"reason", a.reason}, {"ok", a.ok}});
  }
  out["mode"] = spec ? std::string(kube::to_string(spec->etcd.mode)) : std::string("unknown");
  out["observed_at_ms"] = last_seen_ms_;
  out["members"] = std::move(members);
  out["learners"] = std::move(learners);
  out["leader"] = leader_name;
  out["quorum"] = {{"voters", q.voters}, {"healthy_voters", q.healthy_voters}, {"needed", q.needed()}, {"ok", q.ok()}};
  out["formed"] = formation.formed;
  out["cold_start_seed"] = formation.cold_seed ? json(*formation.cold_seed) : json(nullptr);
  out["snapshots"] = std::move(snap);
  out["rpo"] = rpo;
  out["actions"] = std::move(acts);
  out["counters"] = counters_;
  return out;
}

}  // namespace ramfleet::net
