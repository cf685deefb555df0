// `ramfleet api token create|revoke|list` and `ramfleet api cert issue`: the
// operator API's credentials (docs/operations.md, "Exposure and credentials").
// They change STATE/api/ on disk; a running serve sees the change on its
// next request.
#include <chrono>
#include <iostream>
#include <memory>

#include "auth/bearer.hpp"
#include "auth/credential_file.hpp"
#include "auth/operator_ca.hpp"
#include "cli/commands.hpp"
#include "kube/secret_files.hpp"

namespace ramfleet::cli {
namespace {

std::int64_t now_unix() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

int fail(const std::string& message) {
  std::cerr << "ramfleet api: " << message << "\n";
  return 1;
}

std::string when(std::int64_t unix) {
  const std::time_t t = unix;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void add_api_command(CLI::App& app, CommandTable& commands) {
  auto* api = app.add_subcommand("api", "Credentials for the operator API (HTTPS, api.listen)");
  api->require_subcommand(1);
  struct Options {
    std::string state = "/var/lib/ramfleet", name, scope = "read", out;
  };
  auto o = std::make_shared<Options>();
  auto scope_option = [&](CLI::App* sub) {
    sub->add_option("--scope", o->scope, "read (GET only) or admin (writes too)")
        ->check(CLI::IsMember({"read", "admin"}))
        ->capture_default_str();
  };
  auto state_option = [&](CLI::App* sub) {
    sub->add_option("--state", o->state, "state directory")->capture_default_str();
  };

  auto* token = api->add_subcommand("token", "Bearer tokens");
  token->require_subcommand(1);
  auto* create = token->add_subcommand("create", "Create a token and print it (once: only its hash is kept)");
  create->add_option("name", o->name, "who holds it (1-64 of A-Z a-z 0-9 . _ -)")->required();
  scope_option(create);
  state_option(create);
  commands.emplace_back(create, [o] {
    const std::string secret = auth::mint_token();
    const auto scope = *auth::parse_scope(o->scope);
    auto err = auth::update_book(o->state, [&](auth::CredentialBook& b) {
      return b.add({auth::CredentialKind::token, o->name, scope, auth::token_digest(secret), now_unix()});
    });
    if (err) return fail(*err);
    std::cout << secret << "\n";
    return 0;
  });

  auto* revoke = token->add_subcommand(
      "revoke", "Revoke every token and client certificate named NAME (a running serve refuses them at once)");
  revoke->add_option("name", o->name, "the credential's name")->required();
  state_option(revoke);
  commands.emplace_back(revoke, [o] {
    bool known = false;
    auto err = auth::update_book(o->state, [&](auth::CredentialBook& b) -> std::optional<std::string> {
      if (!auth::valid_name(o->name)) return "'" + o->name + "' is not a valid name";
      if (b.is_revoked(o->name)) return "'" + o->name + "' is already revoked";
      known = b.revoke(o->name, now_unix());
      return std::nullopt;
    });
    if (err) return fail(*err);
    if (!known) std::cerr << "ramfleet api: no credential named '" << o->name << "' was listed; the name is barred\n";
    std::cout << "revoked " << o->name << "\n";
    return 0;
  });

  auto* list = token->add_subcommand("list", "List credentials (tokens and certificates) and revoked names");
  state_option(list);
  commands.emplace_back(list, [o] {
    try {
      const auto book = auth::load_book(auth::tokens_path(o->state));
      for (const auto& c : book.credentials()) {
        std::cout << auth::to_string(c.kind) << "  " << c.name << "  " << http::to_string(c.scope) << "  created "
                  << when(c.created_unix) << "\n";
      }
      for (const auto& r : book.revocations())
        std::cout << "revoked  " << r.name << "  " << when(r.revoked_unix) << "\n";
    } catch (const std::exception& e) {
      return fail(e.what());
    }
    return 0;
  });

  auto* cert = api->add_subcommand("cert", "Client certificates signed by the operator CA (STATE/api/ca.crt)");
  cert->require_subcommand(1);
  auto* issue = cert->add_subcommand("issue", "Write OUT/NAME.crt, OUT/NAME.key and OUT/ca.crt");
  issue->add_option("name", o->name, "who holds it (the certificate's CN)")->required();
  scope_option(issue);
  state_option(issue);
  issue->add_option("--out", o->out, "directory for the key and certificate")->required();
  commands.emplace_back(issue, [o] {
    try {
      const auto scope = *auth::parse_scope(o->scope);
      const auto ca = auth::ensure_operator_ca(o->state);
      const auto issued = auth::issue_client_cert(ca, o->name, scope, kube::Clock::now());
      auto err = auth::update_book(o->state, [&](auth::CredentialBook& b) {
        return b.add({auth::CredentialKind::cert, o->name, scope, issued.der_digest, now_unix()});
      });
      if (err) return fail(*err);
      const std::filesystem::path out(o->out);
      kube::make_private_dirs(out);
      const auto pub = std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                       std::filesystem::perms::group_read | std::filesystem::perms::others_read;
      kube::write_file_atomic(out / (o->name + ".key"), issued.key);
      kube::write_file_atomic(out / (o->name + ".crt"), issued.cert, pub);
      kube::write_file_atomic(out / "ca.crt", kube::certificate_pem(*ca.cert), pub);
      std::cout << (out / (o->name + ".crt")).string() << "\n" << (out / (o->name + ".key")).string() << "\n";
    } catch (const std::exception& e) {
      return fail(e.what());
    }
    return 0;
  });
}

const CommandRegistration kRegistration{57, add_api_command};
}  // namespace

}  // namespace ramfleet::cli
