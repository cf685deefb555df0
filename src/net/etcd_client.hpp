#pragma once
// HTTPS to etcd's v3 JSON gateway with ramfleet's client certificate (Beast
// over OpenSSL; the request bodies and reply parsing are etcd/gateway.hpp).
// Blocking calls with hard deadlines, each on its own private io_context, so
// the membership service can call it from its thread or, bounded, from the
// boot path. The server is verified against the etcd CA and must name the
// address dialled (members' certificates carry their IPs).
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "etcd/gateway.hpp"

namespace ramfleet::net {

struct EtcdTls {
  std::filesystem::path ca;    // STATE/pki/etcd/ca.crt
  std::filesystem::path cert;  // STATE/pki/etcd/ramfleet-client.crt
  std::filesystem::path key;
};

struct EtcdReply {
  int status = 0;
  std::string body;
  std::string error;  // transport failure (refused, timeout, TLS); empty when an HTTP answer came
  [[nodiscard]] bool answered() const { return error.empty(); }
};

class EtcdClient {
 public:
  static constexpr std::size_t kMaxReply = 4U << 20U;  // member lists and statuses are small

  explicit EtcdClient(const EtcdTls& tls);  // throws std::runtime_error on unreadable material
  ~EtcdClient();
  EtcdClient(const EtcdClient&) = delete;
  EtcdClient& operator=(const EtcdClient&) = delete;

  // The same request to each client URL ("https://10.0.0.11:2379"), all at
  // once; every reply is in by `timeout`.
  std::vector<EtcdReply> post_each(const std::vector<std::string>& urls, const etcd::GatewayRequest& req,
                                   std::chrono::milliseconds timeout);
  EtcdReply post(const std::string& url, const etcd::GatewayRequest& req, std::chrono::milliseconds timeout);
  // A streamed answer (/v3/maintenance/snapshot): a 200 body goes to `sink`
  // piece by piece (false from sink stops); each read must progress within
  // `idle`. Another status keeps its (small) body in the reply.
  EtcdReply stream(const std::string& url, const etcd::GatewayRequest& req, std::chrono::milliseconds idle,
                   const std::function<bool(std::string_view)>& sink);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ramfleet::net
