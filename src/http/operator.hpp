#pragma once
// Who is calling the operator API (docs/operations.md). The operator
// listener's transport authenticates every request (bearer token or client
// certificate) before it reaches the router, and sets Request::caller; on the
// boot listener it is always empty. Handlers that change state check the
// scope and log the caller's name with every write.
#include <string>
#include <string_view>

namespace ramfleet::http {

enum class Scope { read, admin };

inline std::string_view to_string(Scope s) { return s == Scope::admin ? "admin" : "read"; }

struct Operator {
  std::string name;  // the token's or the certificate's name, for logs and audit
  Scope scope = Scope::read;
  [[nodiscard]] bool may_write() const { return scope == Scope::admin; }
};

}  // namespace ramfleet::http
