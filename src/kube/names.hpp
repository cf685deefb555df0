#pragma once
// Syntax checks for the names that end up in certificates, file paths and
// Kubernetes objects. Node names double as directory names in the state
// directory, so these checks also keep "../" out of paths.
#include <string_view>

namespace ramfleet::kube {

// RFC 1123 label: [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63 characters.
[[nodiscard]] bool is_dns_label(std::string_view s);
// RFC 1123 subdomain: dot-separated labels, at most 253 characters (Kubernetes node names).
[[nodiscard]] bool is_dns_subdomain(std::string_view s);
// A DNS name for a certificate SAN: a subdomain, optionally with a leading "*." wildcard.
[[nodiscard]] bool is_san_dns_name(std::string_view s);

}  // namespace ramfleet::kube
