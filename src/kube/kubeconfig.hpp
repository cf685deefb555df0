#pragma once
// kubeconfig files with embedded credentials, in the shape kubeadm writes
// (one cluster, one user, one context "<user>@<cluster>").
#include <string>

namespace ramfleet::kube {

struct KubeconfigParams {
  std::string cluster_name;
  std::string server;  // https://host:port
  std::string ca_pem;
  std::string user;
  std::string client_cert_pem;
  std::string client_key_pem;
};

std::string render_kubeconfig(const KubeconfigParams& p);

}  // namespace ramfleet::kube
