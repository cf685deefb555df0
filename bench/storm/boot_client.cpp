#include "boot_client.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <iostream>

#include "http_client.hpp"
#include "ipxe_script.hpp"
#include "tftp_client.hpp"

namespace storm {
namespace asio = boost::asio;

namespace {
// ramfleet's machine script retries a failed kernel/initrd after 5 s by
// chaining boot.ipxe again; the bench allows this many such rounds.
constexpr int kMaxScriptRounds = 5;
constexpr int kMaxChains = 4;                                // boot.ipxe -> /ipxe -> ...: deeper is a loop
constexpr int kEventTries = 5;                               // images/small/init's report(): 5 tries, 1 s apart
constexpr auto kConfigRetry = std::chrono::seconds(3);       // init's fetch_config(): every 3 s ...
constexpr auto kConfigPatience = std::chrono::seconds(300);  // ... for up to 5 minutes

asio::awaitable<void> sleep_for(Storm& storm, Clock::duration d) {
  asio::steady_timer t(co_await asio::this_coro::executor);
  t.expires_at(std::min(Clock::now() + d, storm.deadline));
  boost::system::error_code ec;
  co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

class PhaseTimer {
 public:
  PhaseTimer(Result& r, std::size_t p) : r_(r), p_(p), t0_(Clock::now()) { r_.seen[p] = true; }
  ~PhaseTimer() { r_.ms[p_] += std::chrono::duration<double, std::milli>(Clock::now() - t0_).count(); }
  PhaseTimer(const PhaseTimer&) = delete;
  PhaseTimer& operator=(const PhaseTimer&) = delete;

 private:
  Result& r_;
  std::size_t p_;
  Clock::time_point t0_;
};

std::string json_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    if (static_cast<unsigned char>(c) >= 0x20) o += c;
  }
  return o;
}

// What iPXE does with a reply that failed but carries Retry-After
// (ipxe src/net/tcp/httpcore.c): it asks again after that many seconds,
// without failing its chain/kernel/initrd command. ramfleet paces boots with
// it in a storm (docs/scale.md, "Admission control"); each wait counts as a retry.
asio::awaitable<HttpReply> ipxe_request(Storm& storm, Machine& m, const std::string& source, const HttpRequest& req) {
  for (;;) {
    auto r = co_await http_request(storm, source, req);
    if ((r.status >= 200 && r.status < 300) || !r.retry_after || storm.past_deadline()) co_return r;
    ++m.result.retries;
    co_await sleep_for(storm, std::chrono::seconds(*r.retry_after));
  }
}

HttpRequest get(const std::string& url, bool keep_body = true) {
  HttpRequest r;
  r.url = url;
  r.keep_body = keep_body;
  return r;
}

struct Failed {
  std::string why;
};

// The per-machine script, following chains from boot.ipxe.
asio::awaitable<std::optional<IpxeScript>> fetch_scripts(Storm& storm, Machine& m, const std::string& source,
                                                         const std::string& first_url, const IpxeFacts& facts,
                                                         std::string& why) {
  std::string url = first_url;
  for (int depth = 0; depth < kMaxChains; ++depth) {
    HttpReply r;
    {
      // The first script is boot.ipxe; the next ones are the machine's own.
      std::optional<PhaseTimer> own;
      if (depth > 0) own.emplace(m.result, Phase::ipxe);
      r = co_await ipxe_request(storm, m, source, get(url));
    }
    if (r.status != 200) {
      why = "GET " + url + ": " + (r.status ? "status " + std::to_string(r.status) : r.error);
      co_return std::nullopt;
    }
    auto s = read_ipxe_script(r.body, facts);
    if (!s) {
      why = "GET " + url + ": not an iPXE script";
      co_return std::nullopt;
    }
    if (s->kernel) {
      s->kernel = resolve_url(url, *s->kernel);
      for (auto& i : s->initrds) i = resolve_url(url, i);
      co_return s;
    }
    if (s->exits) {
      why = "GET " + url + ": the script exits (machine not in the inventory?)";
      co_return std::nullopt;
    }
    if (!s->chain) {
      why = "GET " + url + ": neither kernel nor chain";
      co_return std::nullopt;
    }
    url = resolve_url(url, *s->chain);
  }
  why = "more than " + std::to_string(kMaxChains) + " chained scripts";
  co_return std::nullopt;
}

asio::awaitable<bool> fetch_file(Storm& storm, Machine& m, const std::string& source, const std::string& url,
                                 std::string& why) {
  auto r = co_await ipxe_request(storm, m, source, get(url, false));
  m.result.bytes += r.bytes;
  if (r.status != 200) {
    why = "GET " + url + ": " + (r.status ? "status " + std::to_string(r.status) : r.error);
    co_return false;
  }
  if (r.content_length && *r.content_length != r.bytes) {
    why = "GET " + url + ": " + std::to_string(r.bytes) + " of " + std::to_string(*r.content_length) + " bytes";
    co_return false;
  }
  co_return true;
}

asio::awaitable<bool> report(Storm& storm, Machine& m, const std::string& source, const IpxeScript& s,
                             const std::string& phase, std::string& why) {
  auto server = s.kernel_args.count("ramfleet.server") ? s.kernel_args.at("ramfleet.server") : "";
  auto id = s.kernel_args.count("ramfleet.id") ? s.kernel_args.at("ramfleet.id") : m.mac.str();
  auto cred = s.kernel_args.count("ramfleet.event_credential") ? s.kernel_args.at("ramfleet.event_credential") : "";
  if (server.empty()) {
    why = "the kernel line has no ramfleet.server=";
    co_return false;
  }
  HttpRequest req;
  req.method = "POST";
  req.url = server + "/api/v1/machines/" + id + "/events";
  req.authorization = "Bearer " + cred;
  req.body = "{\"phase\":\"" + phase + "\",\"message\":\"" +
             json_escape("ramfleet-storm machine " + std::to_string(m.index)) +
             "\",\"uptime\":" + std::to_string(storm.since_start_ms() / 1000.0) + "}";
  for (int t = 0; t < kEventTries; ++t) {
    if (t > 0) {
      storm.retry(m, "events", why);
      co_await sleep_for(storm, std::chrono::seconds(1));
    }
    auto r = co_await http_request(storm, source, req);
    if (r.status >= 200 && r.status < 300) co_return true;
    why = "POST " + phase + ": " +
          (r.status ? "status " + std::to_string(r.status) + " " + r.body.substr(0, 200) : r.error);
    if (r.status == 401 || r.status == 403) co_return false;  // a refused credential does not get better
    if (storm.past_deadline()) break;
  }
  co_return false;
}

asio::awaitable<bool> fetch_config(Storm& storm, Machine& m, const std::string& source, const std::string& url,
                                   std::string& why) {
  const auto until = Clock::now() + kConfigPatience;
  for (int tries = 0;; ++tries) {
    auto r = co_await http_request(storm, source, get(url));
    m.result.bytes += r.bytes;
    if (r.status == 200) co_return true;
    why = "GET config: " + (r.status ? "status " + std::to_string(r.status) + " " + r.body.substr(0, 200) : r.error);
    // 409: ramfleet refuses to act, as init stops there; the rest is retried (403 approval, 503 etcd, 429).
    if (r.status == 409 || Clock::now() + kConfigRetry >= until || storm.past_deadline()) co_return false;
    storm.retry(m, "config", why);
    co_await sleep_for(storm, kConfigRetry);
  }
}

asio::awaitable<void> boot_path(Storm& storm, DhcpPort& dhcp, Machine& m) {
  Result& res = m.result;
  std::string why;
  std::optional<Lease> pxe;
  {
    PhaseTimer t(res, Phase::dhcp);
    pxe = co_await dhcp.dora(storm, m, false, why);
  }
  if (!pxe) throw Failed{"dhcp: " + why};
  res.pxe_lease = pxe->address.str();
  if (pxe->boot_file.empty()) throw Failed{"dhcp: the ACK names no boot file"};

  TftpFetch tf{pxe->next_server.str(), pxe->boot_file,
               storm.opt.every_512 > 0 && m.index % storm.opt.every_512 == 0 ? 0 : 1468};
  {
    PhaseTimer t(res, Phase::tftp);
    auto got = co_await tftp_fetch(storm, m, res.pxe_lease, tf, why);
    if (!got) throw Failed{"tftp: " + why};
    res.bytes += *got;
  }

  std::optional<Lease> ipxe;
  {
    PhaseTimer t(res, Phase::ipxe_dhcp);
    ipxe = co_await dhcp.dora(storm, m, true, why);
  }
  if (!ipxe) throw Failed{"ipxe-dhcp: " + why};
  res.lease = ipxe->address.str();
  const std::string& src = res.lease;
  if (ipxe->boot_file.rfind("http://", 0) != 0)
    throw Failed{"ipxe-dhcp: iPXE was not sent to HTTP (boot file '" + ipxe->boot_file + "')"};

  IpxeFacts facts{m.mac.str(), m.uuid_text, "i386", "pcbios", src};
  for (int round = 1;; ++round) {
    std::optional<IpxeScript> script;
    {
      PhaseTimer t(res, Phase::scripts);
      script = co_await fetch_scripts(storm, m, src, ipxe->boot_file, facts, why);
    }
    bool ok = script.has_value();
    if (ok) {
      PhaseTimer t(res, Phase::kernel_initrd);
      ok = co_await fetch_file(storm, m, src, *script->kernel, why);
      for (std::size_t i = 0; ok && i < script->initrds.size(); ++i)
        ok = co_await fetch_file(storm, m, src, script->initrds[i], why);
    }
    if (!ok) {
      // The machine script's :failed path: sleep 5, chain boot.ipxe again.
      if (round >= kMaxScriptRounds || storm.past_deadline())
        throw Failed{std::string(script ? "kernel+initrd: " : "scripts: ") + why};
      storm.retry(m, script ? "kernel+initrd" : "scripts", why);
      co_await sleep_for(storm, std::chrono::seconds(5));
      continue;
    }
    // The kernel runs; init brings the NIC up and reports.
    {
      PhaseTimer t(res, Phase::events);
      if (!co_await report(storm, m, src, *script, "booted", why)) throw Failed{"events: " + why};
    }
    auto cfg = script->kernel_args.find("ramfleet.config");
    if (cfg != script->kernel_args.end()) {
      PhaseTimer t(res, Phase::config);
      if (!co_await fetch_config(storm, m, src, cfg->second, why)) throw Failed{"config: " + why};
    }
    {
      PhaseTimer t(res, Phase::events);
      if (!co_await report(storm, m, src, *script, "ready", why)) throw Failed{"events: " + why};
    }
    co_return;
  }
}
}  // namespace

asio::awaitable<void> boot_machine(Storm& storm, DhcpPort& dhcp, Machine& m) {
  try {
    co_await boot_path(storm, dhcp, m);
    m.result.ready = true;
    m.result.ready_at_ms = storm.since_start_ms();
    ++storm.ready;
  } catch (const Failed& f) {
    m.result.failure = f.why;
  } catch (const std::exception& e) {
    m.result.failure = std::string("internal: ") + e.what();
  }
  if (storm.opt.verbose || !m.result.ready)
    std::cerr << "storm: " << m.mac.str() << (m.result.ready ? " ready" : " FAILED " + m.result.failure) << "\n";
  if (++storm.finished == storm.opt.clients) storm.io.stop();
}

}  // namespace storm
