#include "boot/outcome.hpp"

namespace ramfleet::boot {

std::string_view to_string(RefusalKind kind) {
  switch (kind) {
    case RefusalKind::not_found:
      return "not_found";
    case RefusalKind::bad_request:
      return "bad_request";
    case RefusalKind::no_identity:
      return "no_identity";
    case RefusalKind::unmatched:
      return "unmatched";
    case RefusalKind::no_config:
      return "no_config";
    case RefusalKind::token_missing:
      return "missing";
    case RefusalKind::token_unknown:
      return "unknown";
    case RefusalKind::token_reused:
      return "reused";
    case RefusalKind::token_expired:
      return "expired";
    case RefusalKind::token_other_machine:
      return "other_machine";
    case RefusalKind::wrong_address:
      return "wrong_address";
    case RefusalKind::awaiting_approval:
      return "awaiting_approval";
    case RefusalKind::name_refused:
      return "name_refused";
    case RefusalKind::rate_limited:
      return "rate_limited";
    case RefusalKind::compile_failed:
      return "compile_failed";
    case RefusalKind::cluster_error:
      return "cluster_error";
    case RefusalKind::etcd_refused:
      return "etcd_refused";
    case RefusalKind::etcd_wait:
      return "etcd_wait";
    case RefusalKind::identity_pending:
      return "identity_pending";
    case RefusalKind::identity_busy:
      return "identity_busy";
  }
  return "?";
}

bool is_token_refusal(RefusalKind kind) {
  switch (kind) {
    case RefusalKind::token_missing:
    case RefusalKind::token_unknown:
    case RefusalKind::token_reused:
    case RefusalKind::token_expired:
    case RefusalKind::token_other_machine:
      return true;
    default:
      return false;
  }
}

}  // namespace ramfleet::boot
