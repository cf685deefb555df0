#pragma once
// Why the boot layer refuses a request, as a type: the transport maps each
// kind to its own answer (http/: a status code) and the message says what to
// do about it. Every refusal is logged and counted by whoever maps it.
#include <string>
#include <string_view>

namespace ramfleet::boot {

enum class RefusalKind {
  not_found,            // no such config target
  bad_request,          // malformed facts or path segments
  no_identity,          // neither mac= nor uuid=
  unmatched,            // the inventory does not know this machine
  no_config,            // its profile serves no config of this target
  token_missing,        // a secret-bearing config asked for without a boot token
  token_unknown,        // never issued, or forgotten
  token_reused,         // already redeemed
  token_expired,        // issued, unused, past its lifetime
  token_other_machine,  // issued to another machine
  wrong_address,        // the requester is not the address this machine's boot is bound to
  awaiting_approval,    // a control-plane member the operator has not approved yet
  name_refused,         // the node name collides with a cluster name (API endpoint, SANs ...)
  rate_limited,         // too many boot tokens minted for this address lately
  compile_failed,       // the config (or its layer paths) does not compile
  cluster_error,        // cluster.yaml or STATE cannot give this machine its files
  etcd_refused,         // etcd membership: acting would be wrong (a healthy member, quorum loss)
  etcd_wait,            // etcd membership: not now, ask again shortly (503, Retry-After)
  identity_pending,     // the node's identity is being issued off the loop: wait for it, or 503 + Retry-After
  identity_busy,        // the identity workers' queue is full: 503 + Retry-After, nothing queued
};

std::string_view to_string(RefusalKind kind);
// True for the kinds about the boot token itself (token_missing ... token_other_machine).
bool is_token_refusal(RefusalKind kind);

struct Refusal {
  RefusalKind kind;
  std::string message;
};

}  // namespace ramfleet::boot
