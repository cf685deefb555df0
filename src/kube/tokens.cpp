#include "kube/tokens.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/sha256.hpp"
#include "kube/secret_files.hpp"

namespace ramfleet::kube {

namespace fs = std::filesystem;

namespace {
constexpr std::string_view kTokenAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";

bool all_token_chars(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); });
}

long long to_unix(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}
// Seconds past what a nanosecond system_clock holds (year 2262) are refused,
// not wrapped (signed overflow).
std::optional<Clock::time_point> from_unix(long long s) {
  constexpr auto kMax = std::chrono::duration_cast<std::chrono::seconds>(Clock::duration::max()).count();
  if (s >= kMax || s <= -kMax) return std::nullopt;
  return Clock::time_point{} + std::chrono::seconds(s);
}
}  // namespace

std::optional<TokenParts> parse_bootstrap_token(std::string_view text) {
  if (text.size() != 23 || text[6] != '.') return std::nullopt;
  auto id = text.substr(0, 6), secret = text.substr(7);
  if (!all_token_chars(id) || !all_token_chars(secret)) return std::nullopt;
  return TokenParts{std::string(id), std::string(secret)};
}

BootstrapToken generate_bootstrap_token(std::chrono::seconds ttl, Clock::time_point now) {
  BootstrapToken t;
  t.id = random_string(kTokenAlphabet, 6);
  t.secret = random_string(kTokenAlphabet, 16);
  t.created = now;
  t.expires = now + ttl;
  return t;
}

TokenStore::TokenStore(const fs::path& state_dir) : file_(state_dir / "tokens.json") {}

std::vector<BootstrapToken> TokenStore::all() const {
  std::vector<BootstrapToken> out;
  auto text = read_file(file_);
  if (!text) return out;
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(*text);
    for (const auto& j : doc.at("tokens")) {
      BootstrapToken t;
      auto parts = parse_bootstrap_token(j.at("token").get<std::string>());
      if (!parts) throw StateError("malformed token in " + file_.string());
      t.id = parts->id;
      t.secret = parts->secret;
      auto created = from_unix(j.at("created").get<long long>());
      auto expires = from_unix(j.at("expires").get<long long>());
      if (!created || !expires) throw StateError("token time out of range in " + file_.string());
      t.created = *created;
      t.expires = *expires;
      t.description = j.value("description", "");
      out.push_back(std::move(t));
    }
  } catch (const nlohmann::json::exception& e) {
    throw StateError(file_.string() + ": " + e.what());
  }
  return out;
}

std::vector<BootstrapToken> TokenStore::valid(Clock::time_point now) const {
  auto tokens = all();
  std::erase_if(tokens, [&](const BootstrapToken& t) { return !t.valid_at(now); });
  return tokens;
}

void TokenStore::save(const std::vector<BootstrapToken>& tokens) const {
  nlohmann::json doc;
  doc["tokens"] = nlohmann::json::array();
  for (const auto& t : tokens) {
    doc["tokens"].push_back({{"token", t.str()},
                             {"created", to_unix(t.created)},
                             {"expires", to_unix(t.expires)},
                             {"description", t.description}});
  }
  write_file_atomic(file_, doc.dump(2) + "\n");
}

BootstrapToken TokenStore::create(std::chrono::seconds ttl, Clock::time_point now, std::string description) {
  auto tokens = valid(now);
  auto t = generate_bootstrap_token(ttl, now);
  t.description = std::move(description);
  tokens.push_back(t);
  save(tokens);
  return t;
}

BootstrapToken TokenStore::current(std::chrono::seconds ttl, Clock::time_point now) {
  auto tokens = valid(now);
  auto newest = std::max_element(tokens.begin(), tokens.end(),
                                 [](const auto& a, const auto& b) { return a.expires < b.expires; });
  if (newest != tokens.end() && (newest->expires - now) > (newest->expires - newest->created) / 2) return *newest;
  return create(ttl, now, "rotated by ramfleet");
}

std::string discovery_hash(const X509& ca) {
  auto spki = subject_public_key_info_der(ca);
  return "sha256:" + sha256_hex(as_chars(spki));
}

std::string k3s_secure_token(std::string_view ca_bundle, std::string_view server_secret) {
  return "K10" + sha256_hex(ca_bundle) + "::server:" + std::string(server_secret);
}

}  // namespace ramfleet::kube
