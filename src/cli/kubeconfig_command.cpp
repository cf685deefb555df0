// `ramfleet kubeconfig`: the admin kubeconfig to stdout, for
// `ramfleet kubeconfig --state S > ~/.kube/config`.
#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "kube/pki.hpp"
#include "kube/secret_files.hpp"

namespace ramfleet::cli {

namespace {
void add_kubeconfig_command(CLI::App& app, CommandTable& commands) {
  auto* sub = app.add_subcommand("kubeconfig", "Print the cluster's admin kubeconfig to stdout");
  auto state = std::make_shared<std::string>();
  auto super = std::make_shared<bool>(false);
  sub->add_option("--state", *state, "state directory")->required();
  sub->add_flag("--super-admin", *super, "the break-glass system:masters kubeconfig (kubeadm >= 1.29)");
  commands.emplace_back(sub, [state, super] {
    const auto file = std::filesystem::path(*state) / (*super ? kube::paths::kSuperAdminConf : kube::paths::kAdminConf);
    auto text = kube::read_file(file);
    if (!text) {
      std::cerr << "ramfleet: error: no " << file.string() << "; run `ramfleet cluster init` first\n";
      return 1;
    }
    std::cout << *text;
    return 0;
  });
}
const CommandRegistration kRegistration{52, add_kubeconfig_command};
}  // namespace

}  // namespace ramfleet::cli
