// libFuzzer target: the Authorization header of a node event, which anyone on
// the boot network can send (boot/event_credentials.hpp). The first byte picks
// which machine the event is for; the rest is the header. Invariants (a
// violation aborts): only the machine's own credential of its latest boot is
// accepted, anything else is refused with a reason; nothing but an accepted
// credential changes what the table remembers; the table stays bounded.
// fuzz-options: -max_len=256
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "boot/event_credentials.hpp"

using ramfleet::boot::bearer_credential;
using ramfleet::boot::EventCredentials;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static EventCredentials creds(std::string(EventCredentials::kSecretBytes, 'k'), 4);
  static const std::string current = creds.issue("52:54:00:00:00:01", 1'733'130'000'000);
  static const std::string other = creds.issue("52:54:00:00:00:02", 1'733'130'000'000);
  if (size == 0) return 0;
  const std::string machine = data[0] % 2 == 0 ? "52:54:00:00:00:01" : "52:54:00:00:00:02";
  const std::string_view header(reinterpret_cast<const char*>(data + 1), size - 1);
  const auto credential = bearer_credential(header);
  if (credential.size() > header.size()) std::abort();
  const auto why = creds.check(machine, credential);
  const std::string& own = machine == "52:54:00:00:00:01" ? current : other;
  if (!why && credential != own) std::abort();  // an HMAC forgery, or an earlier boot accepted
  if (why && credential == own) std::abort();   // the machine's own credential refused
  if (creds.size() > creds.capacity()) std::abort();
  return 0;
}
