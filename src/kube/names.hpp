#pragma once
// Syntax checks for the names that end up in certificates, file paths and
// Kubernetes objects. Node names double as directory names in the state
// directory, so these checks also keep "../" out of paths.
#include <optional>
#include <string>
#include <string_view>

#include "kube/cluster_spec.hpp"

namespace ramfleet::kube {

// RFC 1123 label: [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63 characters.
[[nodiscard]] bool is_dns_label(std::string_view s);
// RFC 1123 subdomain: dot-separated labels, at most 253 characters (Kubernetes node names).
[[nodiscard]] bool is_dns_subdomain(std::string_view s);
// A DNS name for a certificate SAN: a subdomain, optionally with a leading "*." wildcard.
[[nodiscard]] bool is_san_dns_name(std::string_view s);

// Node-name policy (issue 10): a node's name goes into its kubelet serving
// certificate, its Node object and STATE/nodes/<name>, so a name that
// impersonates the cluster's own endpoints or another member is refused.
// Returns a human reason when `name` must be refused for a node of `role`:
// not a DNS-1123 subdomain, an IPv4 address, "kubernetes" or anything starting
// with it (kubernetes.default, ...), the controlPlaneEndpoint host, an
// apiServer.certSANs entry (a "*.x" entry covers every one-label name under x),
// or an etcd member's name for a worker (a control-plane node may carry its own
// member's name). nullopt: the name is acceptable.
[[nodiscard]] std::optional<std::string> node_name_refusal(const ClusterSpec& spec, std::string_view name, Role role);

}  // namespace ramfleet::kube
