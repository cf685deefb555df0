#pragma once
// Clients of ramfleet's own HTTP services, blocking with short deadlines.
//
// The operator API (HTTPS, authenticated; docs/operations.md): ApiClient
// and api_request speak to it with a bearer token, verifying the server
// against a CA file. default_endpoint() finds the local serve from a state
// directory: the URL serve wrote (STATE/api/url, else https://127.0.0.1:9443),
// the bootstrap token (STATE/api/admin.token) and the operator CA
// (STATE/api/ca.crt), which is what root on the server's machine uses.
//
// http_get: a plain GET for the boot listener's public routes (/healthz).
#include <chrono>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace ramfleet::net {

struct HttpResult {
  int status = 0;
  std::string body;
};

std::optional<HttpResult> http_get(const std::string& host, int port, const std::string& path, int timeout_ms = 2000);

struct ApiEndpoint {
  std::string url;                // "https://127.0.0.1:9443"
  std::string token;              // bearer secret; empty: none sent
  std::filesystem::path ca_file;  // verifies the server
};

struct ApiReply {
  int status = 0;
  std::string body;
  std::string error;  // transport failure (refused, timeout, TLS); empty when an HTTP answer came
  [[nodiscard]] bool answered() const { return error.empty(); }
};

// Holds the TLS context, so a poller (the lab's watch) loads the CA once.
class ApiClient {
 public:
  static constexpr std::size_t kMaxReply = 64U << 20U;
  explicit ApiClient(ApiEndpoint endpoint);  // throws std::runtime_error on an unusable URL or CA file
  ~ApiClient();
  ApiClient(const ApiClient&) = delete;
  ApiClient& operator=(const ApiClient&) = delete;

  ApiReply request(std::string_view method, std::string_view path, std::string_view body = {},
                   std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // GET + JSON parse; nullopt on any failure (unreachable, non-200, bad JSON).
  std::optional<nlohmann::json> get_json(std::string_view path,
                                         std::chrono::milliseconds timeout = std::chrono::seconds(2));
  [[nodiscard]] const ApiEndpoint& endpoint() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One request on a fresh client; a setup failure is in the reply's error.
ApiReply api_request(const ApiEndpoint& endpoint, std::string_view method, std::string_view path,
                     std::string_view body = {});

// The local serve's endpoint from its state directory; nullopt (and why)
// when the token or the CA is not there (serve never ran with this state
// directory, or not as this user).
std::optional<ApiEndpoint> default_endpoint(const std::filesystem::path& state_dir, std::string* why = nullptr);

}  // namespace ramfleet::net
