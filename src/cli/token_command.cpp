// `ramfleet token create|list|k3s`: join credentials for new nodes.
#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "core/duration.hpp"
#include "kube/pki.hpp"
#include "kube/secret_files.hpp"
#include "kube/tokens.hpp"

namespace ramfleet::cli {

namespace {

void add_token_command(CLI::App& app, CommandTable& commands) {
  auto* token = app.add_subcommand("token", "Bootstrap tokens for joining nodes");
  token->require_subcommand(1);
  struct Options {
    std::string state, ttl = "24h", description;
  };
  auto o = std::make_shared<Options>();

  auto* create = token->add_subcommand("create", "Create a bootstrap token and print it");
  create->add_option("--state", o->state, "state directory")->required();
  create->add_option("--ttl", o->ttl, "lifetime, e.g. 24h, 30m, 7d")->capture_default_str();
  create->add_option("--description", o->description, "why the token exists");
  commands.emplace_back(create, [o] {
    kube::load_cluster_info(o->state);  // refuse to mint tokens for no cluster
    auto ttl = parse_duration(o->ttl, BareUnit::seconds);
    if (!ttl || *ttl < std::chrono::seconds(1)) {
      std::cerr << "ramfleet: error: --ttl \"" << o->ttl << "\" is not a duration like 24h, 30m, 7d or 1h30m\n";
      return 2;
    }
    auto t = kube::TokenStore(o->state).create(std::chrono::duration_cast<std::chrono::seconds>(*ttl),
                                               kube::Clock::now(), o->description);
    std::cout << t.str() << "\n";
    return 0;
  });

  auto* list = token->add_subcommand("list", "List valid tokens (id, expiry) without their secrets");
  list->add_option("--state", o->state, "state directory")->required();
  commands.emplace_back(list, [o] {
    const auto now = kube::Clock::now();
    for (const auto& t : kube::TokenStore(o->state).valid(now)) {
      std::cout << t.id << "  expires in "
                << format_duration(std::chrono::duration_cast<std::chrono::seconds>(t.expires - now)) << "  "
                << t.description << "\n";
    }
    return 0;
  });

  auto* k3s = token->add_subcommand("k3s", "Print the k3s secure join token (K10<CA hash>::server:<secret>)");
  k3s->add_option("--state", o->state, "state directory")->required();
  commands.emplace_back(k3s, [o] {
    std::cout << kube::k3s_token(o->state) << "\n";
    return 0;
  });
}
const CommandRegistration kRegistration{54, add_token_command};
}  // namespace

}  // namespace ramfleet::cli
