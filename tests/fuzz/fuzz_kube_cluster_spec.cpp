// libFuzzer target: cluster.yaml (kube::parse_cluster_spec). Invariants: no
// exception escapes (every problem is a Diagnostic); a spec is returned
// exactly when there is no error.
// fuzz-options: -max_len=8192 -runs=50000
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "kube/cluster_spec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto r = ramfleet::kube::parse_cluster_spec({reinterpret_cast<const char*>(data), size}, "cluster.yaml");
  if (r.spec.has_value() == ramfleet::has_errors(r.diagnostics)) std::abort();
  return 0;
}
