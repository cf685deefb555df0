#pragma once
// The options every CLI client of the operator API takes (ramfleet etcd
// status, ramfleet status, ...): by default the local serve's endpoint from
// its state directory (net::default_endpoint: STATE/api/url, admin.token,
// ca.crt), each part replaceable. The token may also come from the
// environment (RAMFLEET_API_TOKEN), never from a flag's value, which `ps` shows.
#include <CLI/CLI.hpp>
#include <cstdlib>
#include <optional>
#include <string>

#include "kube/secret_files.hpp"
#include "net/api_client.hpp"

namespace ramfleet::cli {

struct ApiOptions {
  std::string state = "/var/lib/ramfleet";
  std::string url;         // --api https://HOST:PORT
  std::string token_file;  // --token-file FILE
  std::string ca;          // --ca FILE
};

inline void add_api_options(CLI::App* sub, ApiOptions& o) {
  sub->add_option("--state", o.state, "serve's state directory (its API URL, admin token and CA)")
      ->capture_default_str();
  sub->add_option("--api", o.url, "operator API URL (default: STATE/api/url, else https://127.0.0.1:9443)");
  sub->add_option("--token-file", o.token_file,
                  "file holding a bearer token (default: $RAMFLEET_API_TOKEN, else STATE/api/admin.token)");
  sub->add_option("--ca", o.ca, "CA file the server is verified with (default STATE/api/ca.crt)");
}

inline std::optional<net::ApiEndpoint> resolve_endpoint(const ApiOptions& o, std::string& why) {
  net::ApiEndpoint e;
  std::string from_state_why;
  auto local = net::default_endpoint(o.state, &from_state_why);
  if (local) e = *local;
  e.url = !o.url.empty() ? o.url : (local ? local->url : "https://127.0.0.1:9443");
  if (!o.ca.empty()) e.ca_file = o.ca;
  if (!o.token_file.empty()) {
    auto t = kube::read_file(o.token_file);
    if (!t) {
      why = "cannot read --token-file " + o.token_file;
      return std::nullopt;
    }
    while (!t->empty() && (t->back() == '\n' || t->back() == '\r' || t->back() == ' ')) t->pop_back();
    e.token = *t;
  } else if (const char* env = std::getenv("RAMFLEET_API_TOKEN"); env != nullptr && *env != '\0') {
    e.token = env;
  }
  if (e.token.empty() || e.ca_file.empty()) {
    why = from_state_why.empty() ? "no token or CA for the operator API" : from_state_why;
    return std::nullopt;
  }
  return e;
}

}  // namespace ramfleet::cli
